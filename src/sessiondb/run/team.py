"""A team run (``TeamRunOutput``) with its nested member runs."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from sessiondb.run.agent import RunInput, RunOutput, _ModelRun


class TeamRunInput(RunInput):
    """What a team run was asked."""


class TeamRunOutput(_ModelRun):
    """One run of a team. ``member_responses`` holds the full runs of the members it delegated to."""

    _custom_fields = _ModelRun._custom_fields | {"member_responses"}

    team_id: str | None = None
    team_name: str | None = None
    input: TeamRunInput | None = None
    member_responses: list[TeamRunOutput | RunOutput] = Field(default_factory=list)

    @field_validator("member_responses", mode="before")
    @classmethod
    def _classify_members(cls, value: Any) -> Any:
        # A stored member run is a team run when it carries ``team_id``, else an agent run.
        if not isinstance(value, list):
            return value
        return [classify_member(item) for item in value]

    def _dump_extra(self, data: dict[str, Any]) -> None:
        super()._dump_extra(data)
        if self.member_responses:
            data["member_responses"] = [member.to_dict() for member in self.member_responses]
        if self.input is not None:
            data["input"] = self.input.to_dict()


def member_class(item: dict[str, Any]) -> type[TeamRunOutput] | type[RunOutput]:
    """The class of a stored member-run dict: a team run when it carries ``team_id``."""
    return TeamRunOutput if "team_id" in item else RunOutput


def classify_member(item: Any) -> Any:
    """Turn a stored member-run dict into a ``TeamRunOutput`` or ``RunOutput``."""
    if isinstance(item, dict):
        return member_class(item).from_dict(item)
    return item


__all__ = ["TeamRunInput", "TeamRunOutput", "member_class"]

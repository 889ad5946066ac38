"""What agent, team and workflow sessions share: identity, blobs, runs and store bookkeeping."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, Literal, Self

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    field_serializer,
    field_validator,
)

from sessiondb.session._runs import QuietRuns, RunList, Stored, run_objects

logger = logging.getLogger(__name__)

SessionType = Literal["agent", "team", "workflow"]


class StoreToken:
    """The identity of one store instance, recorded on every session object it loads or saves.

    Compared by identity: what a session object knows about stored runs holds only for the
    store that loaded or saved it, and a session saved into another store is new there.
    Copies of a session (``copy``, ``deepcopy``, ``model_copy``) keep the token; a pickled
    one does not (it may be unpickled anywhere), so it counts as new everywhere.
    """

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        """A new identity; ``where`` says which database and table, for messages only."""
        self.where = where

    def __copy__(self) -> StoreToken:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> StoreToken:
        return self

    def __repr__(self) -> str:
        return f"StoreToken({self.where!r})"


@dataclass(slots=True)
class StoreState:
    """What the store knows about one session object: its bookkeeping, never serialised.

    One record rather than five private attributes: pydantic initialises each private
    attribute of every session it builds, and a listing builds twenty per request.
    """

    version: int | None = None
    """The stored version the object was loaded at or last saved as; ``None`` if never stored."""
    stored_runs: dict[str, str] = field(default_factory=dict)
    """``run_id`` → the JSON text the store holds for each run loaded or saved."""
    dirty_run_ids: set[str] = field(default_factory=set)
    """Runs changed through ``upsert_run``/``mark_run_changed`` since the load or save."""
    runs_complete: bool = True
    """False when the store loaded only some runs (``runs_limit``, or a listing)."""
    stored_name: str = ""
    """The value of the stored name column."""
    store: StoreToken | None = None
    """The store this bookkeeping is about (the one that loaded or last saved the object)."""
    saved_fields: str | None = None
    """The session's fields (all but its runs) as that store last wrote them, encoded by it."""


class BaseSession(BaseModel):
    """Fields and store bookkeeping common to every session type.

    The store fills the private attributes when it loads a session, so that saving it again
    writes only the runs that are new or changed since the load. ``runs`` is a
    :class:`~sessiondb.session._runs.RunList`, which notes the runs the caller reaches so that
    a save compares only those with their stored text (see ``SessionStore.upsert_session``).
    """

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, validate_default=False)

    session_type: ClassVar[SessionType]

    session_id: str
    workflow_id: str | None = None
    user_id: str | None = None
    session_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    runs: list[Any] | None = None
    created_at: int | None = None
    updated_at: int | None = None

    # Store bookkeeping, never serialised (see sessiondb.db._tracking).
    _store_state: StoreState = PrivateAttr(default_factory=StoreState)

    # -- store bookkeeping -------------------------------------------------------------------

    @property
    def _state(self) -> StoreState:
        # The private attribute read straight from pydantic's storage: ``self._store_state``
        # first fails ordinary attribute lookup, then goes through ``BaseModel.__getattr__``,
        # which costs more than the work of a session's list item.
        private = self.__pydantic_private__
        assert private is not None  # pydantic fills it whenever a session is built
        state: StoreState = private["_store_state"]
        return state

    @property
    def version(self) -> int | None:
        """The stored version this object was loaded at or last saved as; ``None`` if never stored."""
        return self._state.version

    @property
    def runs_complete(self) -> bool:
        """False when the store loaded only the newest runs (``runs_limit``)."""
        return self._state.runs_complete

    def mark_run_changed(self, run_id: str) -> None:
        """Tell the store that a run was changed in place and must be written on the next save.

        Needed only for a change the session cannot see: one made through a message or tool
        call handed out by ``get_messages``, ``get_chat_history`` or ``get_tool_calls``, or
        through a part of a run (a message, say) kept across a save without the run itself.
        """
        self._state.dirty_run_ids.add(run_id)

    # -- shared run helpers ------------------------------------------------------------------

    def upsert_run(self, run: Any) -> None:
        """Replace the run with the same ``run_id`` in place, or append it (spec §2.1)."""
        for message in run.messages or []:
            message.metrics.timer = None
        runs = self.runs
        if runs is None:
            runs = self.runs = RunList()
        index = _position(runs, run.run_id)
        if index is None:
            runs.append(run)
        else:
            existing = runs.decoded_at(index) if isinstance(runs, RunList) else runs[index]
            if getattr(existing, "queue_attempt", None) is not None and run.queue_attempt is None:
                run.queue_attempt = existing.queue_attempt
            if isinstance(runs, RunList):
                runs.replace(index, run)
            else:
                runs[index] = run
        self._state.dirty_run_ids.add(run.run_id)

    def get_run(self, run_id: str) -> Any | None:
        """Return the run with ``run_id``, or ``None``."""
        runs = self.runs
        if not runs:
            return None
        index = _position(runs, run_id)
        return None if index is None else runs[index]

    def get_tool_calls(self, num_calls: int | None = None) -> list[dict[str, Any]]:
        """The tool calls the model made, newest run first (spec §2.7).

        Runs are walked from the newest; within a run, messages and their ``tool_calls`` keep
        their order.

        Args:
            num_calls: stop after this many calls; ``None`` (or 0) collects them all.

        Returns:
            The tool-call dicts in OpenAI shape, as stored (not copies).
        """
        calls: list[dict[str, Any]] = []
        for run in reversed(QuietRuns(self.runs)):
            for message in run.messages or ():
                for call in message.tool_calls or ():
                    calls.append(call)
                    if num_calls and len(calls) >= num_calls:
                        return calls
        return calls

    def get_session_summary(self) -> Any | None:
        """Return the session summary, or ``None`` (workflow sessions have none)."""
        return getattr(self, "summary", None)

    def get_session_name(self) -> str:
        """The explicit name, else the name derived from the first run (spec §4), else ``""``."""
        from sessiondb.session.naming import derive_session_name

        return derive_session_name(self) or self._state.stored_name

    # -- serialisation -----------------------------------------------------------------------

    def to_dict(self, include_runs: bool = True) -> dict[str, Any]:
        """Serialise to plain JSON types. There is no ``session_type`` key (spec §2.8).

        Args:
            include_runs: when False, ``runs`` is left out (the 3.x parameter).
        """
        data = self.model_dump(mode="json", exclude={"runs", "summary"})
        summary = getattr(self, "summary", None)
        if "summary" in type(self).model_fields:
            data["summary"] = summary.to_dict() if summary is not None else None
        if include_runs:
            # run_objects decodes lazy runs all at once (the garbage collector paused).
            data["runs"] = (
                [run.to_dict() for run in run_objects(self.runs)] if self.runs is not None else None
            )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self | None:
        """Build a session from a dict; ``None`` with a warning when ``session_id`` is missing.

        Run dicts become run objects of the class their keys call for (see ``_runs_from_dicts``);
        unknown keys are ignored.

        Raises:
            pydantic.ValidationError: when a field (a run's field included) has the wrong type.
        """
        if not isinstance(data, dict) or not data.get("session_id"):
            logger.warning("session dict has no session_id; nothing to load")
            return None
        return cls.model_validate(data)

    @field_validator("runs", mode="before")
    @classmethod
    def _classify_runs(cls, value: Any) -> Any:
        # Stored runs are dicts; each session type decides which run class a dict is. A value
        # that is not a list is left for pydantic to reject with a clear error.
        if isinstance(value, list):
            return cls._runs_from_dicts(value)
        return value

    @field_validator("runs", mode="after")
    @classmethod
    def _track_runs(cls, value: Any) -> Any:
        # A list that notes the runs the caller reaches (see sessiondb.session._runs).
        return RunList(value) if isinstance(value, list) else value

    @field_serializer("runs", mode="wrap")
    def _dump_runs(self, value: Any, handler: SerializerFunctionWrapHandler) -> Any:
        # pydantic-core reads a list's items below Python's list methods: lazy runs are
        # decoded first, so model_dump() of a lazily loaded session dumps runs, not slots.
        if isinstance(value, RunList):
            value.decode_all()
        return handler(value)

    @classmethod
    def _lazy_runs(cls, stored: Iterable[tuple[str, str]]) -> RunList:
        """Runs not decoded yet (see :mod:`sessiondb.session._runs`) from ``(run_id, JSON text)``.

        Each is decoded, when first read, exactly as :meth:`_runs_from_texts` decodes it; a
        text that this session type drops (:meth:`_run_class` gives ``None``) gets no slot.
        """
        markers = [f'"{key}"' for key in cls._run_class_keys]
        plain_class = cls._run_class({})
        # The builder of a text that names none of the keys, looked up once (as in _runs_from_texts).
        plain = None if plain_class is None else plain_class.model_validate_json
        slots: list[Stored] = []
        for run_id, text in stored:
            build = cls._run_builder(text) if _may_name(text, markers) else plain
            if build is not None:
                slots.append(Stored(run_id, text, build))
        return RunList.stored(slots)

    @classmethod
    def _run_builder(cls, text: str) -> Callable[[str], Any] | None:
        """What builds the run stored as ``text``, as :meth:`_runs_from_texts` would; ``None``
        when this session type drops it. Parses the text only when its class depends on it."""
        if _may_name(text, [f'"{key}"' for key in cls._run_class_keys]):
            run_class = cls._run_class(orjson.loads(text))
            return None if run_class is None else partial(_from_json_dict, run_class)
        plain_class = cls._run_class({})
        return None if plain_class is None else plain_class.model_validate_json

    _run_class_keys: ClassVar[tuple[str, ...]] = ()
    """The keys of a stored run dict that :meth:`_run_class` looks at (see :meth:`_runs_from_texts`)."""

    @classmethod
    def _run_class(cls, run: dict[str, Any]) -> type[Any] | None:
        """The run class a stored run dict of this session type becomes; ``None`` drops it."""
        raise NotImplementedError

    @classmethod
    def _runs_from_texts(cls, texts: Iterable[str]) -> list[Any]:
        """Build run objects from stored run JSON, exactly as :meth:`_runs_from_dicts` of the
        parsed dicts would.

        When none of :attr:`_run_class_keys` appears in a text as a quoted string (and the text
        has no ``\\u`` escape that could spell one), no dict of it has those keys at its top
        level, so its class is the one a dict without them gets, and pydantic validates straight
        from the text (no intermediate dicts): 12-18% less time per 2 KB run than parsing it to a
        dict and validating that. Any other text is parsed, and its dict decides.
        """
        markers = [f'"{key}"' for key in cls._run_class_keys]
        plain_class = cls._run_class({})
        built: list[Any] = []
        for text in texts:
            if "\\u" in text or any(marker in text for marker in markers):
                built.extend(cls._runs_from_dicts([orjson.loads(text)]))
            elif plain_class is not None:
                built.append(plain_class.model_validate_json(text))
        return built

    @classmethod
    def _runs_from_dicts(cls, runs: list[Any]) -> list[Any]:
        """Turn stored run dicts into run objects; other items are passed on unchanged.

        Anything that is not a dict is left for pydantic to accept (a run) or reject.
        """
        built: list[Any] = []
        for run in runs:
            if not isinstance(run, dict):
                built.append(run)
                continue
            run_class = cls._run_class(run)
            if run_class is not None:
                built.append(run_class.from_dict(run))
        return built


def _may_name(text: str, markers: list[str]) -> bool:
    """Whether a stored run's ``text`` may have one of the quoted keys ``markers`` at some level:
    it spells one, or has a ``\\u`` escape that could spell one."""
    if "\\u" in text:
        return True
    for marker in markers:
        if marker in text:
            return True
    return False


def _from_json_dict(run_class: Any, text: str) -> Any:
    """A run of ``run_class`` from its stored JSON text, through the dict (``from_dict``)."""
    return run_class.from_dict(orjson.loads(text))


def _position(runs: list[Any], run_id: str) -> int | None:
    """Where the run with ``run_id`` is in ``runs`` (the first one), or ``None``; notes nothing."""
    if isinstance(runs, RunList):
        return runs.index_of(run_id)
    for index, run in enumerate(runs):
        if run.run_id == run_id:
            return index
    return None

"""The agents, teams and workflows a server hosts, and the stores they bring with them.

``create_app(agents=..., teams=..., workflows=...)`` builds a :class:`RuntimeRegistry`; the
run endpoints look runtimes up in it by id. A runtime's ``db`` is served by the sessions API
too (see :func:`served_stores`), so a run made through ``POST /agents/{id}/runs`` is visible
at ``GET /sessions``. A runtime without a ``db`` keeps its sessions in its private in-memory
store, which is not served.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from fastapi import HTTPException, status

from sessiondb.agent import Agent
from sessiondb.api.registry import StoresArg
from sessiondb.api.schemas.runtimes import AgentSummary, ModelSummary, TeamSummary, WorkflowSummary
from sessiondb.db.base import SessionStore
from sessiondb.models.base import Model
from sessiondb.team import Team
from sessiondb.workflow import Workflow
from sessiondb.workflow.step import as_step

RuntimeKind = Literal["agents", "teams", "workflows"]
"""The collection a runtime is served under; also the resource part of its scopes."""

Runtime = Agent | Team | Workflow

_NOUN: dict[RuntimeKind, str] = {"agents": "Agent", "teams": "Team", "workflows": "Workflow"}


class RuntimeRegistry:
    """Runtimes by kind and id, in registration order."""

    def __init__(
        self,
        *,
        agents: Sequence[Agent] = (),
        teams: Sequence[Team] = (),
        workflows: Sequence[Workflow] = (),
    ) -> None:
        """Index the runtimes by id.

        Raises:
            ValueError: a runtime is of the wrong class for its list, or two of one kind share an id.
        """
        self._by_kind: dict[RuntimeKind, dict[str, Runtime]] = {}
        given: dict[RuntimeKind, tuple[Sequence[Runtime], type]] = {
            "agents": (agents, Agent),
            "teams": (teams, Team),
            "workflows": (workflows, Workflow),
        }
        for kind, (runtimes, cls) in given.items():
            found: dict[str, Runtime] = {}
            for runtime in runtimes:
                if not isinstance(runtime, cls):
                    raise ValueError(
                        f"{kind}= must hold {cls.__name__} objects, not {type(runtime).__name__}"
                    )
                runtime_id = str(runtime.id)
                if runtime_id in found:
                    raise ValueError(f"two {kind} share the id {runtime_id!r}; give each a distinct id")
                found[runtime_id] = runtime
            self._by_kind[kind] = found

    def all(self, kind: RuntimeKind) -> list[Runtime]:
        """Every runtime of ``kind``."""
        return list(self._by_kind[kind].values())

    def get(self, kind: RuntimeKind, runtime_id: str) -> Runtime:
        """The runtime of ``kind`` with ``runtime_id``.

        Raises:
            HTTPException: 404 ("Agent not found", as AgentOS says) when there is none.
        """
        runtime = self._by_kind[kind].get(runtime_id)
        if runtime is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"{_NOUN[kind]} not found")
        return runtime

    def stores(self) -> list[SessionStore]:
        """The distinct stores the runtimes (members and steps included) write to."""
        stores: list[SessionStore] = []
        for runtimes in self._by_kind.values():
            for runtime in runtimes.values():
                for store in _stores_of(runtime):
                    if not any(store is known for known in stores):
                        stores.append(store)
        return stores


def _stores_of(runtime: Runtime) -> Iterable[SessionStore]:
    # Members and steps never write their own sessions (the parent does), but a member
    # hosted on its own elsewhere may carry a db; serving it too is harmless and expected.
    if runtime.db is not None:
        yield runtime.db
    if isinstance(runtime, Team):
        for member in runtime.members:
            yield from _stores_of(member)
    if isinstance(runtime, Workflow):
        for step in runtime.steps:
            hosted = as_step(step)
            inner = hosted.agent if hosted.agent is not None else hosted.team
            if inner is not None:
                yield from _stores_of(inner)


def served_stores(dbs: StoresArg | None, runtimes: RuntimeRegistry) -> StoresArg:
    """``dbs`` plus every runtime store not already in it (compared by identity).

    Raises:
        ValueError: ``dbs`` is a mapping and a runtime's store has the id of another store in
            it; list that store in ``dbs`` (under the id you want) to resolve the clash.
    """
    if isinstance(dbs, Mapping):
        merged: dict[str, SessionStore] = dict(dbs)
        for store in runtimes.stores():
            if any(store is known for known in merged.values()):
                continue
            if store.id in merged:
                raise ValueError(
                    f"a runtime's store has db_id {store.id!r}, already used in dbs=; "
                    "add that store to dbs= under the id it should be served as"
                )
            merged[store.id] = store
        return merged
    if dbs is None:
        listed: list[SessionStore] = []
    elif isinstance(dbs, SessionStore):
        listed = [dbs]
    else:
        listed = list(dbs)
    extra = [store for store in runtimes.stores() if not any(store is known for known in listed)]
    return [*listed, *extra]


# -- descriptions ----------------------------------------------------------------------------


def _model(model: Model | None) -> ModelSummary | None:
    if model is None:
        return None
    return ModelSummary(name=model.name, model=model.id, provider=model.provider)


def _db_id(runtime: Runtime) -> str | None:
    return runtime.db.id if runtime.db is not None else None


def _session_settings(runtime: Agent | Team) -> dict[str, Any]:
    return {
        "add_history_to_context": runtime.add_history_to_context,
        "num_history_runs": runtime.num_history_runs,
        "num_history_messages": runtime.num_history_messages,
        "enable_session_summaries": runtime.session_summary_manager is not None,
        "cache_session": runtime.cache_session,
    }


def describe_agent(agent: Agent) -> AgentSummary:
    """What ``GET /agents`` says about ``agent``."""
    return AgentSummary(
        id=str(agent.id),
        name=agent.name,
        db_id=_db_id(agent),
        description=agent.description,
        role=agent.role,
        model=_model(agent.model),
        sessions=_session_settings(agent),
        metadata=agent.metadata,
    )


def describe_team(team: Team) -> TeamSummary:
    """What ``GET /teams`` says about ``team``, its members included."""
    return TeamSummary(
        id=str(team.id),
        name=team.name,
        db_id=_db_id(team),
        description=team.description,
        role=team.role,
        model=_model(team.model),
        sessions=_session_settings(team),
        members=[describe_team(m) if isinstance(m, Team) else describe_agent(m) for m in team.members],
        metadata=team.metadata,
    )


def describe_workflow(workflow: Workflow) -> WorkflowSummary:
    """What ``GET /workflows`` says about ``workflow``."""
    return WorkflowSummary(
        id=str(workflow.id),
        name=workflow.name,
        db_id=_db_id(workflow),
        description=workflow.description,
        steps=[as_step(step).to_dict() for step in workflow.steps],
        metadata=workflow.metadata,
    )


def describe(runtime: Runtime) -> dict[str, Any]:
    """The JSON description of any runtime (``None`` fields left out)."""
    if isinstance(runtime, Team):
        summary: AgentSummary | TeamSummary | WorkflowSummary = describe_team(runtime)
    elif isinstance(runtime, Workflow):
        summary = describe_workflow(runtime)
    else:
        summary = describe_agent(runtime)
    return summary.model_dump(mode="json", exclude_none=True)


__all__ = [
    "Runtime",
    "RuntimeKind",
    "RuntimeRegistry",
    "describe",
    "describe_agent",
    "describe_team",
    "describe_workflow",
    "served_stores",
]

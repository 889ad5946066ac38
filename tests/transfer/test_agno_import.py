"""Moving in from Agno: a database written by ``agno`` itself, imported whole, answers as Agno does.

The source databases are written with Agno 3.1's own ``SqliteDb``/``PostgresDb`` and session
classes (sessions table plus runs table). Agno 3.1 cannot write 2.x's layout (runs as a JSON
list in the session row), so those rows are made by hand here from Agno's own ``to_dict``, per
the table description of the compatibility spec (§3.3).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from agno.db.base import SessionType
from agno.db.postgres import PostgresDb as AgnoPostgresDb
from agno.db.sqlite import SqliteDb as AgnoSqliteDb
from agno.models.message import Message as AgnoMessage
from agno.run.agent import RunOutput as AgnoRunOutput
from agno.run.team import TeamRunOutput as AgnoTeamRunOutput
from agno.run.workflow import WorkflowRunOutput as AgnoWorkflowRunOutput
from agno.session import AgentSession as AgnoAgentSession
from agno.session import TeamSession as AgnoTeamSession
from agno.session import WorkflowSession as AgnoWorkflowSession
from agno.session.summary import SessionSummary as AgnoSummary

from sessiondb.db.base import SessionStore
from sessiondb.db.transfer import ExportFilter
from sessiondb.run import Message
from sessiondb.transfer.agno import AgnoSourceError, agno_sessions
from sessiondb.transfer.importer import import_sessions
from store_backends import PG_URL, postgres_schema

AGNO_TYPES = {"agent": SessionType.AGENT, "team": SessionType.TEAM, "workflow": SessionType.WORKFLOW}


def _messages(run_id: str, text: str) -> list[AgnoMessage]:
    return [
        AgnoMessage(id=f"{run_id}-m0", role="user", content=text, created_at=1_700_000_000),
        AgnoMessage(id=f"{run_id}-m1", role="assistant", content=text.upper(), created_at=1_700_000_000),
    ]


def agno_sessions_to_write() -> list[tuple[Any, list[Any]]]:
    """Agno sessions of each type with their runs: state, metadata, summaries, child and
    cancelled runs (history leaves those out), team member runs."""
    written: list[tuple[Any, list[Any]]] = []
    for k in range(3):
        session_id = f"agent-{k}"
        runs = [
            AgnoRunOutput(
                run_id=f"{session_id}-r{i}",
                session_id=session_id,
                agent_id="agent-1",
                user_id="alice",
                status="COMPLETED",
                messages=_messages(f"{session_id}-r{i}", f"hello {k}.{i}"),
                created_at=1_700_000_000 + i,
            )
            for i in range(k + 2)
        ]
        runs.append(
            AgnoRunOutput(
                run_id=f"{session_id}-child",
                session_id=session_id,
                agent_id="agent-1",
                status="COMPLETED",
                parent_run_id=f"{session_id}-r0",
                messages=_messages(f"{session_id}-child", "tool"),
            )
        )
        runs.append(
            AgnoRunOutput(
                run_id=f"{session_id}-cancelled",
                session_id=session_id,
                agent_id="agent-1",
                status="CANCELLED",
                messages=_messages(f"{session_id}-cancelled", "stop"),
            )
        )
        session = AgnoAgentSession(
            session_id=session_id,
            agent_id="agent-1",
            user_id="alice",
            session_data={"session_state": {"k": k}, "session_name": f"Chat {k}"},
            metadata={"source": "agno", "k": k},
            summary=AgnoSummary(summary=f"summary {k}", topics=["t"]),
            runs=runs,
            created_at=1_700_000_000 + k,
        )
        written.append((session, runs))
    lead = AgnoTeamRunOutput(
        run_id="team-r0",
        session_id="team-0",
        team_id="team-1",
        status="COMPLETED",
        messages=_messages("team-r0", "team question"),
    )
    member = AgnoRunOutput(
        run_id="team-m0",
        session_id="team-0",
        agent_id="member-1",
        parent_run_id="team-r0",
        status="COMPLETED",
        messages=_messages("team-m0", "member work"),
    )
    team = AgnoTeamSession(
        session_id="team-0",
        team_id="team-1",
        user_id="bob",
        runs=[lead, member],
        summary=AgnoSummary(summary="team summary"),
        metadata={"team": True},
        created_at=1_700_000_100,
    )
    written.append((team, [lead, member]))
    flow_run = AgnoWorkflowRunOutput(
        run_id="flow-r0",
        session_id="flow-0",
        workflow_id="wf-1",
        input="plan",
        content="planned",
        status="COMPLETED",
    )
    flow = AgnoWorkflowSession(
        session_id="flow-0",
        workflow_id="wf-1",
        user_id="bob",
        runs=[flow_run],
        session_data={"session_state": {}},
        created_at=1_700_000_200,
    )
    written.append((flow, [flow_run]))
    return written


def _write(db: Any) -> list[str]:
    ids = []
    for session, runs in agno_sessions_to_write():
        db.upsert_session(session)
        for run in runs:
            db.upsert_run(run, session_id=session.session_id, user_id=session.user_id)
        ids.append(session.session_id)
    return ids


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def agno_source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any, list[str]]]:
    """An Agno database written by Agno 3.1: its URL for the importer, Agno's db, the session ids."""
    if request.param == "sqlite":
        path = tmp_path / "agno.db"
        db = AgnoSqliteDb(db_file=str(path))
        yield str(path), db, _write(db)
        return
    with postgres_schema("agno") as schema:
        db = AgnoPostgresDb(db_url=PG_URL, db_schema=schema)
        try:
            yield f"{PG_URL}?schema={schema}", db, _write(db)
        finally:
            db.db_engine.dispose()


def _same_messages(ours: list[Message], theirs: list[AgnoMessage]) -> None:
    # Agno's to_dict leaves out fields at their defaults; read back as sessiondb messages they
    # must be the same messages.
    assert [m.to_dict() for m in ours] == [Message.from_dict(m.to_dict()).to_dict() for m in theirs]


def _check_answers(store: SessionStore, agno_db: Any, ids: list[str]) -> None:
    for session_id in ids:
        ours = store.get_session(session_id)
        theirs = agno_db.get_session(session_id, session_type=AGNO_TYPES[ours.session_type])
        assert [run.run_id for run in ours.runs or []] == [run.run_id for run in theirs.runs or []]
        if ours.session_type == "workflow":
            pairs = [(item.input, item.output) for item in theirs.get_chat_history()]
            assert [(item.input, item.output) for item in ours.get_chat_history()] == pairs
            _same_messages(ours.get_messages(agent_id="agent-1"), theirs.get_messages(agent_id="agent-1"))
        else:
            _same_messages(ours.get_messages(), theirs.get_messages())
            _same_messages(ours.get_chat_history(), theirs.get_chat_history())
            _same_messages(ours.get_messages(last_n_runs=1), theirs.get_messages(last_n_runs=1))
        assert ours.session_data == theirs.session_data
        assert ours.metadata == theirs.metadata
        assert ours.user_id == theirs.user_id and ours.created_at == theirs.created_at
        summary = ours.get_session_summary()
        their_summary = theirs.get_session_summary() if hasattr(theirs, "get_session_summary") else None
        assert (summary.to_dict() if summary else None) == (
            their_summary.to_dict() if their_summary else None
        )
        assert ours.get_session_name() == (theirs.session_data or {}).get(
            "session_name", ours.get_session_name()
        )


def test_an_agno_database_is_imported_whole(
    store: SessionStore, agno_source: tuple[str, Any, list[str]]
) -> None:
    url, agno_db, ids = agno_source
    report = import_sessions(store, agno_sessions(url))
    assert report.created == len(ids)
    assert report.runs_written == sum(len(runs) for _, runs in agno_sessions_to_write())
    assert [e.session.session_id for e in store.export_sessions(ExportFilter(), limit=100)] == sorted(ids)
    _check_answers(store, agno_db, ids)
    # Importing it again changes nothing.
    again = import_sessions(store, agno_sessions(url))
    assert (again.unchanged, again.created, again.runs_written) == (len(ids), 0, 0)


def _legacy_table(engine: sqlalchemy.Engine) -> None:
    """Agno 2.x's sessions table (runs in the row), filled from Agno's own session dicts."""
    metadata = sqlalchemy.MetaData()
    json = sqlalchemy.JSON
    sessions = sqlalchemy.Table(
        "agno_sessions",
        metadata,
        sqlalchemy.Column("session_id", sqlalchemy.String, primary_key=True),
        sqlalchemy.Column("session_type", sqlalchemy.String, nullable=False),
        *(
            sqlalchemy.Column(name, sqlalchemy.String)
            for name in ("agent_id", "team_id", "workflow_id", "user_id")
        ),
        *(
            sqlalchemy.Column(name, json)
            for name in (
                "session_data",
                "agent_data",
                "team_data",
                "workflow_data",
                "metadata",
                "runs",
                "summary",
            )
        ),
        sqlalchemy.Column("created_at", sqlalchemy.BigInteger, nullable=False),
        sqlalchemy.Column("updated_at", sqlalchemy.BigInteger),
    )
    metadata.create_all(engine)
    kinds = {AgnoAgentSession: "agent", AgnoTeamSession: "team", AgnoWorkflowSession: "workflow"}
    with engine.begin() as conn:
        for session, _ in agno_sessions_to_write():
            row = session.to_dict()
            row["session_type"] = kinds[type(session)]
            row["created_at"] = row.get("created_at") or 1_700_000_000
            conn.execute(sessions.insert().values({c.name: row.get(c.name) for c in sessions.c}))


def test_agno_2x_layout_runs_in_the_session_row(store: SessionStore, tmp_path: Path) -> None:
    path = tmp_path / "agno2.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    _legacy_table(engine)
    engine.dispose()
    report = import_sessions(store, agno_sessions(str(path)))
    written = agno_sessions_to_write()
    assert report.created == len(written)
    for session, runs in written:
        ours = store.get_session(session.session_id)
        assert [run.run_id for run in ours.runs or []] == [run.run_id for run in runs]
        theirs = type(session).from_dict(session.to_dict())
        if ours.session_type != "workflow":
            _same_messages(ours.get_messages(), theirs.get_messages())


def test_a_migrated_database_prefers_the_runs_table(store: SessionStore, tmp_path: Path) -> None:
    path = tmp_path / "migrated.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    _legacy_table(engine)
    engine.dispose()
    # Agno 3.1 opens the 2.x table as it is and adds its runs table; a run written there now
    # replaces the blob's copy, and a new run comes after the blob's runs.
    db = AgnoSqliteDb(db_file=str(path))
    changed = AgnoRunOutput(
        run_id="agent-0-r0",
        session_id="agent-0",
        agent_id="agent-1",
        user_id="alice",
        status="COMPLETED",
        messages=_messages("agent-0-r0", "edited"),
    )
    extra = AgnoRunOutput(
        run_id="agent-0-new",
        session_id="agent-0",
        agent_id="agent-1",
        user_id="alice",
        status="COMPLETED",
        messages=_messages("agent-0-new", "newest"),
    )
    db.upsert_run(changed, session_id="agent-0", user_id="alice")
    db.upsert_run(extra, session_id="agent-0", user_id="alice")
    import_sessions(store, agno_sessions(str(path)))
    ours = store.get_session("agent-0")
    run_ids = [run.run_id for run in ours.runs or []]
    assert run_ids == ["agent-0-r0", "agent-0-r1", "agent-0-child", "agent-0-cancelled", "agent-0-new"]
    assert [m.content for m in ours.get_messages()][:2] == ["edited", "EDITED"]
    _same_messages(
        ours.get_messages(), db.get_session("agent-0", session_type=SessionType.AGENT).get_messages()
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("missing.db", "no Agno database at"),
        ("mysql://x@y/z", "unsupported database 'mysql'"),
        ("::not a url://", "not a database URL"),
    ],
)
def test_a_source_that_is_not_there_is_a_clear_error(url: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(AgnoSourceError, match=message):
        next(agno_sessions(str(tmp_path / url) if url.endswith(".db") else url))


def test_a_missing_table_is_named(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlalchemy.create_engine(f"sqlite:///{path}").connect().close()
    with pytest.raises(AgnoSourceError, match="no table 'sessions_x'"):
        next(agno_sessions(str(path), table="sessions_x"))

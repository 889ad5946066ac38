"""A run that opens a session others create and delete under it gets the error that happened.

``read_or_create`` reads, inserts when the read found nothing, and reads again when the insert
found the row taken. When a third client deletes the session between that insert and that
read, an admin caller (no ``user_id``) used to get 409 "belongs to another user".
"""

from __future__ import annotations

import pytest
from runtime_support import echo_model

from sessiondb.agent import Agent, _persist
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionAlreadyExists, SessionNotFound, SessionOwnedByAnotherUser
from sessiondb.session import AgentSession, Session


def _lose_every_insert_to_a_create_then_delete(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, *, times: int, owner: str | None = "other"
) -> list[str]:
    """Make the first ``times`` inserts of a session meet a row another client just created
    (for ``owner``), which a third client deletes before the caller reads it; returns a log."""
    real_create = store.create_session
    log: list[str] = []

    def create_session(session: Session) -> Session:
        if len(log) < times:
            store.upsert_session(AgentSession(session_id=session.session_id, user_id=owner))
            log.append("lost the insert")
            try:
                return real_create(session)
            except SessionAlreadyExists:
                store.delete_session(session.session_id)
                raise
        log.append("inserted")
        return real_create(session)

    monkeypatch.setattr(store, "create_session", create_session)
    return log


@pytest.mark.parametrize("user_id", [None, "alice"], ids=["admin", "user"])
def test_a_session_deleted_between_insert_and_read_is_opened_again(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch, user_id: str | None
) -> None:
    log = _lose_every_insert_to_a_create_then_delete(store, monkeypatch, times=1)
    opened = _persist.read_or_create(
        store,
        session_id="raced",
        user_id=user_id,
        session_type="agent",
        new_session=lambda: AgentSession(session_id="raced", user_id=user_id, agent_id="helper"),
    )
    assert log == ["lost the insert", "inserted"]
    assert opened.created
    assert store.get_session("raced").user_id == user_id


def test_an_agent_run_through_the_race_lands_in_its_own_session(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lose_every_insert_to_a_create_then_delete(store, monkeypatch, times=1)
    agent = Agent(id="helper", model=echo_model(), db=store)
    result = agent.run("hello", session_id="raced")
    assert result.status_value == "COMPLETED"
    assert [run.run_id for run in store.get_session("raced").runs or []] == [result.run_id]


def test_a_race_lost_at_every_attempt_is_reported_as_not_found(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lose_every_insert_to_a_create_then_delete(store, monkeypatch, times=_persist.OPEN_ATTEMPTS)
    with pytest.raises(SessionNotFound) as raised:
        _persist.read_or_create(
            store,
            session_id="raced",
            user_id=None,
            session_type="agent",
            new_session=lambda: AgentSession(session_id="raced"),
        )
    assert str(raised.value) == "Session with id 'raced' not found"


def test_another_users_session_is_still_reported_as_theirs(store: SessionStore) -> None:
    store.create_session(AgentSession(session_id="taken", user_id="bob"))
    with pytest.raises(SessionOwnedByAnotherUser):
        _persist.read_or_create(
            store,
            session_id="taken",
            user_id="alice",
            session_type="agent",
            new_session=lambda: AgentSession(session_id="taken", user_id="alice"),
        )

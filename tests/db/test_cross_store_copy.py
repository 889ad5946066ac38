"""A session object saved into a store it was not loaded from writes all its runs there.

What an object knows about its stored runs belongs to the store that loaded (or last saved)
it; another store, even one of the same kind on another file, must treat it as new.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from db_builders import agent_run, agent_session

from sessiondb.db.base import SessionStore
from store_backends import BACKENDS

PAIRS = [
    pytest.param(("memory", "sqlite"), id="memory-to-sqlite"),
    pytest.param(("sqlite", "postgres"), id="sqlite-to-postgres", marks=pytest.mark.postgres),
    pytest.param(("postgres", "sqlite"), id="postgres-to-sqlite", marks=pytest.mark.postgres),
    pytest.param(("sqlite", "sqlite"), id="sqlite-to-another-sqlite-file"),
]


@pytest.fixture(params=PAIRS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SessionStore, SessionStore]]:
    """A source store holding session ``s1`` with 4 runs, and an empty target store."""
    source_kind, target_kind = request.param
    with ExitStack() as stack:
        source = stack.enter_context(BACKENDS[source_kind](tmp_path))
        target = stack.enter_context(BACKENDS[target_kind](tmp_path))
        source.upsert_session(agent_session(runs=4, session_data={"session_state": {"k": "v"}}))
        yield source, target


def _dump(store: SessionStore) -> list[dict[str, Any]]:
    return [run.to_dict() for run in store.get_session("s1").runs or []]


def test_create_session_copies_every_run(stores: tuple[SessionStore, SessionStore]) -> None:
    source, target = stores
    loaded = source.get_session("s1")
    target.create_session(loaded)
    assert _dump(target) == _dump(source)
    assert len(_dump(target)) == 4
    assert target.get_session("s1").session_data == {"session_state": {"k": "v"}}


def test_upsert_session_copies_every_run_and_the_new_one(stores: tuple[SessionStore, SessionStore]) -> None:
    source, target = stores
    loaded = source.get_session("s1")
    loaded.upsert_run(agent_run("s1-new"))
    target.upsert_session(loaded)
    assert [run["run_id"] for run in _dump(target)] == ["s1-r0", "s1-r1", "s1-r2", "s1-r3", "s1-new"]


def test_a_copied_object_saved_back_to_its_first_store_writes_everything_again(
    stores: tuple[SessionStore, SessionStore],
) -> None:
    source, target = stores
    loaded = source.get_session("s1")
    target.upsert_session(loaded)
    # Now the object's record is the target's; the source may have changed meanwhile, so a
    # save there compares nothing and writes every run (an upsert: no run is duplicated).
    source.delete_run("s1-r2", session_id="s1")
    loaded.upsert_run(agent_run("s1-later"))
    source.upsert_session(loaded)
    assert [run["run_id"] for run in _dump(source)] == ["s1-r0", "s1-r1", "s1-r3", "s1-r2", "s1-later"]
    # And the target, no longer the object's store, gets the later run too.
    target.upsert_session(loaded)
    assert [run["run_id"] for run in _dump(target)][-1] == "s1-later"


def test_a_copied_object_deleted_in_the_target_is_refused_there(
    stores: tuple[SessionStore, SessionStore],
) -> None:
    from sessiondb.db.errors import SessionDeleted

    source, target = stores
    loaded = source.get_session("s1")
    target.create_session(loaded)
    target.delete_session("s1")
    with pytest.raises(SessionDeleted):
        target.upsert_session(loaded)
    # The source never saw the delete: saving there writes every run again.
    source.upsert_session(loaded)
    assert len(_dump(source)) == 4

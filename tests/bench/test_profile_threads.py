"""``bench profile http`` sees the worker threads, where the server's store calls run."""

from __future__ import annotations

import pstats
import threading
from pathlib import Path

from bench.profile import IDLE, by_layer, layer
from bench.web.server import ThreadProfilers


def _work_in_a_worker_thread() -> int:
    return sum(number * number for number in range(20_000))


def test_thread_profilers_record_threads_started_after_them(tmp_path: Path) -> None:
    profilers = ThreadProfilers()
    profilers.start()
    worker = threading.Thread(target=_work_in_a_worker_thread)
    worker.start()
    worker.join()
    out = tmp_path / "server.prof"
    profilers.dump(str(out))
    functions = {function for (_file, _line, function) in pstats.Stats(str(out)).stats}  # type: ignore[attr-defined]
    assert "_work_in_a_worker_thread" in functions
    # Profiling stops with the dump: a later thread is not recorded.
    assert threading.getprofile() is None


def test_waiting_is_its_own_layer_and_stays_out_of_the_busy_time() -> None:
    assert layer("~", "<method 'poll' of 'select.epoll' objects>") == IDLE
    assert layer("~", "<method 'acquire' of '_thread.lock' objects>") == IDLE
    assert layer("/x/site-packages/sqlalchemy/engine/base.py", "execute") == "SQLAlchemy"
    stats = pstats.Stats()
    stats.stats = {  # type: ignore[attr-defined]
        ("~", 0, "<method 'poll' of 'select.epoll' objects>"): (1, 1, 5.0, 5.0, {}),
        ("/x/sessiondb/api/app.py", 1, "handler"): (1, 1, 1.0, 1.0, {}),
    }
    assert dict(by_layer(stats)) == {IDLE: 5.0, "sessiondb HTTP API": 1.0}

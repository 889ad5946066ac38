"""A served app freezes the collector's view of what its start-up built (api/startup_heap.py)."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi.testclient import TestClient

from sessiondb.api.serve import ServeSettings
from sessiondb.api.served import build_served_app


def test_the_app_sessiondb_serve_runs_freezes_what_its_start_up_built(tmp_path: Path) -> None:
    served = build_served_app(ServeSettings(db=(str(tmp_path / "a.db"),)), None)
    try:
        app = served.app
        assert id(app) in {id(o) for o in gc.get_objects()}  # the collector walks it before start-up
        with TestClient(app) as client:
            assert client.get("/health").status_code == 200
            # Once started: the app and its routes are in the permanent generation, never walked.
            assert id(app) not in {id(o) for o in gc.get_objects()}
            assert gc.get_freeze_count() > 0
    finally:
        served.close()
        gc.unfreeze()

"""``python -m bench memory`` loads the server and samples its resident memory throughout."""

from __future__ import annotations

import json
from pathlib import Path

from bench.config import QUICK
from bench.env import DEFAULT_PG_URL

from bench import memory


def test_memory_run_samples_rss_after_every_slice_and_writes_the_series(tmp_path: Path) -> None:
    summary = memory.run("sqlite", memory.SLICES * 4, pg_url=DEFAULT_PG_URL, out_dir=tmp_path, sizes=QUICK)
    assert summary["requests"] == memory.SLICES * 4 and summary["errors"] == 0
    # One sample after the warm-up, one after each slice.
    assert len(summary["rss_mb"]) == memory.SLICES + 1
    assert all(10 < sample < 2_000 for sample in summary["rss_mb"])
    (written,) = tmp_path.glob("memory-sqlite-*.json")
    assert json.loads(written.read_text()) == summary
    assert "sqlite: 144 requests (0 errors)" in memory.describe(summary)

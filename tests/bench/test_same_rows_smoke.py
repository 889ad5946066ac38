"""``python -m bench.same_rows`` measures its three sides on a fresh SQLite file."""

from __future__ import annotations

import pytest

from bench import same_rows


@pytest.mark.parametrize("mode", ["save", "append"])
def test_every_side_is_measured(mode: str) -> None:
    found = same_rows.measure(mode, 40)
    assert list(found) == ["sessiondb", "same rows", "raw"]
    assert all(wall > 0 and cpu >= 0 for wall, cpu in found.values())

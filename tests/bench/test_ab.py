"""``python -m bench ab REV``: an earlier commit's sessiondb against this checkout's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
import pytest
from bench.cli import main
from bench.web.process import REPO

from bench import ab


def _head() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _worktrees() -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), "worktree", "list"], capture_output=True, text=True, check=True
    ).stdout


def test_ab_measures_both_sides_and_removes_its_worktree(tmp_path: Path) -> None:
    before = _worktrees()

    code = main(["ab", "HEAD", "--quick", "--pairs", "1", "--out", str(tmp_path), "--markdown"])

    assert code == 0
    [written] = tmp_path.glob("ab-*.json")
    document = orjson.loads(written.read_bytes())
    assert document["meta"]["before"] == _head()
    keys = {row["key"] for row in document["rows"]}
    assert "sqlite/append/runs=10" in keys and "sqlite/get_session/runs=100" in keys
    for row in document["rows"]:
        assert row["before"] > 0 and row["after"] > 0 and row["processes"] == [1, 1]
        assert row["after_over_before"] == pytest.approx(row["after"] / row["before"])
    assert _worktrees() == before


def test_ab_refuses_a_side_that_imported_the_wrong_sessiondb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both sides importing this checkout's sessiondb would compare it with itself.
    this_checkout = ab.side_env(REPO)
    monkeypatch.setattr(ab, "side_env", lambda source: this_checkout)

    with pytest.raises(SystemExit, match="the before side imported sessiondb from"):
        main(["ab", "HEAD", "--quick", "--pairs", "1", "--out", str(tmp_path)])


def test_ab_of_an_unknown_revision_says_so() -> None:
    with pytest.raises(SystemExit, match="names no commit"):
        main(["ab", "no-such-revision-anywhere", "--pairs", "1"])


def test_ab_says_which_side_failed_and_removes_its_worktree(tmp_path: Path) -> None:
    before = _worktrees()

    # --pg-url pointing nowhere makes the child's PostgreSQL run fail at once.
    argv = ["ab", "HEAD", "--quick", "--pairs", "1", "--backends", "postgres", "--out", str(tmp_path)]
    with pytest.raises(SystemExit, match=r"'bench run' against the sessiondb of .* exited with"):
        main([*argv, "--pg-url", "postgresql+psycopg://nobody@127.0.0.1:1/none"])

    assert _worktrees() == before

"""Before/after against an earlier commit: ``python -m bench ab REV [--only ...] [--pairs N]``.

A fix's before/after numbers come from here. ``REV`` is checked out in a temporary git
worktree; then ``bench run`` runs in child processes that alternate between importing
sessiondb from that worktree ("before") and from this checkout ("after"), ``--pairs`` times,
the side that goes first alternating, so the machine's drift hits both alike. The bench code
is this checkout's on both sides: the same workloads and the same raw baselines measure both
versions.

Per workload the table gives each side's median over its processes (of the per-process
medians), after ÷ before, and each side's ratio to its own in-run raw baseline, which is what
stays comparable when the machine's speed moves between processes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from bench import report
from bench.result import Result
from bench.web.process import REPO

SIDES = ("before", "after")


@contextmanager
def worktree(rev: str) -> Iterator[tuple[str, Path]]:
    """``REV``'s commit id and a temporary checkout of it, removed afterwards.

    Raises:
        SystemExit: ``rev`` names no commit of this repository.
    """
    found = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        raise SystemExit(f"bench ab: {rev!r} names no commit of {REPO}")
    commit = found.stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as parent:
        path = Path(parent) / "before"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(path), commit], check=True
        )
        try:
            yield commit, path
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], check=False)


def side_env(source: Path) -> dict[str, str]:
    """This environment, with ``source`` (a tree holding ``src/sessiondb``) first on the path.

    ``PYTHONPATH`` comes before the editable install's entry, so ``import sessiondb`` finds
    ``source``'s; the repository root follows for the ``bench`` package itself.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(source / "src"), str(REPO)])
    return env


@dataclass
class Side:
    """What one side's processes measured: per result key, each process's numbers."""

    results: dict[str, list[Result]] = field(default_factory=dict)
    imported_from: set[str] = field(default_factory=set)

    def add(self, meta: dict[str, Any], results: Sequence[Result]) -> None:
        """Take one process's results and where its sessiondb came from."""
        self.imported_from.add(str(meta["machine"].get("sessiondb_from")))
        for result in results:
            self.results.setdefault(result.key, []).append(result)


def run_side(source: Path, run_args: Sequence[str], out: Path) -> tuple[dict[str, Any], list[Result]]:
    """One ``bench run`` in a child process that imports sessiondb from ``source``.

    Raises:
        SystemExit: the child failed (its error output is above; an old enough commit may
            lack what this checkout's bench calls).
    """
    out.mkdir(parents=True)
    argv = [sys.executable, "-m", "bench", "run", *run_args, "--out", str(out)]
    done = subprocess.run(argv, cwd=REPO, env=side_env(source), stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(
            f"bench ab: 'bench run' against the sessiondb of {source} exited with {done.returncode} "
            "(its errors are above)"
        )
    [written] = out.glob("*.json")
    return report.read_json(written)


def compare(before: Side, after: Side) -> list[dict[str, Any]]:
    """One row per result key both sides measured: medians, after ÷ before, ratios to raw."""
    rows = []
    for key, afters in after.results.items():
        befores = before.results.get(key)
        if not befores:
            continue
        old = statistics.median(result.sessiondb.median for result in befores)
        new = statistics.median(result.sessiondb.median for result in afters)
        rows.append(
            {
                "key": key,
                "unit": afters[0].unit,
                "before": old,
                "after": new,
                "after_over_before": new / old if old else float("nan"),
                "before_vs_raw": statistics.median(result.ratio for result in befores),
                "after_vs_raw": statistics.median(result.ratio for result in afters),
                "processes": (len(befores), len(afters)),
            }
        )
    return rows


HEADER = ["workload", "before", "after", "after/before", "before vs raw", "after vs raw"]


def _cells(rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            row["key"],
            report.fmt(row["before"], row["unit"]),
            report.fmt(row["after"], row["unit"]),
            f"{row['after_over_before']:.2f}",
            f"x{row['before_vs_raw']:.2f}",
            f"x{row['after_vs_raw']:.2f}",
        ]
        for row in rows
    ]


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The comparison as Markdown (for a commit message or the docs)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(line) + " |" for line in _cells(rows)]
    return "\n".join(lines)


def rich_table(commit: str, rows: Sequence[dict[str, Any]]) -> Table:
    """The comparison as a terminal table."""
    table = Table(title=f"before = {commit[:12]}, after = this checkout (medians over processes)")
    for name in HEADER:
        table.add_column(name, no_wrap=name == "workload")
    for line in _cells(rows):
        table.add_row(*line)
    return table


def run(rev: str, run_args: Sequence[str], *, pairs: int, out_dir: Path, markdown: bool) -> Path:
    """Run the A/B and print its table; returns the JSON file it wrote.

    Raises:
        SystemExit: ``rev`` is not a commit, or a side did not import the sessiondb it should.
    """
    started = datetime.now(UTC)
    sides = {name: Side() for name in SIDES}
    with worktree(rev) as (commit, checkout), tempfile.TemporaryDirectory(prefix="bench-ab-out-") as scratch:
        sources = {"before": checkout, "after": REPO}
        for number in range(pairs):
            order = SIDES if number % 2 == 0 else SIDES[::-1]
            for name in order:
                out = Path(scratch) / f"{name}-{number}"
                meta, results = run_side(sources[name], run_args, out)
                sides[name].add(meta, results)
                print(f"[ab] pair {number + 1}/{pairs}: {name} done", file=sys.stderr)
        for name, source in sources.items():
            expected = str((source / "src" / "sessiondb").resolve())
            if sides[name].imported_from != {expected}:
                raise SystemExit(
                    f"bench ab: the {name} side imported sessiondb from {sorted(sides[name].imported_from)}, "
                    f"not {expected}; is sessiondb installed without -e, or PYTHONPATH overridden?"
                )
    rows = compare(sides["before"], sides["after"])
    out = out_dir / f"ab-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "meta": {"started": started.isoformat(timespec="seconds"), "before": commit, "args": list(run_args)},
        "pairs": pairs,
        "rows": rows,
    }
    out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    if markdown:
        print(markdown_table(rows))
    else:
        Console().print(rich_table(commit, rows))
    return out

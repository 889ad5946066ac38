"""Show results: a rich table on the terminal, a JSON file, and the results section of the docs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from bench.result import Result

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def fmt(value: float, unit: str) -> str:
    """A duration (``unit="s"``) or a size (``"B"``) with a readable unit."""
    if unit == "B":
        return f"{value / 1024:,.0f} KiB" if value < 10 * 1024 * 1024 else f"{value / 1048576:,.1f} MiB"
    if value < 1e-3:
        return f"{value * 1e6:,.0f} µs"
    if value < 1:
        return f"{value * 1e3:,.2f} ms"
    return f"{value:,.2f} s"


def size_label(params: Mapping[str, Any]) -> str:
    """``runs=1,000``-style text for a result's parameters."""
    return " ".join(
        f"{name}={value:,}" if isinstance(value, int) else f"{name}={value}" for name, value in params.items()
    )


def notes(result: Result) -> str:
    """The extra numbers worth a glance, as short text."""
    extra = result.extra
    parts = []
    if "rps" in extra:
        parts.append(f"{extra['rps']:,.0f} vs {extra['baseline_rps']:,.0f} req/s")
        parts.append(f"RSS +{extra['rss_growth_mb']:.1f} MiB")
        if extra.get("cpu_ratio") is not None:
            parts.append(
                f"server CPU {extra['cpu_us']:,.0f} vs {extra['baseline_cpu_us']:,.0f} µs/req"
                f" (x{extra['cpu_ratio']:.2f})"
            )
    if "runs_per_s" in extra:
        parts.append(f"{extra['runs_per_s']:,.0f} vs {extra['baseline_runs_per_s']:,.0f} runs/s")
    if "growth" in extra:
        parts.append(f"growth x{extra['growth']:.2f}")
    if "by_query" in extra:
        kinds = "; ".join(f"{query} {ours:g}/{raw:g} ms" for query, (ours, raw) in extra["by_query"].items())
        parts.append(f"by query (ours/raw): {kinds}")
    if "vs_first_page" in extra:
        parts.append(f"x{extra['vs_first_page']:.2f} of page 1")
    return "; ".join(parts)


def verdict(passed: bool | None) -> str:
    """``ok`` / ``MISS`` / empty."""
    return "" if passed is None else ("ok" if passed else "MISS")


def rows(results: Sequence[Result]) -> tuple[list[str], list[list[str]]]:
    """The table's header and rows (shared by the terminal and the Markdown output)."""
    peers = sorted({name for result in results for name in result.peers})
    header = ["backend", "workload", "size", "sessiondb p50", "p99", "baseline p50", "ratio"]
    header += [column for name in peers for column in (f"{name} p50", f"{name} ratio")]
    header += ["target", "met", "notes"]
    body = []
    for result in results:
        row = [
            result.backend,
            result.workload,
            size_label(result.params),
            fmt(result.sessiondb.median, result.unit),
            fmt(result.sessiondb.p99, result.unit),
            fmt(result.baseline.median, result.unit),
            f"x{result.ratio:.2f}",
        ]
        for name in peers:
            peer = result.peers.get(name)
            row += [fmt(peer["summary"].median, result.unit), f"x{peer['ratio']:.2f}"] if peer else ["", ""]
        row += [result.target, verdict(result.passed), notes(result)]
        body.append(row)
    return header, body


def print_table(results: Sequence[Result], console: Console | None = None) -> None:
    """Print the results as a rich table."""
    header, body = rows(results)
    table = Table(title="sessiondb benchmarks (ratio = sessiondb cost / in-run baseline cost)")
    for column in header:
        table.add_column(column, overflow="fold")
    for row in body:
        table.add_row(*row)
    (console or Console(width=220)).print(table)


def write_json(path: Path, meta: Mapping[str, Any], results: Sequence[Result]) -> None:
    """Write the run's metadata and every result as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"meta": dict(meta), "results": [result.to_json() for result in results]}
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))


def read_json(path: Path) -> tuple[dict[str, Any], list[Result]]:
    """Inverse of :func:`write_json`."""
    document = orjson.loads(path.read_bytes())
    return document["meta"], [Result.from_json(item) for item in document["results"]]


def markdown(meta: Mapping[str, Any], results: Sequence[Result]) -> str:
    """The results section: run header and the table, as Markdown."""
    header, body = rows(results)
    machine = meta["machine"]
    lines = [
        f"Run {meta['started']} ({meta['sizes']} sizes, commit `{machine.get('commit')}`), "
        f"{machine['nproc']} cores ({machine['cpu']}), {machine['memory_gib']} GiB RAM, "
        f"load average {', '.join(f'{v:.2f}' for v in machine['load_avg'])} at the start and "
        f"{', '.join(f'{v:.2f}' for v in meta.get('load_avg_end', []))} at the end "
        f"({meta.get('elapsed_s', 0) / 60:.0f} min); "
        f"PostgreSQL {meta.get('postgres_version', 'n/a')}, SQLite {machine['sqlite']}, "
        f"Python {machine['python']}.",
        "",
        f"Command: `{meta['command']}`",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines)


def rewrite_docs(path: Path, section: str) -> None:
    """Replace what lies between the results markers of ``path`` with ``section``.

    Raises:
        ValueError: the file lacks the markers.
    """
    text = path.read_text()
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{path} has no {START} ... {END} section to rewrite")
    path.write_text(pattern.sub(lambda _match: f"{START}\n{section}\n{END}", text))

"""A small HTTP/1.1 load generator: ``python -m bench.web.loadgen PLAN.json``.

The plan names the servers (name, port, pid), the paths to cycle through, and how many rounds
of how many requests to send each server; the servers take turns round by round (the order
rotating), so outside noise hits them alike. In a round, ``concurrency`` keep-alive
connections each send a request, read the whole response and send the next, until the round's
requests are done or ``timeout`` seconds have passed. The client speaks just enough HTTP
(Content-Length or chunked bodies) to be far cheaper than a client library, so the server,
not the client, is what gets measured. After the warm-up and after each round, the server's
resident memory is read from ``/proc``, and the CPU time the server used in each round. Prints
one JSON object. Standard library only.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Tally:
    """What the workers of one round collected."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    sent: int = 0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _worker(port: int, requests: list[bytes], limit: int, deadline: float, tally: Tally) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    clock = time.perf_counter
    try:
        while tally.sent < limit and clock() < deadline:
            request = requests[tally.sent % len(requests)]
            tally.sent += 1
            began = clock()
            writer.write(request)
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                tally.errors += 1
                return
            tally.latencies.append(clock() - began)
            tally.statuses[status] += 1
    finally:
        writer.close()


async def one_round(
    port: int, paths: list[str], requests: int, concurrency: int, seconds: float
) -> dict[str, Any]:
    """Send ``requests`` requests over ``concurrency`` connections; the round's outcome."""
    encoded = [f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode() for path in paths]
    tally = Tally()
    began = time.perf_counter()
    deadline = began + seconds
    workers = min(concurrency, requests)
    await asyncio.gather(*(_worker(port, encoded, requests, deadline, tally) for _ in range(workers)))
    return {
        "latencies": tally.latencies,
        "elapsed": time.perf_counter() - began,
        "errors": tally.errors,
        "statuses": {str(code): count for code, count in tally.statuses.items()},
    }


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its child processes (a server's workers) in MiB (``/proc``)."""
    total_kib = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total_kib = int(line.split()[1])
            break
    else:
        raise RuntimeError(f"no VmRSS for pid {pid}")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return total_kib / 1024 + sum(rss_mb(int(child)) for child in children)


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) ``pid`` and its live child processes used so far (``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # utime and stime are fields 14 and 15 of stat; the split starts at field 3.
    own = (int(fields[11]) + int(fields[12])) / _TICKS
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(cpu_seconds(int(child)) for child in children)


async def run_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """Warm every server up, then the rounds; per server: each round's outcome and RSS samples."""
    servers = plan["servers"]
    names = [server["name"] for server in servers]
    out: dict[str, Any] = {name: {"rounds": [], "rss_mb": []} for name in names}
    args = (plan["concurrency"], plan["timeout"])
    for server in servers:
        await one_round(server["port"], plan["paths"], plan["warmup"], *args)
        out[server["name"]]["rss_mb"].append(rss_mb(server["pid"]))
    for number in range(plan["rounds"]):
        shift = number % len(servers)
        for server in servers[shift:] + servers[:shift]:
            cpu_before = cpu_seconds(server["pid"])
            outcome = await one_round(server["port"], plan["paths"], plan["per_round"], *args)
            # What the server itself spent: on a loaded machine its wall-clock rate follows the
            # other jobs, its CPU time per request much less.
            outcome["cpu_s"] = cpu_seconds(server["pid"]) - cpu_before
            out[server["name"]]["rounds"].append(outcome)
            out[server["name"]]["rss_mb"].append(rss_mb(server["pid"]))
    return out


def main() -> None:
    """Read the plan named on the command line, run it, print the JSON outcome."""
    plan = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(run_plan(plan))))


if __name__ == "__main__":
    main()

"""The HTTP rows again with ``wrk`` as the client: ``python -m bench.wrk_http [sqlite|postgres]``.

``bench run --only http`` loads the servers with its own Python client
(:mod:`bench.web.loadgen`), which shares the two cores with the server it measures. ``wrk``
(Debian's ``wrk`` package: ``apt-get install wrk``) is a C client that costs the server far
less of the machine, so its latencies are closer to what a remote client sees. The servers
are the benchmark's own (sessiondb's app over the http dataset, and the bare app serving
the very bytes sessiondb answered, on identical uvicorn settings); each endpoint's paths are
cycled by a Lua script, 32 connections, one wrk thread, ``--seconds`` per run, the two
servers alternating for ``--pairs`` pairs after a 2 s warm-up each. Prints one line per run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from pathlib import Path

from bench.env import Env
from bench.workloads.http import bare_server, endpoints, seed_http, sessiondb_server

CYCLE_PATHS = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def _wrk(port: int, script: Path, paths: Path, seconds: int) -> tuple[float, str, str]:
    """req/s, p50 and p99 of one wrk run against ``port``."""
    argv = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), f"http://127.0.0.1:{port}"]
    out = subprocess.run(
        argv, env={**os.environ, "WRK_PATHS": str(paths)}, capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw failed requests:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, flags=re.MULTILINE))
    if found is None or set(percentiles) != {"50", "99"}:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    return float(found.group(1)), percentiles["50"], percentiles["99"]


def main() -> None:
    """Parse the command line, seed, serve, load, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.wrk_http", description=__doc__.split("\n")[0])
    parser.add_argument("backend", choices=("sqlite", "postgres"))
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=10_000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    env = Env.create(args.backend)
    try:
        dataset = env.dataset("http")
        paths = endpoints(seed_http(dataset, args.sessions))
        ours = sessiondb_server(env, dataset, paths["http_list"][0])
        try:
            bare = bare_server(env.root, ours, [path for group in paths.values() for path in group])
            try:
                script = env.root / "cycle.lua"
                script.write_text(CYCLE_PATHS)
                for workload, group in paths.items():
                    listed = env.root / f"{workload}.txt"
                    listed.write_text("\n".join(group) + "\n")
                    for server in (ours, bare):
                        _wrk(server.port, script, listed, 2)
                    for _ in range(args.pairs):
                        rps, p50, p99 = _wrk(ours.port, script, listed, args.seconds)
                        bare_rps, bare_p50, bare_p99 = _wrk(bare.port, script, listed, args.seconds)
                        print(
                            f"{args.backend} {workload}: sessiondb {rps:,.0f} req/s p50 {p50} p99 {p99}; "
                            f"bare {bare_rps:,.0f} req/s p50 {bare_p50} p99 {bare_p99}; "
                            f"{rps / bare_rps:.0%} of bare",
                            flush=True,
                        )
            finally:
                bare.stop()
        finally:
            ours.stop()
    finally:
        env.close()


if __name__ == "__main__":
    main()

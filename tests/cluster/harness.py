"""A local high-availability deployment for the cluster tests: etcd, Patroni-managed PostgreSQL
nodes, HAProxy and several ``sessiondb serve`` processes, all on 127.0.0.1.

Patroni and HAProxy are configured from the very templates in ``deploy/`` (rendered with the
same ``${VAR}`` syntax ``envsubst`` reads), so the example a user copies is the one tested.
Every process writes its output to a file under the cluster's folder; every wait is bounded.
PostgreSQL refuses to run as root, so Patroni runs as the ``postgres`` user when the tests do.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import httpx
import psycopg

from live_server import free_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PG_BIN_DIR = Path("/usr/lib/postgresql/15/bin")
TOOLS = ("etcd", "patroni", "haproxy")


def missing_tools() -> list[str]:
    """The programs the cluster needs that are not installed."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not (PG_BIN_DIR / "postgres").exists():
        missing.append(str(PG_BIN_DIR / "postgres"))
    return missing


def wait_for(what: str, check: Callable[[], bool], timeout: float, interval: float = 0.2) -> float:
    """Poll ``check`` until it is true; returns the seconds it took.

    Raises:
        AssertionError: it was not true within ``timeout`` seconds.
    """
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if check():
                return time.monotonic() - start
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(interval)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def render(template: str, values: dict[str, str]) -> str:
    """A ``deploy/`` template with every ``${VAR}`` filled (a missing one is an error)."""
    return Template((DEPLOY / template).read_text()).substitute(values)


@dataclass
class Proc:
    """A child process of the cluster and the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """What the process printed so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process and its whole group (Patroni's PostgreSQL included)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        self.kill(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
            self.process.wait(timeout=5)


@dataclass
class PgNode:
    """One Patroni-managed PostgreSQL node."""

    name: str
    pg_port: int
    rest_port: int
    proc: Proc | None = None

    def role(self) -> str | None:
        """``primary``, ``replica`` or ``None`` when its Patroni does not answer."""
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.rest_port}/patroni", timeout=1)
        except httpx.HTTPError:
            return None
        role = answer.json().get("role")
        return "primary" if role in ("master", "primary") else str(role)


@dataclass
class Cluster:
    """The whole deployment; :meth:`start` brings it up, :meth:`stop` takes it down."""

    root: Path
    nodes: int = 3
    servers: int = 3
    read_replicas: bool = False
    pg: list[PgNode] = field(default_factory=list)
    procs: list[Proc] = field(default_factory=list)
    api_ports: list[int] = field(default_factory=list)
    primary_port: int = 0
    replica_port: int = 0
    api_port: int = 0
    etcd_port: int = 0

    # -- processes --------------------------------------------------------------------------

    def _spawn(
        self, name: str, args: list[str], *, user: str | None = None, env: dict[str, str] | None = None
    ) -> Proc:
        log = self.root / f"{name}.log"
        preexec: Callable[[], None] | None = None
        if user is not None and os.geteuid() == 0:
            record = pwd.getpwnam(user)

            def preexec() -> None:
                os.setgid(record.pw_gid)
                os.setuid(record.pw_uid)

        with log.open("wb") as out:
            process = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=preexec,
                env={**os.environ, **(env or {})},
                cwd=self.root,
            )
        proc = Proc(name, process, log)
        self.procs.append(proc)
        return proc

    def _start_etcd(self) -> None:
        self.etcd_port = free_port()
        peer = free_port()
        self._spawn(
            "etcd",
            [
                "etcd",
                "--name", "etcd1",
                "--data-dir", str(self.root / "etcd"),
                "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-cluster", f"etcd1=http://127.0.0.1:{peer}",
                # Patroni 3.0's etcd client (Debian's python3-etcd) speaks the v2 API.
                "--enable-v2=true",
            ],
        )  # fmt: skip
        wait_for(
            "etcd",
            lambda: httpx.get(f"http://127.0.0.1:{self.etcd_port}/health", timeout=1).status_code == 200,
            20,
        )

    def _start_node(self, node: PgNode) -> None:
        data = self.root / node.name
        config = self.root / f"{node.name}.yml"
        values = {
            "CLUSTER_NAME": "sessiondb",
            "NODE_NAME": node.name,
            "NODE_HOST": "127.0.0.1",
            "PG_PORT": str(node.pg_port),
            "REST_PORT": str(node.rest_port),
            "DATA_DIR": str(data),
            "SOCKET_DIR": str(self.root),
            "ETCD_HOSTS": f"127.0.0.1:{self.etcd_port}",
            "PG_BIN_DIR": str(PG_BIN_DIR),
        }
        config.write_text(render("patroni.yml", values))
        node.proc = self._spawn(f"patroni-{node.name}", ["patroni", str(config)], user="postgres")

    def start_node(self, node: PgNode) -> None:
        """(Re)start ``node``'s Patroni, which rejoins the cluster as a replica."""
        self._start_node(node)

    def _start_haproxy(self) -> None:
        self.primary_port, self.replica_port, self.api_port = free_port(), free_port(), free_port()
        pg_servers = "\n".join(
            f"    server {n.name} 127.0.0.1:{n.pg_port} check port {n.rest_port}" for n in self.pg
        )
        api_servers = "\n".join(
            f"    server api{i} 127.0.0.1:{port} check" for i, port in enumerate(self.api_ports)
        )
        values = {
            "LISTEN_HOST": "127.0.0.1",
            "PRIMARY_PORT": str(self.primary_port),
            "REPLICA_PORT": str(self.replica_port),
            "API_PORT": str(self.api_port),
            "PG_SERVERS": pg_servers,
            "API_SERVERS": api_servers,
        }
        config = self.root / "haproxy.cfg"
        config.write_text(render("haproxy.cfg", values))
        self._spawn("haproxy", ["haproxy", "-db", "-f", str(config)])

    def primary_url(self) -> str:
        """sessiondb's database URL through HAProxy's primary front."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.primary_port}/postgres"

    def hosts_url(self) -> str:
        """sessiondb's database URL naming every node (libpq multi-host, read-write only)."""
        hosts = "&".join(f"host=127.0.0.1:{n.pg_port}" for n in self.pg)
        return f"postgresql+psycopg://postgres@/postgres?{hosts}&target_session_attrs=read-write"

    def replicas_url(self) -> str:
        """A read replica URL through HAProxy's replica front."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.replica_port}/postgres"

    def start_server(self, port: int, db_url: str) -> Proc:
        """One ``sessiondb serve`` on ``port`` running ``cluster_app`` (an agent and the
        sessions API) over ``db_url``."""
        args = [
            sys.executable,
            "-m",
            "sessiondb.cli",
            "serve",
            "--port",
            str(port),
            "--app",
            "cluster_app:app",
        ]
        here = str(Path(__file__).parent)
        env = {
            "SESSIONDB_CLUSTER_DB_URL": db_url,
            "SESSIONDB_CLUSTER_REPLICA_URL": self.replicas_url() if self.read_replicas else "",
            "PYTHONPATH": os.pathsep.join([here, str(Path(here).parent), os.environ.get("PYTHONPATH", "")]),
        }
        return self._spawn(f"sessiondb-{port}", args, env=env)

    # -- the whole cluster --------------------------------------------------------------------

    def start(self, *, db_url: Callable[[Cluster], str] = lambda c: c.primary_url()) -> None:
        """Start etcd, the PostgreSQL nodes (waiting for a primary and its replicas), HAProxy
        and the sessiondb servers (waiting until each answers /health)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._start_etcd()
        self.pg = [PgNode(f"pg{i + 1}", free_port(), free_port()) for i in range(self.nodes)]
        self._start_node(self.pg[0])
        wait_for("the first PostgreSQL node to lead", lambda: self.pg[0].role() == "primary", 90)
        for node in self.pg[1:]:
            self._start_node(node)
        for node in self.pg[1:]:
            wait_for(f"{node.name} to replicate", lambda node=node: node.role() == "replica", 90)
        self.api_ports = [free_port() for _ in range(self.servers)]
        self._start_haproxy()
        wait_for("HAProxy's primary front", self._primary_front_up, 30)
        url = db_url(self)
        for port in self.api_ports:
            self.start_server(port, url)
        for port in self.api_ports:
            wait_for(
                f"sessiondb on {port}",
                lambda port=port: httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200,
                60,
            )

    def _primary_front_up(self) -> bool:
        url = f"postgresql://postgres@127.0.0.1:{self.primary_port}/postgres"
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                return conn.execute("SELECT NOT pg_is_in_recovery()").fetchone() == (True,)
        except psycopg.Error:
            return False

    def primary(self) -> PgNode:
        """The node Patroni says leads right now."""
        for node in self.pg:
            if node.role() == "primary":
                return node
        raise AssertionError("no PostgreSQL node is primary")

    def kill_node(self, node: PgNode) -> None:
        """Kill ``node``'s Patroni and PostgreSQL at once (SIGKILL to the whole group), as a
        crashed machine would stop them."""
        assert node.proc is not None
        node.proc.kill(signal.SIGKILL)
        node.proc.process.wait(timeout=10)
        # PostgreSQL's postmaster detaches into its own session under Patroni: kill what is
        # left of this node's data directory too.
        pid_file = self.root / node.name / "postmaster.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass

    def stop(self) -> None:
        """Stop every process, servers first, then HAProxy, Patroni and etcd."""
        for proc in reversed(self.procs):
            proc.stop()
        for node in self.pg:
            pid_file = self.root / node.name / "postmaster.pid"
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass

    def logs(self) -> str:
        """The last lines of every process's output, for a failing test's message."""
        return "\n".join(f"--- {p.name}\n" + "\n".join(p.output().splitlines()[-15:]) for p in self.procs)

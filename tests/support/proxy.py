"""Run N replicas of a server behind a real nginx that load-balances round-robin.

Session-based MCP servers keep each session in one process's memory; the proof that a
server is stateless is that it keeps working when consecutive requests land on different
processes. nginx's default upstream balancing is plain round-robin (no `ip_hash`, `hash`
or `sticky`), and with a single nginx process the order is deterministic: request k goes
to replica k mod N. Everything runs on 127.0.0.1 and in a caller-supplied folder, and is
killed (whole process groups) when the context managers exit, even on failure.

    with round_robin_cluster(["node", "server.js"], 2, tmp_path) as cluster:
        ...  # talk to cluster.url("/mcp"); cluster.proxy.upstreams() says who answered
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "AccessLogEntry",
    "Cluster",
    "Proxy",
    "Replica",
    "free_ports",
    "nginx_binary",
    "nginx_round_robin",
    "replicas",
    "round_robin_cluster",
]

HOST = "127.0.0.1"


def nginx_binary() -> str | None:
    """The nginx executable, also when /usr/sbin is not on a non-root user's PATH."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 right now.

    All sockets stay bound until every port is picked, so the ports are distinct; another
    program could still take one before our server binds it, which is rare enough here.
    """
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((HOST, 0))
            ports.append(sock.getsockname()[1])
        return ports


@dataclass
class Replica:
    """One server process, started in its own process group so its children die with it."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def log(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass(frozen=True)
class AccessLogEntry:
    """One request as nginx saw it: which replica (`upstream`) answered it, and how."""

    method: str
    uri: str
    status: int
    upstream: str
    mcp_method: str = ""  # the request's Mcp-Method header (SEP-2243), "" when absent
    mcp_name: str = ""  # its Mcp-Name header: the tool, or the task id of tasks/*


@dataclass
class Proxy:
    """A running nginx: where to reach it and what it logged."""

    port: int
    process: subprocess.Popen[bytes]
    directory: Path

    @property
    def access_log(self) -> Path:
        return self.directory / "access.log"

    @property
    def error_log(self) -> Path:
        return self.directory / "error.log"

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def entries(self) -> list[AccessLogEntry]:
        """Completed requests, oldest first (nginx logs a request when it ends)."""
        if not self.access_log.exists():
            return []
        entries = []
        for line in self.access_log.read_text(encoding="utf-8").splitlines():
            method, uri, status, upstream, mcp_method, mcp_name = line.split("\t")
            headers = ["" if value == "-" else value for value in (mcp_method, mcp_name)]
            entries.append(AccessLogEntry(method, uri, int(status), upstream, *headers))
        return entries

    def upstreams(self) -> list[str]:
        """The replica address that answered each completed request, oldest first."""
        return [entry.upstream for entry in self.entries()]


@dataclass
class Cluster:
    """Replicas plus the proxy in front of them."""

    replicas: list[Replica]
    proxy: Proxy
    addresses: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.addresses = [replica.address for replica in self.replicas]

    def url(self, path: str = "/") -> str:
        return self.proxy.url(path)

    def logs(self) -> str:
        """Every replica's log and nginx's error log, labelled: for assertion messages."""
        parts = [f"--- replica {r.address} ---\n{r.log()}" for r in self.replicas]
        if self.proxy.error_log.exists():
            parts.append(f"--- nginx error.log ---\n{self.proxy.error_log.read_text(encoding='utf-8')}")
        return "\n".join(parts)


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], what: str, log: Path, timeout: float) -> None:
    """Poll until `port` accepts a TCP connection; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening:\n{_read(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not listen on {port} within {timeout:.0f}s:\n{_read(log)}")
        time.sleep(0.05)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the process's whole group, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        with contextlib.suppress(ProcessLookupError):  # children of an exited leader
            os.killpg(process.pid, signal.SIGKILL)
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        with contextlib.suppress(ProcessLookupError):  # a child that ignored SIGTERM
            os.killpg(process.pid, signal.SIGKILL)
        return


@contextlib.contextmanager
def replicas(
    command: Sequence[str],
    count: int,
    directory: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 30.0,
) -> Iterator[list[Replica]]:
    """Start `count` copies of `command`, each told its port in $PORT, and wait until all listen.

    They start at once (a tsx or Python start-up takes a second or two) and each writes
    stdout and stderr to `directory/replica-<i>.log`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    started: list[Replica] = []
    try:
        for index, port in enumerate(free_ports(count)):
            log_path = directory / f"replica-{index}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    list(command),
                    cwd=cwd,
                    env={**os.environ, **(env or {}), "PORT": str(port)},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started.append(Replica(port, process, log_path))
        for index, replica in enumerate(started):
            _wait_until_listening(replica.port, replica.process, f"replica {index}", replica.log_path, ready_timeout)
        yield started
    finally:
        for replica in started:
            _stop(replica.process)


def nginx_config(listen_port: int, upstreams: Sequence[str], directory: Path, *, next_upstream: str = "off") -> str:
    """An nginx.conf that keeps every file in `directory` and balances round-robin.

    `master_process off` makes one process do everything: it stays in the foreground
    under our control, never switches user (so it can write to a private tmp folder), and
    keeps one round-robin counter, so the order of replicas is predictable. Buffering is
    off so server-sent-event streams flow through as they are written. By default a failed
    replica is not retried on another: the client sees what the replica said;
    `next_upstream="error timeout"` (nginx's own default) instead passes a request that
    could not reach a replica (say, a killed one) to the next, as a production proxy would.
    """
    d = directory.resolve()
    servers = "\n".join(f"        server {address};" for address in upstreams)
    return f"""\
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;

events {{
    worker_connections 1024;
}}

http {{
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;

    log_format upstreams
        "$request_method\\t$request_uri\\t$status\\t$upstream_addr\\t$http_mcp_method\\t$http_mcp_name";
    access_log {d}/access.log upstreams;

    upstream replicas {{
{servers}
    }}

    server {{
        listen {HOST}:{listen_port};

        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_cache off;
            proxy_read_timeout 300s;
            proxy_next_upstream {next_upstream};
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx_round_robin(
    upstreams: Sequence[str], directory: Path, *, ready_timeout: float = 10.0, next_upstream: str = "off"
) -> Iterator[Proxy]:
    """Run nginx in the foreground on a free port, round-robin over `upstreams` (host:port);
    see `nginx_config` for `next_upstream`."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx)")
    directory.mkdir(parents=True, exist_ok=True)
    [port] = free_ports(1)
    config = directory / "nginx.conf"
    config.write_text(nginx_config(port, upstreams, directory, next_upstream=next_upstream), encoding="utf-8")
    output = directory / "nginx.out"
    with output.open("wb") as out:
        # -e: the error log before the config is read (else nginx tries /var/log/nginx first).
        process = subprocess.Popen(
            [binary, "-p", str(directory.resolve()), "-c", str(config.resolve()), "-e", str(directory / "error.log")],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_listening(port, process, "nginx", directory / "error.log", ready_timeout)
        yield Proxy(port, process, directory)
    finally:
        _stop(process)


@contextlib.contextmanager
def round_robin_cluster(
    command: Sequence[str],
    count: int,
    directory: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 30.0,
    next_upstream: str = "off",
) -> Iterator[Cluster]:
    """`count` replicas of `command` behind one round-robin nginx; see `replicas` and
    `nginx_config`."""
    with (
        replicas(command, count, directory, cwd=cwd, env=env, ready_timeout=ready_timeout) as started,
        nginx_round_robin([r.address for r in started], directory / "nginx", next_upstream=next_upstream) as proxy,
    ):
        yield Cluster(started, proxy)

"""A real, throwaway redis-server for tests: its own port and folder, no persistence.

with redis_server(tmp_path) as server:
    store = RedisTaskStore.from_url(server.url)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .proxy import HOST, free_ports

__all__ = ["RedisServer", "redis_binary", "redis_server"]


def redis_binary() -> str | None:
    """The redis-server executable, also when /usr/bin is not on PATH."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None
    )


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


def _ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(directory: Path, *, ready_timeout: float = 10.0) -> Iterator[RedisServer]:
    """Start redis-server on a free port in `directory`; stop it (its whole process group) on exit."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_ports(1)[0]
    log_path = directory / "redis.log"
    command = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    command += ["--dir", str(directory), "--logfile", str(log_path), "--daemonize", "no"]
    process = subprocess.Popen(
        command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = RedisServer(port, process, log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while not _ping(port):
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}:\n{server.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer PING within {ready_timeout} s:\n{server.log()}")
            time.sleep(0.02)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

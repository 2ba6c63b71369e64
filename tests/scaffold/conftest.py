"""Fixtures for the scaffold tests: they exercise what `mcp-migrate scaffold` GENERATES.

The templates are generated once per session into a temporary folder, and that copy is what
the tests import (and what the subprocesses of the multi-process tests import): the proof is
about the files a user gets, not about the templates in the source tree.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support import requires
from support.redis_server import RedisServer, redis_binary, redis_server

from mcp_migrate.scaffold import generate

REDIS_MISSING = None if redis_binary() else "redis-server is not installed (apt-get install redis-server)"
BACKENDS = [
    pytest.param("memory"),
    pytest.param("sqlite"),
    pytest.param("redis", marks=[pytest.mark.slow, requires(REDIS_MISSING)]),
]


def _forget_mcp_tasks() -> None:
    for name in [name for name in sys.modules if name == "mcp_tasks" or name.startswith("mcp_tasks.")]:
        del sys.modules[name]


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding `mcp_tasks/` exactly as `mcp-migrate scaffold tasks` writes it."""
    out = tmp_path_factory.mktemp("generated")
    written = generate("tasks", out, "python")
    assert out / "mcp_tasks" / "store.py" in written
    return out


@pytest.fixture(scope="session")
def tasks(generated: Path) -> Iterator[ModuleType]:
    """The generated `mcp_tasks` package, imported once for the session from `generated`."""
    _forget_mcp_tasks()
    sys.path.insert(0, str(generated))
    importlib.invalidate_caches()
    try:
        module = importlib.import_module("mcp_tasks")
        assert Path(module.__file__ or "").parent == generated / "mcp_tasks", module.__file__
        yield module
    finally:
        sys.path.remove(str(generated))
        _forget_mcp_tasks()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the Redis client is asyncio-only


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for the session (no persistence); tests keep apart by key prefix."""
    server: RedisServer
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty store of `backend` for one test, as a URL other processes can open."""
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'tasks.db'}"
    return str(request.getfixturevalue("redis_url"))


def open_fresh(tasks: ModuleType, url: str, prefix: str) -> Any:
    """open_store, with a private key prefix for Redis so tests sharing the server stay apart."""
    if url.startswith("redis://"):
        from mcp_tasks.redis_store import RedisTaskStore

        return RedisTaskStore.from_url(url, prefix=prefix)
    return tasks.open_store(url)


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return store_url(backend, tmp_path, request)


@pytest.fixture
async def store(tasks: ModuleType, url: str, prefix: str) -> AsyncIterator[Any]:
    """A fresh store of each backend (memory, SQLite file, real Redis)."""
    opened = open_fresh(tasks, url, prefix)
    try:
        yield opened
    finally:
        await opened.close()

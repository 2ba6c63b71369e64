"""End-to-end proof for TypeScript servers (issue #3).

- Every TypeScript fixture, and every file `fix` produces from one, type-checks against the
  real `@modelcontextprotocol/sdk` 1.x types (tests/e2e/node pins the toolchain; scripts/test.sh
  runs `npm ci` there).
- The canonical session-based Express server, run as two replicas behind a round-robin nginx,
  breaks the official MCP client; after `fix --unsafe-fixes` the same client gets through
  initialize, tools/list and tools/call, served by both replicas.

Servers run with tsx from a scratch folder inside tests/e2e/node so that their imports resolve
against its node_modules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import TextContent
from support import requires
from support.proxy import Cluster, nginx_binary, round_robin_cluster

E2E = Path(__file__).parent
NODE = E2E / "node"
BIN = NODE / "node_modules" / ".bin"
FIXTURES = E2E.parent / "fixtures"
CANONICAL = FIXTURES / "MCP105" / "express_canonical" / "input.ts"
HANDMADE = E2E / "handmade_stateless.ts"
TS_SUFFIXES = (".ts", ".tsx", ".mts")

CLIENT_TIMEOUT = 30.0  # the whole conversation; a hung client must not hang CI
READ_TIMEOUT = 5.0  # one request


def _missing_tools() -> str | None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if nginx_binary() is None:
        missing.append("nginx")
    if missing:
        return f"{', '.join(missing)} not installed (scripts/test.sh installs them)"
    if not (BIN / "tsc").exists() or not (BIN / "tsx").exists():
        return f"no {NODE.relative_to(E2E.parent.parent)}/node_modules (run: npm ci --prefix tests/e2e/node)"
    return None


_MISSING = _missing_tools()
pytestmark = [pytest.mark.slow, requires(_MISSING)]


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder inside tests/e2e/node (so node_modules resolves), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="scratch-", dir=NODE))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _typescript_fixtures() -> list[Path]:
    """Inputs and fixed snapshots of every TypeScript fixture case."""
    found = []
    for case in sorted(p for p in FIXTURES.glob("*/*") if p.is_dir()):
        for path in sorted(case.iterdir()):
            if path.suffix in TS_SUFFIXES and (path.stem == "input" or path.name.startswith("expected")):
                found.append(path)
    return found


def _type_check(files: dict[str, Path], folder: Path) -> None:
    """Copy `files` (relative name -> source) into `folder` and run one tsc over them all."""
    for name, source in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    base = Path(os.path.relpath(NODE / "tsconfig.json", folder)).as_posix()
    config = {"extends": base, "include": [f"**/*{suffix}" for suffix in TS_SUFFIXES]}
    (folder / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    result = subprocess.run(
        [str(BIN / "tsc"), "--noEmit", "--pretty", "false", "-p", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"tsc failed on {sorted(files)}:\n{result.stdout}{result.stderr}"


def test_fixed_fixtures_type_check(scratch: Path) -> None:
    files = {path.relative_to(FIXTURES).as_posix(): path for path in _typescript_fixtures()}
    assert CANONICAL.relative_to(FIXTURES).as_posix() in files
    files[HANDMADE.name] = HANDMADE
    _type_check(files, scratch)


@dataclass
class Conversation:
    """What the client got through before anything failed."""

    steps: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)


async def _converse(url: str, calls: int, conversation: Conversation) -> None:
    """initialize, tools/list, then `calls` x tools/call add(2, 3), as a pre-2026 client would.

    mode="legacy" makes the client do the initialize handshake (and so get a session ID from
    a session-based server) instead of probing server/discover first; cache=None keeps it
    from answering a repeated tools/list itself.
    """
    with anyio.fail_after(CLIENT_TIMEOUT):
        async with Client(url, mode="legacy", cache=None, read_timeout_seconds=READ_TIMEOUT) as client:
            conversation.steps.append("initialize")
            tools = await client.list_tools()
            conversation.steps.append("tools/list")
            assert [tool.name for tool in tools.tools] == ["add"]
            for _ in range(calls):
                result = await client.call_tool("add", {"a": 2, "b": 3})
                conversation.steps.append("tools/call")
                assert not result.is_error, result
                [content] = result.content
                assert isinstance(content, TextContent)
                conversation.results.append(content.text)


def _try_behind_round_robin(
    source: Path, scratch: Path, tmp_path: Path
) -> tuple[Cluster, Conversation, BaseException | None]:
    """Serve `source` from two replicas behind nginx and talk to it once; return what happened."""
    server = scratch / source.name
    shutil.copyfile(source, server)
    conversation = Conversation()
    error: BaseException | None = None
    with round_robin_cluster([str(BIN / "tsx"), server.name], 2, tmp_path / "cluster", cwd=scratch) as cluster:
        try:
            anyio.run(_converse, cluster.url("/mcp"), 4, conversation)
        except Exception as exc:  # the failing case inspects it
            error = exc
    return cluster, conversation, error


def _assert_works(source: Path, scratch: Path, tmp_path: Path) -> None:
    """Two conversations through the proxy succeed, and both replicas answered requests."""
    server = scratch / source.name
    shutil.copyfile(source, server)
    with round_robin_cluster([str(BIN / "tsx"), server.name], 2, tmp_path / "cluster", cwd=scratch) as cluster:
        for _ in range(2):
            conversation = Conversation()
            try:
                anyio.run(_converse, cluster.url("/mcp"), 3, conversation)
            except Exception as exc:
                raise AssertionError(
                    f"client failed after {conversation.steps}: {exc!r}\n{cluster.logs()}\n{cluster.proxy.entries()}"
                ) from exc
            assert conversation.steps == ["initialize", "tools/list"] + ["tools/call"] * 3
            assert conversation.results == ["5"] * 3
        posts = [entry for entry in cluster.proxy.entries() if entry.method == "POST"]
        assert {entry.upstream for entry in posts} == set(cluster.addresses), posts
        assert all(entry.status < 400 for entry in posts), posts


def _flatten(error: BaseException) -> list[BaseException]:
    """The leaves of an exception group (the client's task groups may wrap the error)."""
    inner: object = getattr(error, "exceptions", None)
    if isinstance(inner, tuple):
        return [leaf for exc in inner if isinstance(exc, BaseException) for leaf in _flatten(exc)]
    return [error]


def test_canonical_stateful_fails_behind_round_robin(scratch: Path, tmp_path: Path) -> None:
    cluster, conversation, error = _try_behind_round_robin(CANONICAL, scratch, tmp_path)
    assert error is not None, f"the session-based server worked behind round-robin: {conversation}"
    # initialize lands on one replica, which opens a session there; the next request carrying
    # that session's ID goes to the other replica, which has never heard of it.
    assert conversation.steps[:1] == ["initialize"], (error, cluster.logs())
    errors = _flatten(error)
    assert any(isinstance(e, MCPError) and "No valid session ID" in e.message for e in errors), (
        f"unexpected failure after {conversation.steps}: {errors!r}\n{cluster.logs()}"
    )
    rejected = [entry for entry in cluster.proxy.entries() if entry.method == "POST" and entry.status == 400]
    initialized = [entry for entry in cluster.proxy.entries() if entry.method == "POST" and entry.status == 200]
    assert rejected and initialized
    assert {entry.upstream for entry in rejected}.isdisjoint({initialized[0].upstream})


def test_fixed_canonical_works_behind_round_robin(scratch: Path, tmp_path: Path) -> None:
    fixed = tmp_path / "fixed" / CANONICAL.name
    fixed.parent.mkdir()
    shutil.copyfile(CANONICAL, fixed)
    result = subprocess.run(
        [sys.executable, "-m", "mcp_migrate", "fix", "--unsafe-fixes", str(fixed)],
        capture_output=True,
        text=True,
        cwd=fixed.parent,
        timeout=120,
    )
    assert result.returncode in (0, 1), f"fix crashed ({result.returncode}):\n{result.stdout}{result.stderr}"
    if fixed.read_text(encoding="utf-8") == CANONICAL.read_text(encoding="utf-8"):
        pytest.fail(f"fix --unsafe-fixes left the canonical server unchanged:\n{result.stdout}{result.stderr}")
    _type_check({fixed.name: fixed}, scratch / "typecheck")
    _assert_works(fixed, scratch, tmp_path)


def test_handmade_stateless_works_behind_round_robin(scratch: Path, tmp_path: Path) -> None:
    """The target shape of the fix works: proof that the harness itself tells the two apart."""
    _assert_works(HANDMADE, scratch, tmp_path)


# Every MCP105 case the unsafe fix rewrites: its snapshot (which test_fixtures.py proves is the
# tool's output) must serve a legacy client through round-robin and refuse GET/DELETE.
REWRITTEN = sorted(path.parent for path in (FIXTURES / "MCP105").glob("*/expected.unsafe.ts"))
MCP_PATHS = {"generator_fills_map": "/api/mcp"}


def _sample_arguments(schema: dict[str, object]) -> dict[str, object]:
    properties = schema.get("properties")
    arguments: dict[str, object] = {}
    for name, spec in (properties if isinstance(properties, dict) else {}).items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        arguments[name] = 6 if kind in ("number", "integer") else ("UTC" if name == "timeZone" else "abc")
    return arguments


async def _use_any_tool(url: str, conversation: Conversation) -> None:
    with anyio.fail_after(CLIENT_TIMEOUT):
        async with Client(url, mode="legacy", cache=None, read_timeout_seconds=READ_TIMEOUT) as client:
            conversation.steps.append("initialize")
            tools = (await client.list_tools()).tools
            conversation.steps.append("tools/list")
            for _ in range(3):
                result = await client.call_tool(tools[0].name, _sample_arguments(tools[0].input_schema))
                assert not result.is_error, result
                conversation.steps.append("tools/call")


def _status(url: str, method: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, headers={"accept": "text/event-stream, application/json"})
    try:
        with urllib.request.urlopen(request, timeout=READ_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize("case", REWRITTEN, ids=lambda p: p.name)
def test_rewritten_fixture_works_behind_round_robin(case: Path, scratch: Path, tmp_path: Path) -> None:
    server = scratch / "server.ts"
    shutil.copyfile(case / "expected.unsafe.ts", server)
    with round_robin_cluster([str(BIN / "tsx"), server.name], 2, tmp_path / "cluster", cwd=scratch) as cluster:
        url = cluster.url(MCP_PATHS.get(case.name, "/mcp"))
        conversation = Conversation()
        try:
            anyio.run(_use_any_tool, url, conversation)
        except Exception as exc:
            raise AssertionError(f"client failed after {conversation.steps}: {exc!r}\n{cluster.logs()}") from exc
        for method in ("GET", "DELETE"):
            status, body = _status(url, method)
            assert status == 405, (method, status, body)
            assert json.loads(body)["error"]["code"] == -32000, body
        posts = [entry for entry in cluster.proxy.entries() if entry.method == "POST"]
        assert {entry.upstream for entry in posts} == set(cluster.addresses), posts


# -- the TypeScript fastmcp framework (npm `fastmcp`) ------------------------------------------
FASTMCP = FIXTURES / "MCP101" / "ts_fastmcp_framework"


def test_fastmcp_framework_fixed_by_check_works_behind_round_robin_and_the_original_does_not(
    scratch: Path, tmp_path: Path
) -> None:
    """`httpStream` with sessions breaks on the second replica; `stateless: true` (MCP101's
    fix) serves any tool call from either."""
    for name, expect_success in (("input.ts", False), ("expected.ts", True)):
        server = scratch / f"fastmcp_{name}"
        shutil.copyfile(FASTMCP / name, server)
        directory = tmp_path / name
        with round_robin_cluster([str(BIN / "tsx"), server.name], 2, directory, cwd=scratch) as cluster:
            conversation = Conversation()
            failure: BaseException | None = None
            for _ in range(2):
                try:
                    anyio.run(_use_any_tool, cluster.url("/mcp"), conversation)
                except Exception as exc:
                    failure = exc
                    break
            if expect_success:
                assert failure is None, f"{conversation.steps}: {failure!r}\n{cluster.logs()}"
                posts = [e for e in cluster.proxy.entries() if e.method == "POST"]
                assert {e.upstream for e in posts} == set(cluster.addresses), posts
            else:
                assert failure is not None, f"the session-based fastmcp server worked: {conversation.steps}"

"""Fixed code must call the real SDKs correctly.

For every fixture whose fixed output serves an mcp v2 `MCPServer` or a `fastmcp` server over
Streamable HTTP, each keyword the serving call passes must be a parameter of the installed
SDK's method that ends up receiving it (a misspelled or misplaced `stateless_http` would only
fail at start-up in production).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mcp_migrate.lang.python import PythonModule
from mcp_migrate.sdk.python import HTTP, Sdk, Serve, servers

fastmcp = pytest.importorskip("fastmcp")
mcpserver = pytest.importorskip("mcp.server.mcpserver")

FIXTURES = Path(__file__).parent / "fixtures"

# Where a serving call's keywords land in the installed SDKs, by method.
_RECEIVERS: dict[Sdk, dict[str, Callable[..., Any]]] = {
    Sdk.MCP_V2: {
        "run": mcpserver.MCPServer.run_streamable_http_async,  # run(**kwargs) forwards there
        "streamable_http_app": mcpserver.MCPServer.streamable_http_app,
        "run_streamable_http_async": mcpserver.MCPServer.run_streamable_http_async,
    },
    Sdk.FASTMCP: {
        "run": fastmcp.FastMCP.run_http_async,  # run -> run_async -> run_http_async(**kwargs)
        "http_app": fastmcp.FastMCP.http_app,
        "run_http_async": fastmcp.FastMCP.run_http_async,
    },
}


def _fixed_outputs() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*/expected*.py"))


def _http_serves(path: Path) -> list[tuple[Sdk, Serve]]:
    module = PythonModule(path.read_text(encoding="utf-8"))
    return [
        (server.sdk, serve)
        for server in servers(module)
        if server.sdk in _RECEIVERS
        for serve in server.serves
        if serve.transports == {HTTP}
    ]


def test_fixtures_exercise_both_sdks() -> None:
    sdks = {sdk for path in _fixed_outputs() for sdk, _ in _http_serves(path)}
    assert sdks == {Sdk.MCP_V2, Sdk.FASTMCP}


@pytest.mark.parametrize("path", _fixed_outputs(), ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}")
def test_fixed_calls_match_installed_sdk(path: Path) -> None:
    for sdk, serve in _http_serves(path):
        receiver = _RECEIVERS[sdk][serve.method]
        accepted = set(inspect.signature(receiver).parameters) | {"transport"}
        passed = {arg.keyword.value for arg in serve.call.args if arg.keyword is not None}
        assert passed <= accepted, f"{path}: {serve.method}() passes {sorted(passed - accepted)}"
        assert "stateless_http" in passed or "stateless" in passed, f"{path}: {serve.method}() is still stateful"

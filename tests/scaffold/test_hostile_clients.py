"""The reference server against hostile or broken clients (issue #18): each answer is a clean
HTTP/JSON-RPC error, the replica keeps serving everyone else, and nothing crashes or grows.

One replica of the generated server with a real Redis, driven with raw sockets and HTTP (the
official client would refuse to send most of this).
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from support import requires
from support.proxy import Replica, replicas
from support.redis_server import redis_binary, redis_server

pytestmark = [pytest.mark.slow, requires(None if redis_binary() else "redis-server is not installed")]

HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2025-11-25",
}


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    folder = tmp_path_factory.mktemp("hostile")
    tree = folder / "server"
    subprocess.run(
        [sys.executable, "-m", "mcp_migrate", "scaffold", "server", "--out", str(tree)], check=True, capture_output=True
    )
    with redis_server(folder / "redis") as redis:
        env = {"REDIS_URL": redis.url, "MCP_TASKS_DB": "", "MCP_REQUEST_STATE_KEYS": "h" * 64, "PYTHONUNBUFFERED": "1"}
        with replicas([sys.executable, "server.py"], 1, folder / "replica", cwd=tree, env=env) as started:
            yield started[0]


def post(replica: Replica, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{replica.port}/mcp", data=body, headers={**HEADERS, **(headers or {})}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    data = text.split("data: ", 1)[-1] if text.startswith(("event:", "data:")) else text
    try:
        parsed = json.loads(data) if data.strip() else {}
    except ValueError:
        parsed = {"raw": text[:200]}
    return status, parsed


def raw_status(replica: Replica, body: bytes, headers: dict[str, str]) -> int | None:
    """POST over a plain socket and read the status line: the server may answer (413, 431) and
    close before the request is sent whole, which urllib reports as a reset instead. None: the
    connection was closed without an answer."""
    lines = [f"{name}: {value}" for name, value in {**HEADERS, **headers}.items()]
    head = f"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n" + "\r\n".join(lines)
    with socket.create_connection(("127.0.0.1", replica.port), timeout=20) as sock:
        try:
            sock.sendall(head.encode() + b"\r\n\r\n")
            sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-body: the answer may still be waiting
        try:
            first = sock.recv(64)
        except ConnectionResetError:
            return None
    return int(first.split()[1]) if first.startswith(b"HTTP/1.1 ") else None


def still_serves(replica: Replica) -> None:
    status, reply = post(
        replica, json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {}}).encode()
    )
    assert status == 200 and "lookup_order" in json.dumps(reply), (status, reply)
    assert replica.process.poll() is None, replica.log()
    assert "Traceback" not in replica.log(), replica.log()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param(b'{"jsonrpc": "2.0", "id": 1, "method": ', 400, -32700, id="truncated-json"),
        pytest.param(b"[" * 200_000 + b"]" * 200_000, 400, -32700, id="nested-200000-deep"),
        pytest.param(
            b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":"\xff\xfe"}}', 400, -32700, id="bad-utf8"
        ),
        pytest.param(
            b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"lookup_order","arguments":{"order_id":[1]}}}',
            200,
            None,
            id="wrong-argument-type",
        ),
        pytest.param(b'{"jsonrpc":"2.0","id":1,"method":"no/such/method"}', 200, -32601, id="unknown-method"),
    ],
)
def test_malformed_requests_get_a_clean_error(replica: Replica, body: bytes, status: int, code: int | None) -> None:
    got, reply = post(replica, body)
    assert got == status, reply
    if code is not None:
        assert reply.get("error", {}).get("code") == code, reply
    else:  # a tool call with bad arguments: the tool's error result, not a crash
        assert reply.get("result", {}).get("isError") is True or "error" in reply, reply
    still_serves(replica)


def test_an_oversized_body_is_refused_before_it_is_read_whole(replica: Replica) -> None:
    big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"x": "a" * 40_000_000}}).encode()
    started = time.monotonic()
    assert raw_status(replica, big, {}) == 413
    assert time.monotonic() - started < 10
    still_serves(replica)


def test_an_oversized_header_is_refused(replica: Replica) -> None:
    assert raw_status(replica, b"{}", {"mcp-name": "x" * 200_000}) in (400, 431)
    still_serves(replica)


def test_tampered_request_state_is_rejected_not_trusted(replica: Replica) -> None:
    params = {
        "name": "cancel_order",
        "arguments": {"order_id": "o-1"},
        "inputResponses": {"confirm": {"action": "accept", "content": {"confirm": True}}},
        "requestState": "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
            "io.modelcontextprotocol/clientInfo": {"name": "hostile", "version": "1"},
        },
    }
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).encode()
    headers = {"mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "cancel_order"}
    _, reply = post(replica, body, headers)
    assert reply.get("error", {}).get("code") == -32602, reply  # and the order was not cancelled
    assert "order.cancel" not in replica.log()
    still_serves(replica)


def test_half_open_connections_and_a_body_that_never_ends_do_not_starve_others(replica: Replica) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(300):  # headers never finished (slowloris)
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", replica.port)))
            sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n")
        slow = stack.enter_context(socket.create_connection(("127.0.0.1", replica.port)))
        slow.sendall(
            b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"
        )
        started = time.monotonic()
        still_serves(replica)
        assert time.monotonic() - started < 5

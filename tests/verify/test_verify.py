"""`mcp-migrate verify` against real servers started by the tests: mcp 2 servers with sessions on
and off, TypeScript SDK 1.x servers (the canonical stateful one and the stateless target shape),
each as two replicas behind nginx round-robin or addressed one by one, and things that are not
MCP servers at all."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import need, requires
from support.proxy import free_ports, nginx_binary, replicas, round_robin_cluster

HERE = Path(__file__).parent
NODE = HERE.parent / "e2e" / "node"
TSX = NODE / "node_modules" / ".bin" / "tsx"
CANONICAL = HERE.parent / "fixtures" / "MCP105" / "express_canonical" / "input.ts"
STATELESS_TS = HERE.parent / "e2e" / "handmade_stateless.ts"


def _missing() -> str | None:
    if nginx_binary() is None:
        return "nginx not installed (scripts/test.sh installs it)"
    if not TSX.exists():
        return "no tests/e2e/node/node_modules (npm ci --prefix tests/e2e/node)"
    return None


pytestmark = [pytest.mark.slow, requires(_missing())]


def verify(*args: str) -> tuple[int, dict[str, object], str]:
    result = subprocess.run(
        [sys.executable, "-m", "mcp_migrate", "verify", "--timeout", "5", "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.returncode, report, result.stdout + result.stderr


def statuses(report: dict[str, object]) -> dict[str, str]:
    checks = report["checks"]
    assert isinstance(checks, list)
    return {check["name"]: check["status"] for check in checks}


@pytest.fixture
def scratch() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="scratch-verify-", dir=NODE))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _python(stateless: bool) -> tuple[list[str], dict[str, str]]:
    return [sys.executable, str(HERE / "python_server.py")], {"STATELESS": "1" if stateless else "0"}


def test_stateless_python_passes_behind_round_robin_and_replica_by_replica(tmp_path: Path) -> None:
    command, env = _python(stateless=True)
    with round_robin_cluster(command, 2, tmp_path, env=env) as cluster:
        code, report, output = verify(cluster.url("/mcp"), "--call", "add", "--args", '{"a": 2, "b": 3}')
        assert code == 0, output
        assert statuses(report)["modern.get-delete-405"] == "pass"
        assert statuses(report)["client.conversation"] == "pass"
        served = {entry.upstream for entry in cluster.proxy.entries()}
        assert served == set(cluster.addresses), "verify's requests did not reach both replicas"
        direct = [f"http://{address}/mcp" for address in cluster.addresses]
        code, report, output = verify(*direct)
        assert code == 0, output


def test_stateful_python_fails_naming_the_legacy_checks(tmp_path: Path) -> None:
    command, env = _python(stateless=False)
    with round_robin_cluster(command, 2, tmp_path, env=env) as cluster:
        code, report, output = verify(cluster.url("/mcp"))
    assert code == 1, output
    failed = {name for name, status in statuses(report).items() if status == "fail"}
    assert {"legacy.no-session-minted", "legacy.round-robin", "legacy.foreign-session"} <= failed, output
    # mcp 2 serves 2026-07-28 requests without sessions even here: those checks pass.
    assert statuses(report)["modern.no-handshake"] == "pass"


def test_stateless_typescript_passes(tmp_path: Path, scratch: Path) -> None:
    shutil.copyfile(STATELESS_TS, scratch / "server.ts")
    with round_robin_cluster([str(TSX), "server.ts"], 2, tmp_path, cwd=scratch) as cluster:
        code, report, output = verify(cluster.url("/mcp"), "--call", "add", "--args", '{"a": 1, "b": 2}')
    assert code == 0, output
    assert statuses(report)["modern.discover"] == "skip"  # SDK 1.x speaks only 2025 versions


def test_stateful_typescript_fails(tmp_path: Path, scratch: Path) -> None:
    shutil.copyfile(CANONICAL, scratch / "server.ts")
    with round_robin_cluster([str(TSX), "server.ts"], 2, tmp_path, cwd=scratch) as cluster:
        code, report, output = verify(cluster.url("/mcp"))
    assert code == 1, output
    failed = {name for name, status in statuses(report).items() if status == "fail"}
    assert {"legacy.no-session-minted", "legacy.sessionless-requests", "legacy.round-robin"} <= failed, output


def test_not_an_mcp_server_fails_cleanly(tmp_path: Path) -> None:
    with replicas([sys.executable, str(HERE / "garbage_server.py")], 1, tmp_path) as [replica]:
        code, report, output = verify(f"http://{replica.address}/mcp")
        assert code == 1, output
        assert statuses(report) == {"mcp-endpoint": "fail"}
        assert "not an MCP endpoint" in output
        code, report, output = verify(f"https://{replica.address}/mcp")  # TLS to a plain-HTTP port
        assert code == 2, output
        assert "TLS" in report["unreachable"][f"https://{replica.address}/mcp"], output  # type: ignore[index]


def test_refused_connection_is_unreachable() -> None:
    [port] = free_ports(1)
    code, report, output = verify(f"http://127.0.0.1:{port}/mcp")
    assert code == 2, output
    assert report["result"] == "unreachable"
    assert "connection refused" in output


def test_reference_server_passes_with_and_without_the_proxy(tmp_path: Path) -> None:
    """The server `mcp-migrate scaffold server` generates: three replicas sharing tasks through a
    real Redis. Through nginx and replica by replica, every check passes, the task check included."""
    from support.redis_server import redis_binary, redis_server

    need(None if redis_binary() else "redis-server not installed (scripts/test.sh installs it)")
    tree = tmp_path / "server"
    subprocess.run([sys.executable, "-m", "mcp_migrate", "scaffold", "server", "--out", str(tree)], check=True)
    refund = ["--call", "refund", "--args", '{"order_id": "o-7", "amount_cents": 1200}']
    with redis_server(tmp_path / "redis") as redis:
        env = {"REDIS_URL": redis.url, "MCP_TASKS_DB": "", "REFUND_STEP_SECONDS": "0.05", "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "server.py"]
        with round_robin_cluster(command, 3, tmp_path / "cluster", cwd=tree, env=env) as cluster:
            code, report, output = verify(cluster.url("/mcp"), *refund)
            assert code == 0, output
            assert statuses(report)["tasks.visible-everywhere"] == "pass", output
            direct = [f"http://{address}/mcp" for address in cluster.addresses]
            code, report, output = verify(*direct, *refund)
            assert code == 0, output
            assert statuses(report)["tasks.visible-everywhere"] == "pass", output


def test_reference_server_shares_request_state_and_change_notifications(tmp_path: Path) -> None:
    """The 2026-07-28 checks on the reference server: a multi round-trip call retried through
    another replica, and a listener on one replica hearing a change made through another. With
    shared keys and the Redis bus both pass; with per-process keys and the in-memory bus both
    fail, saying why."""
    from support.redis_server import redis_binary, redis_server

    need(None if redis_binary() else "redis-server not installed (scripts/test.sh installs it)")
    tree = tmp_path / "server"
    subprocess.run([sys.executable, "-m", "mcp_migrate", "scaffold", "server", "--out", str(tree)], check=True)
    calls = [
        *("--call", "cancel_order", "--args", '{"order_id": "o-9"}'),
        *("--change", "place_order", "--change-args", '{"item": "lamp", "amount_cents": 1200}'),
    ]
    checks = ("modern.multi-round-trip-other-replica", "modern.listen-other-replica")
    command = [sys.executable, "server.py"]
    with redis_server(tmp_path / "redis") as redis:
        shared = {
            "REDIS_URL": redis.url,
            "MCP_TASKS_DB": "",
            "MCP_REQUEST_STATE_KEYS": "k" * 64,
            "PYTHONUNBUFFERED": "1",
        }
        with round_robin_cluster(command, 3, tmp_path / "shared", cwd=tree, env=shared) as cluster:
            direct = [f"http://{address}/mcp" for address in cluster.addresses]
            code, report, output = verify(*direct, *calls)
            assert [statuses(report)[name] for name in checks] == ["pass", "pass"], output + json.dumps(report)
    alone = {"MCP_TASKS_DB": f"sqlite:///{tmp_path / 'tasks.db'}", "ORDERS_DB": str(tmp_path / "orders.db")}
    with round_robin_cluster(
        command, 3, tmp_path / "alone", cwd=tree, env={**alone, "PYTHONUNBUFFERED": "1"}
    ) as cluster:
        direct = [f"http://{address}/mcp" for address in cluster.addresses]
        code, report, output = verify(*direct, *calls)
        assert code == 1, output
        assert [statuses(report)[name] for name in checks] == ["fail", "fail"], output
        assert "Invalid or expired requestState" in output and "MCP207" in output


def test_the_2026_checks_skip_clearly_without_a_tool_to_call(tmp_path: Path) -> None:
    command, env = _python(stateless=True)
    with round_robin_cluster(command, 2, tmp_path, env=env) as cluster:
        _, report, output = verify(cluster.url("/mcp"))
    found = statuses(report)
    for name in ("modern.multi-round-trip-other-replica", "modern.listen-other-replica"):
        assert found.get(name, "skip") == "skip", output

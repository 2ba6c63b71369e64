"""Proof for `mcp-migrate scaffold server` (issue #6), with real components only.

The generated server runs as three replicas (separate processes) behind a real nginx that
balances round-robin, sharing a real redis-server, and is driven through nginx by the official
MCP Python client, in 2026-07-28 mode (declaring the Tasks extension, so it gets tasks and
uses `tasks/get`) and in legacy mode (initialize handshake; it gets the fallback tool result
and uses `get_task_status`). Which replica did what is read off the replicas' JSON logs.

mcp 2.3's client has the hooks for the Tasks extension (result claims, custom requests with
`Mcp-Name`), not the extension: its client half is here, as small as the tests need.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import pytest
import yaml
from mcp import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.client.session import ClientRequestContext, ElicitationFnT
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ResourceUpdated
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CallToolResult,
    ElicitRequestParams,
    ElicitResult,
    EmptyResult,
    Request,
    RequestParams,
    Result,
    TextContent,
)
from pydantic import ConfigDict
from support import requires
from support.proxy import Cluster, Replica, free_ports, nginx_binary, round_robin_cluster
from support.redis_server import redis_binary

TASKS = "io.modelcontextprotocol/tasks"
RELATED_TASK = "io.modelcontextprotocol/related-task"
MODES = ("2026-07-28", "legacy")
TERMINAL = ("completed", "failed", "cancelled")
CONVERSATION_TIMEOUT = 30.0  # one test's whole conversation: nothing may hang CI
READ_TIMEOUT = 10.0  # one request

# Fast enough for a test, slow enough to watch: a refund takes 5 steps of 0.15 s, each step a
# heartbeat; the reaper fails a task silent for 5 s (1.2 s where a replica is killed on purpose).
SERVER_ENV = {
    "REFUND_STEP_SECONDS": "0.15",
    "TASK_MAX_IDLE_MS": "5000",
    "REAPER_INTERVAL_SECONDS": "0.25",
    "PYTHONUNBUFFERED": "1",
}


def _missing() -> str | None:
    missing = [name for name, found in (("nginx", nginx_binary()), ("redis-server", redis_binary())) if not found]
    return f"{' and '.join(missing)} not installed (scripts/test.sh installs them)" if missing else None


pytestmark = [pytest.mark.slow, requires(_missing())]


# --- the client half of the Tasks extension -------------------------------------------------


class CreateTaskResult(Result):
    """What a tool call returns when the server made it a task (SEP-2663)."""

    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"] = "task"
    task_id: str
    status: str


class TaskIdParams(RequestParams):
    task_id: str


class TaskUpdateParams(TaskIdParams):
    input_responses: dict[str, Any]


class GetTaskRequest(Request[TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: TaskIdParams
    name_param = "taskId"  # SEP-2663: Mcp-Name carries the task id, so a proxy could route by it


class UpdateTaskRequest(Request[TaskUpdateParams, Literal["tasks/update"]]):
    method: Literal["tasks/update"] = "tasks/update"
    params: TaskUpdateParams
    name_param = "taskId"


class CancelTaskRequest(Request[TaskIdParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    params: TaskIdParams
    name_param = "taskId"


class DetailedTask(Result):
    model_config = ConfigDict(extra="allow")
    task_id: str
    status: str


async def _finish(created: CreateTaskResult, ctx: ClaimContext) -> CallToolResult:
    """Resolve a task into the tool's result, as `Client.call_tool` callers expect."""
    with anyio.fail_after(CONVERSATION_TIMEOUT):
        while True:
            task = await ctx.session.send_request(
                GetTaskRequest(params=TaskIdParams(task_id=created.task_id)), DetailedTask
            )
            wire = task.model_dump(by_alias=True, exclude_none=True)
            if wire["status"] == "completed":
                return CallToolResult.model_validate(wire["result"])
            if wire["status"] in TERMINAL:
                raise MCPError(**wire.get("error", {"code": -32603, "message": wire["status"]}))
            await anyio.sleep(0.05)


class TasksClient(ClientExtension):
    identifier = TASKS

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreateTaskResult, resolve=_finish)]


class NotFound(Exception):
    """The server said the task does not exist (for this caller)."""


@dataclass
class Caller:
    """One client in one mode, with the task operations of that mode: the extension's methods
    for 2026-07-28, the fallback tools for legacy."""

    client: Client
    mode: str

    async def call(self, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        result = await self.client.call_tool(tool, arguments)
        assert not result.is_error, result
        return result

    async def start_refund(self, order_id: str, amount_cents: int) -> str:
        arguments = {"order_id": order_id, "amount_cents": amount_cents}
        if self.mode == "legacy":
            result = await self.call("refund", arguments)
            assert result.meta is not None and result.structured_content is not None, result
            assert result.structured_content["status"] in ("working", "input_required")
            task_id: str = result.meta[RELATED_TASK]["taskId"]
            return task_id
        created = await self.client.session.call_tool("refund", arguments, allow_claimed=True)
        assert isinstance(created, CreateTaskResult), created
        assert created.status == "working"
        return created.task_id

    async def task(self, task_id: str) -> dict[str, Any]:
        if self.mode == "legacy":
            return await self._tool("get_task_status", {"task_id": task_id})
        return await self._request(GetTaskRequest(params=TaskIdParams(task_id=task_id)), DetailedTask)

    async def answer(self, task_id: str, responses: dict[str, Any]) -> None:
        if self.mode == "legacy":
            await self._tool("provide_task_input", {"task_id": task_id, "input_responses": responses})
        else:
            params = TaskUpdateParams(task_id=task_id, input_responses=responses)
            await self._request(UpdateTaskRequest(params=params), EmptyResult)

    async def cancel(self, task_id: str) -> None:
        if self.mode == "legacy":
            await self._tool("cancel_task", {"task_id": task_id})
        else:
            await self._request(CancelTaskRequest(params=TaskIdParams(task_id=task_id)), EmptyResult)

    async def wait(self, task_id: str, until: tuple[str, ...] = TERMINAL) -> dict[str, Any]:
        with anyio.fail_after(CONVERSATION_TIMEOUT):
            while (task := await self.task(task_id))["status"] not in until:
                await anyio.sleep(0.05)
            return task

    async def _tool(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments)
        if result.is_error:
            [content] = result.content
            assert isinstance(content, TextContent)
            assert "task not found" in content.text, content.text
            raise NotFound(content.text)
        assert result.structured_content is not None
        return result.structured_content

    async def _request(self, request: Request[Any, Any], result_type: type[Result]) -> dict[str, Any]:
        try:
            result = await self.client.session.send_request(request, result_type)
        except MCPError as exc:
            if exc.code == -32602 and "task not found" in exc.message:
                raise NotFound(exc.message) from exc
            raise
        return result.model_dump(by_alias=True, exclude_none=True)


@contextlib.asynccontextmanager
async def connect(
    url: str, mode: str, *, token: str | None = None, elicit: ElicitationFnT | None = None
) -> AsyncIterator[Caller]:
    """A client through the proxy; `token` is sent as a bearer token (the server's principal);
    `elicit` answers the server's questions.

    Both modes carry the Tasks extension; mcp's client advertises it on 2026-07-28 requests
    only (the extension is 2026 vocabulary), so the legacy client is a plain legacy client."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with create_mcp_http_client(headers=headers) as http:
        client = Client(
            streamable_http_client(url, http_client=http),
            mode=mode,  # type: ignore[arg-type]  # a str from the parametrization
            cache=None,
            read_timeout_seconds=READ_TIMEOUT,
            extensions=[TasksClient()],
            elicitation_callback=elicit,
        )
        async with client:
            yield Caller(client, mode)


def converse(cluster: Cluster, scenario: Callable[[], Awaitable[None]]) -> None:
    """Run a client scenario under a deadline; on failure, show what the servers logged."""

    async def bounded() -> None:
        with anyio.fail_after(CONVERSATION_TIMEOUT):
            await scenario()

    try:
        anyio.run(bounded)
    except BaseException:
        print(cluster.logs())
        raise


# --- the running system ----------------------------------------------------------------------


def events(replica: Replica) -> list[dict[str, Any]]:
    """The replica's JSON log lines (anything else, e.g. a traceback's lines, skipped)."""
    found = []
    for line in replica.log().splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict):
                found.append(event)
    return found


def requests_served(cluster: Cluster, **match: Any) -> Counter[str]:
    """How many MCP requests matching `match` (log fields) each replica served."""
    counts: Counter[str] = Counter()
    for replica in cluster.replicas:
        for event in events(replica):
            if event.get("event") == "mcp.request" and all(event.get(k) == v for k, v in match.items()):
                counts[replica.address] += 1
    return counts


def worker_of(cluster: Cluster, task_id: str) -> Replica:
    """The replica running the task's work (it logs `task.work.start` for it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for replica in cluster.replicas:
            if any(e.get("event") == "task.work.start" and e.get("taskId") == task_id for e in events(replica)):
                return replica
        time.sleep(0.02)
    raise AssertionError(f"no replica started task {task_id}\n{cluster.logs()}")


async def stopped_listening(replica: Replica) -> None:
    """Wait until the replica refuses connections (it stops listening before it drains)."""
    with anyio.fail_after(10):
        while True:
            try:
                stream = await anyio.connect_tcp("127.0.0.1", replica.port)
            except OSError:
                return
            await stream.aclose()
            await anyio.sleep(0.02)


def refund_result(task: dict[str, Any]) -> dict[str, Any]:
    """The refund's own result, out of a completed task."""
    assert task["status"] == "completed", task
    [content] = task["result"]["content"]
    refund: dict[str, Any] = json.loads(content["text"])
    return refund


@pytest.fixture(scope="module")
def server_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference server, generated the way a user would."""
    out = tmp_path_factory.mktemp("reference") / "refund-server"
    subprocess.run(
        [sys.executable, "-m", "mcp_migrate", "scaffold", "server", "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out


def redis_database(redis_url: str, number: int) -> str:
    """The same Redis, another database: clusters (and the store tests) cannot see each
    other's tasks, nor reap them."""
    return f"{redis_url.rsplit('/', 1)[0]}/{number}"


@contextlib.contextmanager
def serve(server_tree: Path, directory: Path, redis_url: str, **env: str) -> Iterator[Cluster]:
    """Three replicas of the generated server behind round-robin nginx, sharing tasks through
    Redis at `redis_url` (or through the default SQLite file when it is empty). A request
    nginx cannot deliver (the replica is dead) goes to the next one, as in production proxies."""
    with round_robin_cluster(
        [sys.executable, "server.py"],
        3,
        directory,
        cwd=server_tree,
        env={**SERVER_ENV, "REDIS_URL": redis_url, "MCP_TASKS_DB": "", **env},
        next_upstream="error timeout",
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def cluster(server_tree: Path, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with serve(server_tree, tmp_path_factory.mktemp("cluster"), redis_database(redis_url, 3)) as running:
        yield running


# --- the proof ---------------------------------------------------------------------------------


def test_generated_tree_passes_check(server_tree: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mcp_migrate", "check", "--format", "json", "--no-progress", str(server_tree)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["findings"] == []
    expected = {"server.py", "requirements.txt", "README.md", "deploy/k8s.yaml", "deploy/nginx.conf"}
    assert expected <= {p.relative_to(server_tree).as_posix() for p in server_tree.rglob("*") if p.is_file()}


def test_deployment_files(server_tree: Path, tmp_path: Path) -> None:
    """The Kubernetes manifests say what issue #6 asks; nginx accepts the local config."""
    documents = [d for d in yaml.safe_load_all((server_tree / "deploy" / "k8s.yaml").read_text()) if d]
    by_kind = {(d["kind"], d["metadata"]["name"]): d for d in documents}
    server = by_kind["Deployment", "refund-server"]["spec"]
    assert server["replicas"] == 3
    [container] = server["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert {e["name"]: e.get("value") for e in container["env"]}["REDIS_URL"] == "redis://redis:6379/0"
    assert "sessionAffinity" not in by_kind["Service", "refund-server"]["spec"]
    assert by_kind["HorizontalPodAutoscaler", "refund-server"]["spec"]["minReplicas"] == 3
    assert by_kind["PodDisruptionBudget", "refund-server"]["spec"]["minAvailable"] == 2
    assert ("Deployment", "redis") in by_kind and ("Service", "redis") in by_kind
    binary = nginx_binary()
    assert binary is not None
    done = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(server_tree / "deploy" / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    config = (server_tree / "deploy" / "nginx.conf").read_text()
    assert config.count("server 127.0.0.1:800") == 3 and "proxy_buffering off;" in config


@pytest.mark.parametrize("mode", MODES)
def test_calls_spread_over_all_replicas(cluster: Cluster, mode: str) -> None:
    before = requests_served(cluster, method="tools/call", tool="lookup_order")

    async def scenario() -> None:
        async with connect(cluster.url("/mcp"), mode) as caller:
            tools = await caller.client.list_tools()
            names = {tool.name for tool in tools.tools}
            assert {"lookup_order", "refund", "get_task_status", "cancel_task", "provide_task_input"} <= names
            for n in range(6):
                result = await caller.call("lookup_order", {"order_id": f"spread-{mode}-{n}"})
                assert result.structured_content is not None
                assert result.structured_content["order_id"] == f"spread-{mode}-{n}"

    converse(cluster, scenario)
    served = requests_served(cluster, method="tools/call", tool="lookup_order") - before
    assert set(served) == set(cluster.addresses), served
    assert sum(served.values()) == 6


@pytest.mark.parametrize("mode", MODES)
def test_task_is_followed_through_other_replicas(cluster: Cluster, mode: str) -> None:
    task_id = ""
    final: dict[str, Any] = {}

    async def scenario() -> None:
        nonlocal task_id, final
        async with connect(cluster.url("/mcp"), mode) as caller:
            task_id = await caller.start_refund(f"follow-{mode}", 1234)
            final = await caller.wait(task_id)

    converse(cluster, scenario)
    assert refund_result(final)["status"] == "refunded"
    assert final["taskId"] == task_id and final["ttlMs"] > 0 and final["pollIntervalMs"] > 0
    worker = worker_of(cluster, task_id).address
    polls = requests_served(cluster, taskId=task_id)
    others = set(cluster.addresses) - {worker}
    assert others <= set(polls), f"task {task_id} worked on {worker}, read on {dict(polls)}"
    if mode == "2026-07-28":  # SEP-2663: tasks/* name the task in Mcp-Name, for proxies that route by it
        named = requests_served(cluster, method="tasks/get", mcpName=task_id)
        assert sum(named.values()) == sum(requests_served(cluster, method="tasks/get", taskId=task_id).values())
        assert len(named) >= 2, named
        assert {e.mcp_name for e in cluster.proxy.entries() if e.mcp_method == "tasks/get"} >= {task_id}


def test_only_clients_declaring_the_extension_get_a_task_result(cluster: Cluster) -> None:
    """SEP-2663: no CreateTaskResult for a request that did not declare the extension."""

    async def scenario() -> None:
        arguments = {"order_id": "plain-2026", "amount_cents": 100}
        async with Client(cluster.url("/mcp"), mode="auto", cache=None) as plain:  # discovers
            assert plain.protocol_version == "2026-07-28"
            assert TASKS in (plain.server_capabilities.extensions or {})
            result = await plain.call_tool("refund", arguments)
        assert isinstance(result, CallToolResult) and not result.is_error
        assert result.meta is not None and result.structured_content is not None
        assert result.meta[RELATED_TASK]["taskId"] == result.structured_content["taskId"]
        async with connect(cluster.url("/mcp"), "2026-07-28") as caller:
            created = await caller.client.session.call_tool("refund", arguments, allow_claimed=True)
            assert isinstance(created, CreateTaskResult)
            # ...and mcp's client resolves it transparently (the claim polls tasks/get).
            finished = await caller.client.call_tool("refund", arguments)
            [content] = finished.content
            assert isinstance(content, TextContent) and json.loads(content.text)["status"] == "refunded"

    converse(cluster, scenario)


@pytest.mark.parametrize("mode", MODES)
def test_task_asks_for_input_mid_task(cluster: Cluster, mode: str) -> None:
    final: dict[str, Any] = {}

    async def scenario() -> None:
        nonlocal final
        async with connect(cluster.url("/mcp"), mode) as caller:
            task_id = await caller.start_refund(f"big-{mode}", 75_000)
            waiting = await caller.wait(task_id, until=("input_required", *TERMINAL))
            assert waiting["status"] == "input_required", waiting
            [(key, question)] = waiting["inputRequests"].items()
            assert question["method"] == "elicitation/create"
            await caller.answer(task_id, {"never-asked": {"action": "accept", "content": {}}})  # ignored
            await caller.answer(task_id, {key: {"action": "accept", "content": {"confirm": True}}})
            final = await caller.wait(task_id)

    converse(cluster, scenario)
    refund = refund_result(final)
    assert (refund["status"], refund["amount_cents"]) == ("refunded", 75_000)
    if mode == "2026-07-28":
        _assert_named_and_spread(cluster, "tasks/update", final["taskId"], at_least=2)


def _assert_named_and_spread(cluster: Cluster, method: str, task_id: str, at_least: int) -> None:
    """SEP-2663: every `method` request for the task carried `Mcp-Name: <taskId>` (the proxy saw it)
    and they reached `at_least` different replicas, none of which lost the task."""
    seen = [e for e in cluster.proxy.entries() if e.mcp_method == method and e.mcp_name == task_id]
    assert len({e.upstream for e in seen}) >= at_least, seen
    assert all(e.status == 200 for e in seen), seen
    served = requests_served(cluster, method=method, mcpName=task_id)
    assert sum(served.values()) == len(seen), (served, seen)


@pytest.mark.parametrize("mode", MODES)
def test_owner_cancels_a_task(cluster: Cluster, mode: str) -> None:
    task_id = ""

    async def scenario() -> None:
        nonlocal task_id
        async with connect(cluster.url("/mcp"), mode) as caller:
            task_id = await caller.start_refund(f"cancel-{mode}", 300)
            await caller.cancel(task_id)
            assert (await caller.wait(task_id))["status"] == "cancelled"
            await caller.cancel(task_id)  # acknowledged again; a final status stays final
            worker = worker_of(cluster, task_id)
            with anyio.fail_after(5):  # the worker notices at its next heartbeat and stops
                discarded = {"event": "task.work.discarded", "taskId": task_id}
                while not any(discarded.items() <= e.items() for e in events(worker)):
                    await anyio.sleep(0.05)
            assert (await caller.task(task_id))["status"] == "cancelled"

    converse(cluster, scenario)
    if mode == "2026-07-28":  # the two cancels went through the proxy by name, to different replicas
        _assert_named_and_spread(cluster, "tasks/cancel", task_id, at_least=2)


@pytest.mark.parametrize("mode", MODES)
def test_another_principal_cannot_read_or_cancel_a_task(cluster: Cluster, mode: str) -> None:
    final: dict[str, Any] = {}

    async def scenario() -> None:
        nonlocal final
        url = cluster.url("/mcp")
        async with (
            connect(url, mode, token="alice-secret") as alice,
            connect(url, mode, token="mallory-secret") as mallory,
            connect(url, mode) as anonymous,
        ):
            task_id = await alice.start_refund(f"alice-{mode}", 4200)
            for other in (mallory, anonymous):
                for attempt in (other.task, other.cancel):
                    with pytest.raises(NotFound) as denied:
                        await attempt(task_id)
                    # Indistinguishable from an id that never existed: nothing to probe.
                    with pytest.raises(NotFound) as unknown:
                        await attempt("x" * len(task_id))
                    assert str(denied.value).replace(task_id, "ID") == str(unknown.value).replace(
                        "x" * len(task_id), "ID"
                    )
                with pytest.raises(NotFound):
                    await other.answer(task_id, {"k": {"action": "accept"}})
            final = await alice.wait(task_id)

    converse(cluster, scenario)
    assert refund_result(final)["status"] == "refunded"  # not cancelled by anyone else


def test_200_concurrent_calls(cluster: Cluster) -> None:
    """2 clients per mode, 50 calls each at once (40 quick, 10 refunds); then every refund
    task completes."""
    before = requests_served(cluster, method="tools/call")
    logged = len(cluster.proxy.entries())
    errors: list[BaseException] = []
    started: list[tuple[Caller, str]] = []

    async def one(caller: Caller, n: int) -> None:
        try:
            if n % 5 == 0:
                started.append((caller, await caller.start_refund(f"load-{caller.mode}-{n}", 100 + n)))
            else:
                result = await caller.call("lookup_order", {"order_id": f"load-{n}"})
                assert result.structured_content is not None
        except Exception as exc:
            errors.append(exc)

    async def scenario() -> None:
        url = cluster.url("/mcp")
        async with (
            connect(url, "2026-07-28") as a,
            connect(url, "2026-07-28") as b,
            connect(url, "legacy") as c,
            connect(url, "legacy") as d,
        ):
            began = time.monotonic()
            async with anyio.create_task_group() as group:
                for caller in (a, b, c, d):
                    for n in range(50):
                        group.start_soon(one, caller, n)
            print(f"200 concurrent calls in {time.monotonic() - began:.2f}s")
            assert not errors, errors[:3]
            assert len(started) == 40
            for caller, task_id in started:
                assert refund_result(await caller.wait(task_id))["status"] == "refunded"

    converse(cluster, scenario)
    served = requests_served(cluster, method="tools/call") - before
    assert set(served) == set(cluster.addresses) and min(served.values()) >= 40, served
    failed = [entry for entry in cluster.proxy.entries()[logged:] if entry.status >= 400]
    assert not failed, failed[:5]


@pytest.mark.parametrize("mode", MODES)
def test_kill_9_of_the_worker_mid_task(server_tree: Path, redis_url: str, tmp_path: Path, mode: str) -> None:
    """The replica doing a refund dies (SIGKILL: no cleanup). The task does not vanish: the
    survivors' reaper fails it with a clear error; the client retries and the survivors serve."""
    database = redis_database(redis_url, 4 + MODES.index(mode))
    with serve(server_tree, tmp_path / "cluster", database, TASK_MAX_IDLE_MS="1200") as cluster:
        killed: list[Replica] = []
        outcome: dict[str, Any] = {}

        async def scenario() -> None:
            async with connect(cluster.url("/mcp"), mode) as caller:
                task_id = await caller.start_refund(f"doomed-{mode}", 999)
                worker = worker_of(cluster, task_id)
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait(timeout=5)
                killed.append(worker)
                outcome["abandoned"] = await caller.wait(task_id)
                # The client retries the call; the survivors do the work.
                retried = await caller.start_refund(f"doomed-{mode}", 999)
                outcome["retried"] = await caller.wait(retried)
                outcome["retry_worker"] = worker_of(cluster, retried).address
                for n in range(6):
                    await caller.call("lookup_order", {"order_id": f"after-kill-{n}"})

        try:
            converse(cluster, scenario)
        except BaseException:
            print(cluster.logs())
            raise
        [dead] = killed
        abandoned = outcome["abandoned"]
        print(f"after kill -9 of {dead.address}: {abandoned}")
        assert abandoned["status"] == "failed", abandoned
        assert abandoned["error"]["code"] == -32603
        assert "abandoned" in abandoned["error"]["message"] and "worker stopped" in abandoned["statusMessage"]
        assert refund_result(outcome["retried"])["status"] == "refunded"
        assert outcome["retry_worker"] != dead.address
        survivors = set(cluster.addresses) - {dead.address}
        after = requests_served(cluster, method="tools/call", tool="lookup_order")
        assert set(after) == survivors, after


def test_sqlite_default_store_and_graceful_shutdown(server_tree: Path, tmp_path: Path) -> None:
    """Without REDIS_URL the replicas share tasks through SQLite (./tasks.db: one host). And a
    replica told to stop (SIGTERM, as in a rolling deploy) finishes its running work first."""
    with serve(server_tree, tmp_path / "cluster", redis_url="", SHUTDOWN_DRAIN_SECONDS="10") as cluster:
        final: dict[str, Any] = {}
        stopping: list[Replica] = []

        async def scenario() -> None:
            nonlocal final
            async with connect(cluster.url("/mcp"), "legacy") as caller:
                task_id = await caller.start_refund("sqlite", 500)
                worker = worker_of(cluster, task_id)
                os.killpg(worker.process.pid, signal.SIGTERM)
                stopping.append(worker)
                await stopped_listening(worker)  # so that no later request can reach it
                final = await caller.wait(task_id)

        converse(cluster, scenario)
        [stopped] = stopping
        assert stopped.process.wait(timeout=10) is not None
        assert refund_result(final)["status"] == "refunded"
        completed_by = [
            replica.address
            for replica in cluster.replicas
            for e in events(replica)
            if e.get("event") == "task.transition" and e.get("taskId") == final["taskId"] and e["to"] == "completed"
        ]
        assert completed_by == [stopped.address]  # drained, not abandoned
        ready = [e for replica in cluster.replicas for e in events(replica) if e.get("event") == "replica.ready"]
        assert [e["store"] for e in ready] == ["SqliteTaskStore"] * 3
        assert (server_tree / "tasks.db").exists()
        assert set(requests_served(cluster, taskId=final["taskId"])) == set(cluster.addresses) - {stopped.address}


# --- under faults (issue #18) -------------------------------------------------------------------
def test_invalid_arguments_are_refused_before_a_task_exists(cluster: Cluster, redis_url: str) -> None:
    """`amount_cents: -5` used to create a task that failed and lived 24 h."""
    import redis as sync_redis

    store = sync_redis.Redis.from_url(redis_database(redis_url, 3))
    before = len(store.keys("mcp:task:*"))
    errors: list[MCPError] = []

    async def scenario() -> None:
        async with connect(cluster.url("/mcp"), "2026-07-28") as caller:
            try:
                await caller.call("refund", {"order_id": "ord-bad", "amount_cents": -5})
            except MCPError as exc:
                errors.append(exc)

    converse(cluster, scenario)
    [error] = errors
    assert error.error.code == -32602 and "amount_cents" in error.message, error
    assert len(store.keys("mcp:task:*")) == before


@contextlib.contextmanager
def _own_redis(directory: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A redis-server of this test's own, persisting every write (AOF), and a function that
    kills it and starts it again on the same port _OUTAGE_S later, its data intact."""
    binary = redis_binary()
    assert binary is not None
    directory.mkdir(parents=True, exist_ok=True)
    [port] = free_ports(1)
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
    command += ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no"]

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return process
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    running = [start()]

    def outage() -> None:
        os.killpg(running[0].pid, signal.SIGKILL)
        running[0].wait(timeout=5)
        time.sleep(_OUTAGE_S)
        running[0] = start()

    try:
        yield f"redis://127.0.0.1:{port}/0", outage
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(running[0].pid, signal.SIGKILL)
        running[0].wait(timeout=5)


_OUTAGE_S = 3.0


def test_a_short_redis_outage_does_not_fail_running_work_and_is_said_clearly(server_tree: Path, tmp_path: Path) -> None:
    """Redis killed for 3 s mid-refund: the work goes on (its heartbeat retries) and completes;
    a call made while Redis is down answers "task store unavailable", not a bare -32603."""
    outcome: dict[str, Any] = {}
    with _own_redis(tmp_path / "redis") as (url, outage):
        env = {"REFUND_STEP_SECONDS": "1.0", "TASK_MAX_IDLE_MS": "10000"}
        with serve(server_tree, tmp_path / "cluster", url, **env) as cluster:

            async def scenario() -> None:
                async with connect(cluster.url("/mcp"), "2026-07-28") as caller:
                    task_id = await caller.start_refund("ord-outage", 1200)
                    async with anyio.create_task_group() as group:
                        group.start_soon(anyio.to_thread.run_sync, outage)
                        await anyio.sleep(0.5)  # Redis is down by now
                        try:
                            await caller.start_refund("ord-during-outage", 100)
                        except MCPError as exc:
                            outcome["during"] = exc
                    outcome["task"] = await caller.wait(task_id)

            try:
                converse(cluster, scenario)
            except BaseException:
                print(cluster.logs())
                raise
    assert refund_result(outcome["task"])["status"] == "refunded"
    during = outcome.get("during")
    assert during is not None and "task store unavailable" in during.message, during


# --- what else must be shared in the 2026-07-28 era (issue #16) ---------------------------------

SHARED_KEYS = f"{secrets.token_hex(32)},{secrets.token_hex(32)}"  # a rotation ring: the first seals


@pytest.fixture(scope="module")
def keyed_cluster(server_tree: Path, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The deployment as deploy/k8s.yaml has it: request-state keys from one Secret."""
    directory = tmp_path_factory.mktemp("keyed")
    with serve(server_tree, directory, redis_database(redis_url, 4), MCP_REQUEST_STATE_KEYS=SHARED_KEYS) as running:
        yield running


async def confirm(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    """The user says yes."""
    return ElicitResult(action="accept", content={"confirm": True})


def cancel_order(cluster: Cluster, order_id: str) -> CallToolResult | MCPError:
    """`cancel_order` through the proxy by a 2026-07-28 client that confirms: a multi round-trip
    call (the first round answers with a question and a sealed requestState, the client retries)."""
    outcome: list[CallToolResult | MCPError] = []

    async def scenario() -> None:
        async with connect(cluster.url("/mcp"), "2026-07-28", elicit=confirm) as caller:
            try:
                outcome.append(await caller.client.call_tool("cancel_order", {"order_id": order_id}))
            except MCPError as exc:
                outcome.append(exc)

    converse(cluster, scenario)
    return outcome[0]


def rounds_of(cluster: Cluster) -> list[str]:
    """The replica the proxy sent each `cancel_order` round to, oldest first (tests take the
    rounds their own call added)."""
    entries = cluster.proxy.entries()
    return [e.upstream for e in entries if e.mcp_method == "tools/call" and e.mcp_name == "cancel_order"]


def test_a_multi_round_trip_retry_on_another_replica_succeeds_with_shared_keys(keyed_cluster: Cluster) -> None:
    before = len(rounds_of(keyed_cluster))
    result = cancel_order(keyed_cluster, "ord-shared")
    assert isinstance(result, CallToolResult) and not result.is_error, result
    assert result.structured_content == {"order_id": "ord-shared", "status": "cancelled"}
    first, retry = rounds_of(keyed_cluster)[before:]
    assert first != retry, "round-robin sent the retry to the replica that sealed the state"
    served = requests_served(keyed_cluster, method="tools/call", tool="cancel_order")
    assert set(served) == {first, retry}


def test_with_per_process_keys_the_same_retry_fails_with_invalid_request_state(cluster: Cluster) -> None:
    """The `cluster` fixture sets no MCP_REQUEST_STATE_KEYS: each replica seals with its own key
    (mcp 2.x's default), which is what MCP206 reports."""
    before = len(rounds_of(cluster))
    result = cancel_order(cluster, "ord-per-process")
    assert isinstance(result, MCPError), result
    assert (result.code, result.message) == (-32602, "Invalid or expired requestState")
    first, retry = rounds_of(cluster)[before:]
    assert first != retry
    [rejecting] = [r for r in cluster.replicas if r.address == retry]
    assert any("requestState rejected" in str(e.get("message")) for e in events(rejecting)), rejecting.log()
    assert any(e.get("event") == "request_state.per_process_key" for e in events(rejecting))


def place_order_heard_by_a_listener(cluster: Cluster, wait: float) -> tuple[dict[str, Any], list[Any]]:
    """One client listens for `orders://recent` changes; another places an order. Returns the
    order and the events the listener received within `wait` seconds."""
    heard: list[Any] = []
    placed: dict[str, Any] = {}

    async def scenario() -> None:
        async with (
            connect(cluster.url("/mcp"), "2026-07-28") as listener,
            connect(cluster.url("/mcp"), "2026-07-28") as writer,
            listener.client.listen(resource_subscriptions=["orders://recent"]) as stream,
        ):
            result = await writer.call("place_order", {"item": "lamp", "amount_cents": 1200})
            assert result.structured_content is not None
            placed.update(result.structured_content)
            with anyio.move_on_after(wait):
                heard.append(await stream.__anext__())

    converse(cluster, scenario)
    return placed, heard


def listen_and_place_replicas(cluster: Cluster, since: int) -> tuple[str, str]:
    entries = cluster.proxy.entries()[since:]
    deadline = time.monotonic() + 5  # nginx logs a stream when it ends
    while not any(e.mcp_method == "subscriptions/listen" for e in entries) and time.monotonic() < deadline:
        time.sleep(0.05)
        entries = cluster.proxy.entries()[since:]
    [listen] = [e.upstream for e in entries if e.mcp_method == "subscriptions/listen"]
    [place] = [e.upstream for e in entries if e.mcp_name == "place_order"]
    return listen, place


def test_a_change_on_one_replica_reaches_a_listener_on_another_through_redis(keyed_cluster: Cluster) -> None:
    since = len(keyed_cluster.proxy.entries())
    placed, heard = place_order_heard_by_a_listener(keyed_cluster, wait=10)
    assert heard == [ResourceUpdated(uri="orders://recent")], keyed_cluster.logs()
    listen, place = listen_and_place_replicas(keyed_cluster, since)
    assert listen != place

    async def read_back() -> None:
        async with connect(keyed_cluster.url("/mcp"), "2026-07-28") as reader:
            resource = await reader.client.read_resource("orders://recent")
            [content] = resource.contents
            newest = json.loads(getattr(content, "text", "[]"))
            assert newest[0]["order_id"] == placed["order_id"]  # read back through yet another replica

    converse(keyed_cluster, read_back)


def test_with_the_in_memory_bus_the_listener_on_another_replica_hears_nothing(
    server_tree: Path, tmp_path: Path
) -> None:
    """No REDIS_URL: the SDK's InMemorySubscriptionBus (what MCP207 reports); tasks and orders go
    to a SQLite file the replicas share on this host, so only notifications stay per process."""
    database = tmp_path / "shared.db"
    env = {"MCP_TASKS_DB": f"sqlite:///{database}", "ORDERS_DB": str(tmp_path / "orders.db")}
    with serve(server_tree, tmp_path / "cluster", "", **env) as cluster:
        since = len(cluster.proxy.entries())
        placed, heard = place_order_heard_by_a_listener(cluster, wait=2)
        listen, place = listen_and_place_replicas(cluster, since)
    assert placed["order_id"].startswith("ord_")
    assert listen != place
    assert heard == []

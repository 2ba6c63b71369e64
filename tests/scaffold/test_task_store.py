"""The generated task store (`mcp-migrate scaffold tasks`): one contract suite, run against the
in-memory store, SQLite, and a real redis-server, plus multi-process races on SQLite and Redis.

Everything here imports the generated copy of `mcp_tasks` (see conftest.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support import requires, task_workers

from .conftest import REDIS_MISSING, open_fresh

pytestmark = pytest.mark.anyio

OWNER = "alice"
OTHER = "mallory"
STATES = ["working", "input_required", "completed", "failed", "cancelled"]
TERMINAL = {"completed", "failed", "cancelled"}
ID = re.compile(r"[A-Za-z0-9_-]+")
ABANDONED = re.compile(r"task abandoned: no progress for (\d+) ms \(its worker stopped\)")
SHARED = [pytest.param("sqlite"), pytest.param("redis", marks=[pytest.mark.slow, requires(REDIS_MISSING)])]


async def reach(store: Any, status: str, *, tool: str = "render") -> Any:
    """A new task of OWNER's, driven to `status`."""
    task = await store.create(principal=OWNER, tool=tool, arguments={"page": 1}, ttl_ms=60_000)
    if status == "input_required":
        task = await store.require_input(task.task_id, input_requests={"q1": {"method": "elicitation/create"}})
    elif status == "completed":
        task = await store.complete(task.task_id, result={"content": [{"type": "text", "text": "done"}]})
    elif status == "failed":
        task = await store.fail(task.task_id, error={"code": -32603, "message": "boom"})
    elif status == "cancelled":
        task = await store.cancel(task.task_id, principal=OWNER)
    assert task.status == status
    return task


async def attempt(store: Any, task_id: str, wanted: str) -> Any:
    """Ask the store for `wanted` through the method that leads there."""
    if wanted == "working":
        return await store.provide_input(task_id, principal=OWNER, input_responses={"q1": {"action": "accept"}})
    if wanted == "input_required":
        return await store.require_input(task_id, input_requests={"q2": {"method": "elicitation/create"}})
    if wanted == "completed":
        return await store.complete(task_id, result={"content": []})
    if wanted == "failed":
        return await store.fail(task_id, error={"code": -32603, "message": "late"})
    return await store.cancel(task_id, principal=OWNER)


def transitions(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == "mcp_tasks"]


async def present(store: Any, task_id: str) -> bool:
    """Whether the backend still holds the task at all (expired or not)."""
    kind = type(store).__name__
    if kind == "MemoryTaskStore":
        return task_id in store._tasks
    if kind == "SqliteTaskStore":
        with sqlite3.connect(store.path) as connection:
            return connection.execute("SELECT 1 FROM mcp_tasks WHERE task_id = ?", (task_id,)).fetchone() is not None
    return bool(await store._redis.exists(store._key(task_id)))


# --- the contract, on every backend ---------------------------------------------------------


def test_the_suite_runs_the_generated_copy(tasks: ModuleType, generated: Path) -> None:
    assert Path(tasks.__file__).parent == generated / "mcp_tasks"
    assert {p.name for p in (generated / "mcp_tasks").iterdir()} >= {
        "__init__.py",
        "store.py",
        "memory.py",
        "sqlite.py",
        "redis_store.py",
        "reaper.py",
        "README.md",
    }


@pytest.mark.parametrize("wanted", STATES)
@pytest.mark.parametrize("current", STATES)
async def test_transition_table(tasks: ModuleType, store: Any, current: str, wanted: str) -> None:
    task = await reach(store, current)
    allowed = wanted in tasks.ALLOWED.get(current, ())
    if allowed:
        after = await attempt(store, task.task_id, wanted)
        assert after.status == wanted
    elif wanted == "cancelled":  # cancelling a final task is acknowledged and changes nothing
        assert (await attempt(store, task.task_id, wanted)) == task
    else:
        with pytest.raises(tasks.InvalidTransition) as raised:
            await attempt(store, task.task_id, wanted)
        assert (raised.value.current, raised.value.wanted) == (current, wanted)
    stored = await store.get(task.task_id, principal=OWNER)
    assert stored.status == (wanted if allowed else current)
    assert allowed == (current not in TERMINAL and current != wanted)


@pytest.mark.parametrize("final", sorted(TERMINAL))
async def test_terminal_states_are_final(tasks: ModuleType, store: Any, final: str) -> None:
    task = await reach(store, final)
    for change in (
        store.update(task.task_id, status_message="still here?"),  # the worker's heartbeat: its cue to stop
        store.require_input(task.task_id, input_requests={"q9": {}}),
        store.provide_input(task.task_id, principal=OWNER, input_responses={"q1": {}}),
        store.complete(task.task_id, result={"content": []}),
        store.fail(task.task_id, error={"code": -32603, "message": "again"}),
    ):
        with pytest.raises(tasks.InvalidTransition):
            await change
    assert await store.cancel(task.task_id, principal=OWNER) == task
    assert await store.reap(max_working_ms={}, default_max_ms=0) == []
    assert await store.get(task.task_id, principal=OWNER) == task


async def test_a_task_round_trips_every_field(store: Any) -> None:
    created = await store.create(
        principal=OWNER, tool="render", arguments={"pages": [1, 2.5, None, {}]}, ttl_ms=60_000, poll_interval_ms=500
    )
    assert created.status == "working" and created.created_ms == created.updated_ms
    assert await store.get(created.task_id, principal=OWNER) == created
    asking = await store.require_input(created.task_id, input_requests={"a": {"x": []}}, message="need a")
    result = {"content": [{"type": "text", "text": "é ✓"}], "structuredContent": {"n": 1e-9, "list": []}}
    await store.provide_input(created.task_id, principal=OWNER, input_responses={"a": {"ok": True}})
    done = await store.complete(created.task_id, result=result)
    stored = await store.get(created.task_id, principal=OWNER)
    assert stored == done and stored.result == result and stored.input_requests == asking.input_requests
    assert stored.input_responses == {"a": {"ok": True}} and stored.arguments == {"pages": [1, 2.5, None, {}]}
    assert (stored.ttl_ms, stored.poll_interval_ms, stored.tool, stored.principal) == (60_000, 500, "render", OWNER)


async def test_other_principals_get_not_found_without_a_hint(tasks: ModuleType, store: Any) -> None:
    task = await reach(store, "input_required")
    unknown = tasks.new_task_id()

    async def message(call: Any, task_id: str) -> str:
        with pytest.raises(tasks.TaskNotFound) as raised:
            await call
        return str(raised.value).replace(task_id, "<id>")

    expected = await message(store.get(unknown, principal=OTHER), unknown)
    assert expected == await message(store.get(task.task_id, principal=OTHER), task.task_id)
    assert expected == await message(
        store.provide_input(task.task_id, principal=OTHER, input_responses={"q1": {"action": "accept"}}), task.task_id
    )
    assert expected == await message(store.cancel(task.task_id, principal=OTHER), task.task_id)
    assert expected == await message(store.cancel(unknown, principal=OTHER), unknown)
    assert OWNER not in expected and "principal" not in expected
    assert await store.get(task.task_id, principal=OWNER) == task  # untouched by the attempts


async def test_ids_are_unique_and_carry_at_least_128_random_bits(tasks: ModuleType, store: Any) -> None:
    created = [await store.create(principal=OWNER, tool="t") for _ in range(20)]
    ids = [task.task_id for task in created] + [tasks.new_task_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for task_id in ids:
        assert ID.fullmatch(task_id), task_id  # base64url: 6 bits a character
        assert len(task_id) * 6 >= 128
    assert len({task_id[:4] for task_id in ids}) > 10_000  # no shared prefix or counter


async def test_ttl_expiry(tasks: ModuleType, store: Any) -> None:
    short = await store.create(principal=OWNER, tool="t", ttl_ms=50)
    lasting = await store.create(principal=OWNER, tool="t", ttl_ms=60_000)
    forever = await store.create(principal=OWNER, tool="t")
    assert short.ttl_ms == 50  # (not read back: on a loaded machine 50 ms may be over already)
    await asyncio.sleep(0.12)
    with pytest.raises(tasks.TaskNotFound):
        await store.get(short.task_id, principal=OWNER)
    with pytest.raises(tasks.TaskNotFound):  # the worker cannot revive it either
        await store.complete(short.task_id, result={"content": []})
    assert await store.reap(max_working_ms={}, default_max_ms=60_000) == []  # expired is dropped, not failed
    if type(store).__name__ == "RedisTaskStore":  # Redis drops the key itself, after a margin
        from mcp_tasks.redis_store import EXPIRY_MARGIN_MS

        assert 0 < await store._redis.pttl(store._key(short.task_id)) <= 50 + EXPIRY_MARGIN_MS
        assert await store._redis.pttl(store._key(forever.task_id)) == -1
    else:
        assert not await present(store, short.task_id)
    for task in (lasting, forever):
        assert (await store.get(task.task_id, principal=OWNER)).status == "working"


async def test_reaper_fails_abandoned_work_only(
    tasks: ModuleType, store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    abandoned = await store.create(principal=OWNER, tool="fast")
    slow_tool = await store.create(principal=OWNER, tool="slow")  # the default limit applies
    waiting = await reach(store, "input_required", tool="fast")  # waits for the client, not a worker
    beating = await store.create(principal=OWNER, tool="fast")
    await asyncio.sleep(0.15)
    await store.update(beating.task_id, status_message="page 2 of 3")  # the heartbeat
    caplog.set_level(logging.INFO, logger="mcp_tasks")

    reaped = await store.reap(max_working_ms={"fast": 100}, default_max_ms=10_000)

    assert [task.task_id for task in reaped] == [abandoned.task_id]
    failed = await store.get(abandoned.task_id, principal=OWNER)
    assert failed.status == "failed" and failed.error["code"] == -32603 and reaped[0] == failed
    idle = ABANDONED.fullmatch(failed.error["message"])
    assert idle and int(idle.group(1)) >= 150, failed.error
    assert failed.status_message == failed.error["message"]
    assert [(line["taskId"], line["from"], line["to"]) for line in transitions(caplog)] == [
        (abandoned.task_id, "working", "failed")
    ]
    for task, status in ((slow_tool, "working"), (waiting, "input_required"), (beating, "working")):
        assert (await store.get(task.task_id, principal=OWNER)).status == status
    assert await store.reap(max_working_ms={"fast": 100}, default_max_ms=10_000) == []
    with pytest.raises(tasks.InvalidTransition):  # a worker that wakes up late learns it was reaped
        await store.update(abandoned.task_id)


async def test_one_json_log_line_per_transition(store: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mcp_tasks")
    task = await store.create(principal=OWNER, tool="render")
    await store.update(task.task_id, status_message="1/2")  # heartbeats are not transitions
    await store.update(task.task_id)
    await store.require_input(task.task_id, input_requests={"a": {}, "b": {}})
    await store.provide_input(task.task_id, principal=OWNER, input_responses={"a": 1})  # partial: no transition
    await store.provide_input(task.task_id, principal=OWNER, input_responses={"b": 2})
    done = await store.complete(task.task_id, result={"content": []})
    await store.cancel(task.task_id, principal=OWNER)  # acknowledged, changes nothing
    with pytest.raises(Exception, match="cannot become"):
        await store.fail(task.task_id, error={"code": -32603, "message": "x"})

    lines = transitions(caplog)
    assert [(line["from"], line["to"]) for line in lines] == [
        (None, "working"),
        ("working", "input_required"),
        ("input_required", "working"),
        ("working", "completed"),
    ]
    for line in lines:
        assert set(line) == {"event", "taskId", "from", "to", "tool", "duration_ms"}
        assert (line["event"], line["taskId"], line["tool"]) == ("task.transition", task.task_id, "render")
        assert isinstance(line["duration_ms"], int) and line["duration_ms"] >= 0
    assert lines[0]["duration_ms"] == 0 and lines[-1]["duration_ms"] == done.updated_ms - done.created_ms
    assert all("\n" not in record.getMessage() for record in caplog.records)


async def test_input_answers_merge_until_none_is_outstanding(tasks: ModuleType, store: Any) -> None:
    task = await store.create(principal=OWNER, tool="t")
    await store.require_input(task.task_id, input_requests={"a": {"m": 1}, "b": {"m": 2}}, message="two questions")
    partial = await store.provide_input(task.task_id, principal=OWNER, input_responses={"a": "A", "zzz": "ignored"})
    assert partial.status == "input_required" and partial.input_responses == {"a": "A"}
    assert partial.to_wire()["inputRequests"] == {"b": {"m": 2}}
    same = await store.provide_input(task.task_id, principal=OWNER, input_responses={"a": "again", "zzz": 0})
    assert same == partial  # nothing outstanding answered: nothing written
    resumed = await store.provide_input(task.task_id, principal=OWNER, input_responses={"b": "B"})
    assert resumed.status == "working" and resumed.input_responses == {"a": "A", "b": "B"}
    with pytest.raises(ValueError, match="already answered"):  # SEP-2663: keys unique over a task's life
        await store.require_input(task.task_id, input_requests={"b": {}})
    with pytest.raises(tasks.InvalidTransition):  # answers while working: nothing is outstanding
        await store.provide_input(task.task_id, principal=OWNER, input_responses={"b": "late"})
    assert (await store.require_input(task.task_id, input_requests={"c": {}})).to_wire()["inputRequests"] == {"c": {}}


async def test_wire_shape(store: Any) -> None:
    task = await store.create(principal=OWNER, tool="t", ttl_ms=1000, poll_interval_ms=250)
    wire = task.to_wire()
    assert wire == {
        "taskId": task.task_id,
        "status": "working",
        "createdAt": wire["createdAt"],
        "lastUpdatedAt": wire["createdAt"],
        "ttlMs": 1000,
        "pollIntervalMs": 250,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", wire["createdAt"])
    failed = (await store.fail(task.task_id, error={"code": -32603, "message": "down"}, message="API down")).to_wire()
    assert (failed["status"], failed["error"], failed["statusMessage"]) == (
        "failed",
        {"code": -32603, "message": "down"},
        "API down",
    )
    assert "result" not in failed and "inputRequests" not in failed
    unlimited = (await store.create(principal=OWNER, tool="t")).to_wire()
    assert unlimited["ttlMs"] is None and "pollIntervalMs" not in unlimited


async def test_bad_arguments_are_refused(store: Any) -> None:
    for bad in ({"principal": ""}, {"ttl_ms": 0}, {"ttl_ms": -5}, {"ttl_ms": True}, {"poll_interval_ms": 1.5}):
        with pytest.raises(ValueError):
            await store.create(**{"principal": OWNER, "tool": "t", **bad})
    task = await store.create(principal=OWNER, tool="t")
    with pytest.raises(ValueError, match="JSON-RPC error"):
        await store.fail(task.task_id, error={"message": "no code"})
    with pytest.raises(ValueError, match="empty"):
        await store.require_input(task.task_id, input_requests={})
    assert (await store.get(task.task_id, principal=OWNER)).status == "working"


@pytest.mark.parametrize("backend", SHARED, indirect=True)
async def test_durable_before_create_returns(tasks: ModuleType, url: str, prefix: str, store: Any) -> None:
    """Another replica (a second store on the same file or server) finds the task at once."""
    other = open_fresh(tasks, url, prefix)
    try:
        task = await store.create(principal=OWNER, tool="t", ttl_ms=60_000)
        assert await other.get(task.task_id, principal=OWNER) == task
        done = await other.complete(task.task_id, result={"content": []})
        assert await store.get(task.task_id, principal=OWNER) == done
        with pytest.raises(tasks.InvalidTransition):
            await store.fail(task.task_id, error={"code": -32603, "message": "too late"})
    finally:
        await other.close()


# --- open_store and the reaper --------------------------------------------------------------


async def test_open_store_urls(tasks: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MCP_TASKS_DB", raising=False)
    assert type(tasks.open_store("memory://")).__name__ == "MemoryTaskStore"
    default = tasks.open_store()
    assert type(default).__name__ == "SqliteTaskStore" and default.path == Path("tasks.db")
    await default.create(principal=OWNER, tool="t")
    await default.close()
    assert (tmp_path / "tasks.db").is_file()
    assert tasks.open_store(f"sqlite:///{tmp_path}/abs/t.db").path == tmp_path / "abs" / "t.db"
    assert tasks.open_store("sqlite:///data/t.db").path == Path("data/t.db")
    monkeypatch.setenv("MCP_TASKS_DB", "memory://")
    assert type(tasks.open_store()).__name__ == "MemoryTaskStore"
    redis_store = tasks.open_store("redis://127.0.0.1:1/0")  # lazy: nothing connects yet
    assert type(redis_store).__name__ == "RedisTaskStore"
    await redis_store.close()
    for bad in ("postgres://db/tasks", "sqlite://tasks.db", "sqlite:///", "tasks.db", "sqlite:///:memory:"):
        with pytest.raises(ValueError):
            tasks.open_store(bad)


async def test_run_reaper_keeps_reaping_after_a_failed_pass(
    tasks: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    from mcp_tasks.reaper import run_reaper

    class Flaky(tasks.MemoryTaskStore):  # type: ignore[name-defined,misc]
        passes = 0

        async def reap(self, **limits: Any) -> Any:
            self.passes += 1
            if self.passes == 1:
                raise ConnectionError("database restarting")
            return await super().reap(**limits)

    store = Flaky()
    task = await store.create(principal=OWNER, tool="quick")
    reaper = asyncio.create_task(run_reaper(store, max_working_ms={"quick": 1}, default_max_ms=10**9, interval_s=0.01))
    try:
        deadline = time.monotonic() + 5
        while (await store.get(task.task_id, principal=OWNER)).status == "working":
            assert time.monotonic() < deadline, "the reaper never failed the abandoned task"
            await asyncio.sleep(0.01)
    finally:
        reaper.cancel()
    assert store.passes >= 2
    assert any("reaper: pass failed" in record.getMessage() for record in caplog.records)


async def test_reaper_command_runs_once(tasks: ModuleType, generated: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tasks.db'}"
    store = tasks.open_store(url)
    stuck = await store.create(principal=OWNER, tool="render")
    fresh = await store.create(principal=OWNER, tool="other")
    await asyncio.sleep(0.05)
    command = [sys.executable, "-m", "mcp_tasks.reaper", "--store", url, "--default-max-ms", "600000"]
    command += ["--max", "render=10", "--once"]
    done = subprocess.run(command, cwd=generated, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["taskId"], line["to"]) for line in lines] == [(stuck.task_id, "failed")]
    assert (await store.get(stuck.task_id, principal=OWNER)).status == "failed"
    assert (await store.get(fresh.task_id, principal=OWNER)).status == "working"
    await store.close()


# --- several processes at once ---------------------------------------------------------------


def run_processes(target: Any, generated: Path, url: str, prefix: str, jobs: list[tuple[Any, ...]]) -> list[Any]:
    """Start one spawned process per job, all released together by a barrier; their reports."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(str(generated), url, prefix, barrier, results, *job)) for job in jobs
    ]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    failures = [report["error"] for report in reports if not report["ok"]]
    assert not failures, "\n".join(failures)
    return reports


TARGET = {"complete": "completed", "fail": "failed", "cancel": "cancelled", "reap": "failed"}


@pytest.mark.slow
@pytest.mark.parametrize("backend", SHARED, indirect=True)
async def test_racing_replicas_have_exactly_one_winner(
    tasks: ModuleType, generated: Path, url: str, prefix: str, store: Any
) -> None:
    """Six processes race complete / complete / fail / cancel / reap / reap on the same tasks."""
    created = [await store.create(principal=OWNER, tool=("reapable", "other")[n % 2]) for n in range(40)]
    ids = [task.task_id for task in created]
    roles = ["complete", "complete", "fail", "cancel", "reap", "reap"]
    await asyncio.sleep(0.01)  # the reapable ones are now idle for longer than their 1 ms limit

    reports = run_processes(task_workers.race, generated, url, prefix, [(role, ids, OWNER) for role in roles])

    lines = [json.loads(line) for report in reports for line in report["lines"]]
    assert all(line["from"] == "working" and line["to"] in TERMINAL for line in lines), lines
    for task in created:
        final = await store.get(task.task_id, principal=OWNER)
        logged = [line for line in lines if line["taskId"] == task.task_id]
        winners = [r["report"]["role"] for r in reports if r["report"]["outcomes"].get(task.task_id) == "won"]
        assert len(logged) == 1 and len(winners) == 1, (task.task_id, logged, winners)
        assert TARGET[winners[0]] == final.status == logged[0]["to"]
        assert winners[0] != "reap" or task.tool == "reapable"
        for report in reports:
            role, outcome = report["report"]["role"], report["report"]["outcomes"].get(task.task_id)
            expected = {"complete": {"won", "invalid"}, "fail": {"won", "invalid"}, "cancel": {"won", "lost"}}
            assert role == "reap" or outcome in expected[role], (role, outcome)
        if final.status == "completed":
            assert final.result == {"content": [], "by": "complete"} and final.error is None
    if type(store).__name__ == "SqliteTaskStore":
        with sqlite3.connect(store.path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            rows = connection.execute("SELECT task_id, status, body FROM mcp_tasks").fetchall()
        assert sorted(row[0] for row in rows) == sorted(ids)
        assert all(json.loads(body)["status"] == status for _, status, body in rows)
    else:  # Redis: one write per task, and the index of working tasks is empty again
        for task_id in ids:
            assert await store._redis.hget(store._key(task_id), "v") == "1"
        assert await store._redis.zcard(store._working) == 0


@pytest.mark.slow
async def test_many_processes_create_on_one_fresh_sqlite_file(
    tasks: ModuleType, generated: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'tasks.db'}"
    jobs = [(50, f"p{n}") for n in range(4)]

    reports = run_processes(task_workers.create_many, generated, url, "", jobs)

    store = tasks.open_store(url)
    ids = [task_id for report in reports for task_id in report["report"]["ids"]]
    assert len(ids) == len(set(ids)) == 200
    for report in reports:
        for task_id in report["report"]["ids"]:
            task = await store.get(task_id, principal=report["report"]["principal"])
            assert task.status == "working" and task.tool == "bulk"
    assert sum(len(report["lines"]) for report in reports) == 200
    await store.close()
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("SELECT count(*) FROM mcp_tasks").fetchone() == (200,)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)

"""Process bodies for the multi-process task store tests (run under the `spawn` start method).

Each worker imports the GENERATED `mcp_tasks` (its folder comes as an argument), opens the store
by URL like a separate replica would, waits at a barrier so that all workers start together,
does its part, and sends back what happened plus every log line it wrote.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from typing import Any

Report = dict[str, Any]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _open(generated: str, url: str, prefix: str) -> Any:
    sys.path.insert(0, generated)
    import mcp_tasks

    if url.startswith("redis://"):
        from mcp_tasks.redis_store import RedisTaskStore

        return RedisTaskStore.from_url(url, prefix=prefix)
    return mcp_tasks.open_store(url)


def _run(body: Any, generated: str, url: str, prefix: str, barrier: Any, results: Any, *args: Any) -> None:
    lines = _Lines()
    logger = logging.getLogger("mcp_tasks")
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    try:
        store = _open(generated, url, prefix)

        async def main() -> Any:
            try:
                return await body(store, barrier, *args)
            finally:
                await store.close()

        report = asyncio.run(main())
        results.put({"ok": True, "report": report, "lines": lines.lines})
    except BaseException:
        results.put({"ok": False, "error": traceback.format_exc(), "lines": lines.lines})


async def _race(store: Any, barrier: Any, role: str, task_ids: list[str], principal: str) -> Report:
    """Play one role on every task: complete, fail, cancel, or reap. For each task: "won" (this
    call made the final transition), "invalid" (InvalidTransition), or "lost" (cancel or reap
    found the task already final)."""
    from mcp_tasks import InvalidTransition

    await store.reap(max_working_ms={}, default_max_ms=10**9)  # warm up: connect, create the schema
    barrier.wait()
    outcomes: dict[str, str] = {}
    if role == "reap":
        for _ in range(3):
            for task in await store.reap(max_working_ms={"reapable": 1}, default_max_ms=10**9):
                outcomes[task.task_id] = "won"
        return {"role": role, "outcomes": outcomes}
    for task_id in task_ids:
        try:
            if role == "complete":
                await store.complete(task_id, result={"content": [], "by": role})
                outcomes[task_id] = "won"
            elif role == "fail":
                await store.fail(task_id, error={"code": -32603, "message": "racing"})
                outcomes[task_id] = "won"
            else:
                task = await store.cancel(task_id, principal=principal)
                outcomes[task_id] = "won" if task.status == "cancelled" else "lost"
        except InvalidTransition:
            outcomes[task_id] = "invalid"
    return {"role": role, "outcomes": outcomes}


def race(
    generated: str, url: str, prefix: str, barrier: Any, results: Any, role: str, ids: list[str], who: str
) -> None:
    _run(_race, generated, url, prefix, barrier, results, role, ids, who)


async def _create_many(store: Any, barrier: Any, count: int, principal: str) -> Report:
    barrier.wait()  # every process opens a fresh file at once: the schema set-up races too
    created = [await store.create(principal=principal, tool="bulk", arguments={"n": n}) for n in range(count)]
    return {"ids": [task.task_id for task in created], "principal": principal}


def create_many(generated: str, url: str, prefix: str, barrier: Any, results: Any, count: int, who: str) -> None:
    _run(_create_many, generated, url, prefix, barrier, results, count, who)

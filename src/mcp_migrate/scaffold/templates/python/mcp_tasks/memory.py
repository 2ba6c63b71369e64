"""In-memory task store: for tests and single-process development, lost on restart.

Tasks are kept as JSON, like the other backends keep them, so a result that would not survive
SQLite or Redis fails here too, and callers mutating a returned task cannot change the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from .store import Change, Task, TaskNotFound, TaskStore, abandoned, apply, committed, new_task, now_ms


class MemoryTaskStore(TaskStore):
    def __init__(self) -> None:
        self._tasks: dict[str, str] = {}
        # Nothing inside the critical sections awaits today; the lock keeps them atomic if that changes.
        self._lock = asyncio.Lock()

    def _load(self, task_id: str) -> Task | None:
        text = self._tasks.get(task_id)
        return Task.from_json(text) if text is not None else None

    async def create(
        self,
        *,
        principal: str,
        tool: str,
        arguments: dict[str, Any] | None = None,
        ttl_ms: int | None = None,
        poll_interval_ms: int | None = None,
    ) -> Task:
        task = new_task(
            principal=principal, tool=tool, arguments=arguments, ttl_ms=ttl_ms, poll_interval_ms=poll_interval_ms
        )
        async with self._lock:
            self._tasks[task.task_id] = task.to_json()
            committed(None, task)
        return task

    async def get(self, task_id: str, *, principal: str) -> Task:
        task = self._load(task_id)
        if task is None or task.expired() or task.principal != principal:
            raise TaskNotFound(task_id)
        return task

    async def _change(self, task_id: str, principal: str | None, change: Change) -> Task:
        async with self._lock:
            before = self._load(task_id)
            after = apply(task_id, before, principal, change)
            if after is before:
                return after
            self._tasks[task_id] = after.to_json()
            committed(before, after)
            return after

    async def reap(self, *, max_working_ms: Mapping[str, int], default_max_ms: int) -> list[Task]:
        failed = []
        async with self._lock:
            now = now_ms()
            for task_id in list(self._tasks):
                task = Task.from_json(self._tasks[task_id])
                if task.expired(now):
                    del self._tasks[task_id]
                elif (after := abandoned(task, now, max_working_ms, default_max_ms)) is not None:
                    self._tasks[task_id] = after.to_json()
                    committed(task, after)
                    failed.append(after)
        return failed

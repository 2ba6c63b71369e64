"""SQLite task store: the embedded default, for one host (any number of processes sharing a file).

Every change is one `BEGIN IMMEDIATE` transaction: it takes the database's write lock before
reading the task, so two processes racing on one task run one after the other and the second
sees the first one's result (a deferred transaction would read first and then fail to upgrade
its lock). WAL mode lets readers (`get`) run while a writer holds that lock; `busy_timeout`
makes writers queue for the lock instead of failing. Each call borrows a pooled connection, so
the store is safe from any thread; the blocking calls run in a worker thread, off the event loop.

Not for several hosts: SQLite's locking over network file systems is unreliable; use Redis.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .store import Change, Task, TaskNotFound, TaskStore, abandoned, apply, committed, new_task, now_ms

# The whole task is one JSON document (`body`); the columns beside it are copies the store
# queries by: `status`/`updated_ms` for the reaper, `expires_ms` (created + ttl) for purging.
SCHEMA = """
CREATE TABLE IF NOT EXISTS mcp_tasks (
    task_id    TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mcp_tasks_working ON mcp_tasks (updated_ms) WHERE status = 'working';
CREATE INDEX IF NOT EXISTS mcp_tasks_expiry ON mcp_tasks (expires_ms) WHERE expires_ms IS NOT NULL;
"""


class SqliteTaskStore(TaskStore):
    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = 30.0) -> None:
        if str(path) == ":memory:" or str(path).startswith("file:"):
            raise ValueError("SqliteTaskStore needs a file shared by every process (use MemoryTaskStore for tests)")
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._ready = False
        # Idle connections, reused: opening one per call would make SQLite checkpoint and
        # remove the WAL file each time the last one closes, which costs more than the work.
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()
        self._pid = os.getpid()

    def _open(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        if not self._ready:  # idempotent: a race between threads or processes here is harmless
            try:
                self._initialise(connection)
            except BaseException:
                connection.close()
                raise
            self._ready = True
        return connection

    def _initialise(self, connection: sqlite3.Connection) -> None:
        """WAL mode (stored in the file) and the schema. Switching a fresh file to WAL while
        other processes open it can fail with "database is locked" at once, without SQLite's
        busy handler waiting: retried here until the busy timeout."""
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005 + random.random() * 0.02)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for one thread at a time, back to the pool afterwards."""
        with self._idle_lock:
            if self._pid != os.getpid():  # forked: the parent's connections are not ours to use
                self._idle, self._pid = [], os.getpid()
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = self._open()
        try:
            yield connection
        finally:
            if connection.in_transaction:  # a failed ROLLBACK: do not hand the mess to the next caller
                connection.close()
            else:
                with self._idle_lock:
                    self._idle.append(connection)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

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
        return await asyncio.to_thread(self._create, task)

    def _create(self, task: Task) -> Task:
        expires = task.created_ms + task.ttl_ms if task.ttl_ms is not None else None
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO mcp_tasks (task_id, status, updated_ms, expires_ms, body) VALUES (?, ?, ?, ?, ?)",
                (task.task_id, task.status, task.updated_ms, expires, task.to_json()),
            )
        committed(None, task)  # logged in this thread: a caller cancelled meanwhile cannot skip it
        return task

    async def get(self, task_id: str, *, principal: str) -> Task:
        task = await asyncio.to_thread(self._read, task_id)
        if task is None or task.expired() or task.principal != principal:
            raise TaskNotFound(task_id)
        return task

    def _read(self, task_id: str) -> Task | None:
        with self._connection() as connection:
            row = connection.execute("SELECT body FROM mcp_tasks WHERE task_id = ?", (task_id,)).fetchone()
        return Task.from_json(row[0]) if row is not None else None

    async def _change(self, task_id: str, principal: str | None, change: Change) -> Task:
        return await asyncio.to_thread(self._change_now, task_id, principal, change)

    def _change_now(self, task_id: str, principal: str | None, change: Change) -> Task:
        with self._transaction() as connection:
            row = connection.execute("SELECT body FROM mcp_tasks WHERE task_id = ?", (task_id,)).fetchone()
            before = Task.from_json(row[0]) if row is not None else None
            after = apply(task_id, before, principal, change)
            if after is before:
                return after
            connection.execute(
                "UPDATE mcp_tasks SET status = ?, updated_ms = ?, body = ? WHERE task_id = ?",
                (after.status, after.updated_ms, after.to_json(), task_id),
            )
        committed(before, after)
        return after

    async def reap(self, *, max_working_ms: Mapping[str, int], default_max_ms: int) -> list[Task]:
        return await asyncio.to_thread(self._reap, dict(max_working_ms), default_max_ms)

    def _reap(self, max_working_ms: dict[str, int], default_max_ms: int) -> list[Task]:
        changed: list[tuple[Task, Task]] = []
        with self._transaction() as connection:
            now = now_ms()
            # Only tasks idle longer than the smallest limit can be stale; the index finds them.
            cutoff = now - min([default_max_ms, *max_working_ms.values()])
            rows = connection.execute(
                "SELECT body FROM mcp_tasks WHERE status = 'working' AND updated_ms < ?", (cutoff,)
            ).fetchall()
            for (body,) in rows:
                task = Task.from_json(body)
                after = abandoned(task, now, max_working_ms, default_max_ms)
                if after is not None:
                    connection.execute(
                        "UPDATE mcp_tasks SET status = ?, updated_ms = ?, body = ? WHERE task_id = ?",
                        (after.status, after.updated_ms, after.to_json(), after.task_id),
                    )
                    changed.append((task, after))
            connection.execute("DELETE FROM mcp_tasks WHERE expires_ms <= ?", (now,))
        for before, after in changed:
            committed(before, after)
        return [after for _, after in changed]

    async def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

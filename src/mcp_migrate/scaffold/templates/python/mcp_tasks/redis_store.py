"""Redis task store: for replicas on several hosts (needs the `redis` package, 5 or later).

Keys (the prefix defaults to "mcp:"):
- `mcp:task:<id>`: a hash `{task: <the Task as JSON>, v: <write counter>}`, expiring with the
  task's TTL (plus a margin, see EXPIRY_MARGIN_MS);
- `mcp:tasks:working`: a sorted set of the ids of `working` tasks scored by their last update,
  so the reaper reads only the stale ones instead of scanning every key.

A change is optimistic: read the task and its counter, decide in Python with the same rules as
every other backend (store.py), then a Lua script writes the new task only if the counter is
still the one read, bumping it and updating the working index in the same atomic step. A writer
that lost the race reads again and decides again; by then the task is typically final and it
gets InvalidTransition. Lua rather than WATCH/MULTI: one round trip for the write, and no
connection pinned between the read and the write.

`create` returns once the primary has the task, so every replica reading from the primary finds
it. Redis Cluster is not supported as is (a write touches two keys in different hash slots).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
import redis.exceptions

from .store import (
    Change,
    StoreUnavailable,
    Task,
    TaskNotFound,
    TaskStore,
    abandoned,
    apply,
    committed,
    new_task,
    now_ms,
)

# Redis drops an expired task's key this long after its TTL: the application decides expiry by
# its own clock (reads check it), so a Redis clock slightly ahead cannot drop a task early.
EXPIRY_MARGIN_MS = 60_000
_MAX_ATTEMPTS = 100  # every failed attempt means another writer succeeded, so this is never reached in practice

# KEYS: task hash, working index. ARGV: counter read, new task JSON, task id, updated_ms if working else "".
_WRITE_IF_UNCHANGED = """
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'task', ARGV[2], 'v', tostring(tonumber(ARGV[1]) + 1))
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[2], ARGV[3])
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
end
return 1
"""


P = ParamSpec("P")
R = TypeVar("R")

# A Redis that does not answer is an outage, not a hang: commands time out and say so.
SOCKET_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 2.0


def _reachable(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Redis connection and timeout errors become StoreUnavailable, which callers can tell
    from a task that is not there."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreUnavailable(f"Redis is not reachable ({exc})") from None

    return call


class RedisTaskStore(TaskStore):
    def __init__(self, client: aioredis.Redis, *, prefix: str = "mcp:", owns_client: bool = False) -> None:
        if not client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("RedisTaskStore needs a client made with decode_responses=True")
        self._redis = client
        self._prefix = prefix
        self._working = f"{prefix}tasks:working"
        self._owns_client = owns_client
        self._write_if_unchanged = client.register_script(_WRITE_IF_UNCHANGED)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "mcp:") -> RedisTaskStore:
        """A store on its own connection pool, closed by `close()`."""
        client = aioredis.Redis.from_url(
            url, decode_responses=True, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=CONNECT_TIMEOUT_S
        )
        return cls(client, prefix=prefix, owns_client=True)

    def _key(self, task_id: str) -> str:
        return f"{self._prefix}task:{task_id}"

    @_reachable
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
        # Shielded: once sent, the write and its log line happen even if the caller is cancelled.
        await asyncio.shield(self._insert(task))
        return task

    async def _insert(self, task: Task) -> None:
        key = self._key(task.task_id)
        async with self._redis.pipeline(transaction=True) as pipe:  # MULTI/EXEC: all or nothing
            pipe.hset(key, mapping={"task": task.to_json(), "v": "0"})
            if task.ttl_ms is not None:
                pipe.pexpire(key, task.ttl_ms + EXPIRY_MARGIN_MS)
            pipe.zadd(self._working, {task.task_id: task.updated_ms})
            await pipe.execute()
        committed(None, task)

    @_reachable
    async def get(self, task_id: str, *, principal: str) -> Task:
        body = await self._redis.hget(self._key(task_id), "task")
        task = Task.from_json(body) if body is not None else None
        if task is None or task.expired() or task.principal != principal:
            raise TaskNotFound(task_id)
        return task

    @_reachable
    async def _change(self, task_id: str, principal: str | None, change: Change) -> Task:
        key = self._key(task_id)
        for _ in range(_MAX_ATTEMPTS):
            body, counter = await self._redis.hmget(key, ["task", "v"])
            before = Task.from_json(body) if body is not None else None
            after = apply(task_id, before, principal, change)
            if after is before:
                return after
            if await asyncio.shield(self._write(key, str(counter), before, after)):
                return after
        raise RuntimeError(f"task {task_id}: gave up after {_MAX_ATTEMPTS} conflicting writes")

    async def _write(self, key: str, counter: str, before: Task | None, after: Task) -> bool:
        working_since = str(after.updated_ms) if after.status == "working" else ""
        args = [counter, after.to_json(), after.task_id, working_since]
        if not await self._write_if_unchanged(keys=[key, self._working], args=args):
            return False
        committed(before, after)
        return True

    @_reachable
    async def reap(self, *, max_working_ms: Mapping[str, int], default_max_ms: int) -> list[Task]:
        # Only tasks idle longer than the smallest limit can be stale; the index finds them.
        cutoff = now_ms() - min([default_max_ms, *max_working_ms.values()])
        candidates = [str(task_id) for task_id in await self._redis.zrangebyscore(self._working, "-inf", f"({cutoff}")]
        failed = []
        for task_id in candidates:
            after = await self._reap_one(task_id, max_working_ms, default_max_ms)
            if after is not None:
                failed.append(after)
        return failed

    async def _reap_one(self, task_id: str, max_working_ms: Mapping[str, int], default_max_ms: int) -> Task | None:
        """The task, if this call failed it (not another replica's reaper, nor a fresh heartbeat)."""
        decided: list[Task | None] = [None]

        def fail_if_abandoned(task: Task, now: int) -> Task | None:
            decided[0] = abandoned(task, now, max_working_ms, default_max_ms)
            return decided[0]

        try:
            after = await self._change(task_id, None, fail_if_abandoned)
        except TaskNotFound:  # expired: its key is gone or about to go
            await self._redis.zrem(self._working, task_id)
            return None
        return after if after is decided[0] else None

    async def close(self) -> None:
        if self._owns_client:
            await self._redis.aclose()

"""The list of recent orders, kept where every replica sees it: Redis when REDIS_URL is set,
else a SQLite file (replicas on one host), like the task store.

`place_order` adds to it and announces the change (`orders://recent` updated) to
`subscriptions/listen` clients on every replica, through the shared bus (shared_bus.py).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from typing import Any

import anyio.to_thread
import redis.asyncio as aioredis

KEEP = 50  # the list holds the newest orders only
_KEY = "mcp:orders:recent"


class RecentOrders:
    def __init__(self, redis_url: str | None, sqlite_path: str) -> None:
        self._redis: aioredis.Redis | None = (
            aioredis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5) if redis_url else None
        )
        self._sqlite_path = sqlite_path

    async def add(self, order: dict[str, Any]) -> None:
        line = json.dumps(order, separators=(",", ":"))
        if self._redis is not None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.lpush(_KEY, line)
                pipe.ltrim(_KEY, 0, KEEP - 1)
                await pipe.execute()
            return
        await anyio.to_thread.run_sync(self._sqlite_add, line)

    async def newest(self) -> list[dict[str, Any]]:
        lines: list[bytes | str]
        if self._redis is not None:
            lines = await self._redis.lrange(_KEY, 0, KEEP - 1)
        else:
            lines = list(await anyio.to_thread.run_sync(self._sqlite_newest))
        return [json.loads(line) for line in lines]

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    def _sqlite(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._sqlite_path, timeout=10)
        connection.execute("CREATE TABLE IF NOT EXISTS recent_orders (id INTEGER PRIMARY KEY, line TEXT NOT NULL)")
        return connection

    def _sqlite_add(self, line: str) -> None:
        with closing(self._sqlite()) as connection, connection:
            connection.execute("INSERT INTO recent_orders (line) VALUES (?)", (line,))
            connection.execute(
                "DELETE FROM recent_orders WHERE id NOT IN (SELECT id FROM recent_orders ORDER BY id DESC LIMIT ?)",
                (KEEP,),
            )

    def _sqlite_newest(self) -> list[str]:
        with closing(self._sqlite()) as connection:
            rows = connection.execute("SELECT line FROM recent_orders ORDER BY id DESC LIMIT ?", (KEEP,)).fetchall()
        return [row[0] for row in rows]

"""Change notifications across replicas: a `SubscriptionBus` over Redis pub/sub.

On the 2026-07-28 protocol a client hears about changes through a `subscriptions/listen`
request whose response is a long-lived stream, held by whichever replica the request landed on.
A change made on another replica (`ctx.notify_resource_updated(...)` in a tool) is published
to that replica's bus; mcp 2.x ships only `InMemorySubscriptionBus`, which would deliver it to
listeners in that one process. This bus publishes every event to a Redis channel and each
replica delivers what arrives on the channel to its own listeners (its own events included, so
every replica delivers the same way).

Delivery is what `subscriptions/listen` promises: fire and forget, no replay. A replica that
loses Redis reconnects and goes on; events published meanwhile are not seen by its listeners
(the protocol's answer is that clients re-listen and refetch).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
import redis.asyncio as aioredis
import redis.exceptions
from mcp.server.subscriptions import (
    PromptsListChanged,
    ResourcesListChanged,
    ResourceUpdated,
    ServerEvent,
    ToolsListChanged,
)

log = logging.getLogger("server.bus")

CHANNEL = "mcp:events"
RECONNECT_SECONDS = 1.0


def encode(event: ServerEvent) -> str:
    """An event as the JSON every replica reads off the channel."""
    if isinstance(event, ResourceUpdated):
        return json.dumps({"kind": "resource_updated", "uri": event.uri})
    kinds = {ToolsListChanged: "tools", PromptsListChanged: "prompts", ResourcesListChanged: "resources"}
    return json.dumps({"kind": f"{kinds[type(event)]}_list_changed"})


def decode(data: str | bytes) -> ServerEvent | None:
    """The event in a channel message; None for anything this bus did not publish."""
    try:
        message: Any = json.loads(data)
        kind = message["kind"]
    except (ValueError, TypeError, KeyError):
        return None
    if kind == "resource_updated" and isinstance(message.get("uri"), str):
        return ResourceUpdated(uri=message["uri"])
    events: dict[str, ServerEvent] = {
        "tools_list_changed": ToolsListChanged(),
        "prompts_list_changed": PromptsListChanged(),
        "resources_list_changed": ResourcesListChanged(),
    }
    return events.get(kind)


class RedisSubscriptionBus:
    """mcp's `SubscriptionBus` protocol (`publish`, `subscribe`) with Redis pub/sub behind it.

    Run `relay()` for the life of the server (the lifespan does): it holds the replica's one
    subscription to the channel and hands each event to the local listeners."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self._redis: aioredis.Redis = aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._channel = channel
        self._listeners: dict[object, Callable[[ServerEvent], None]] = {}
        self.ready = anyio.Event()  # set once the replica is subscribed to the channel

    async def publish(self, event: ServerEvent) -> None:
        """Send `event` to every replica (this one included, through the channel)."""
        await self._redis.publish(self._channel, encode(event))

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        token = object()
        self._listeners[token] = listener

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe

    async def relay(self) -> None:
        """Deliver channel messages to this replica's listeners until cancelled; reconnect
        after a lost connection."""
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    self.ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._deliver(message["data"])
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
                log.warning(json.dumps({"event": "bus.disconnected", "error": type(exc).__name__}))
                await anyio.sleep(RECONNECT_SECONDS)

    def _deliver(self, data: str | bytes) -> None:
        event = decode(data)
        if event is None:
            return
        for listener in list(self._listeners.values()):
            try:
                listener(event)
            except Exception:  # one bad listener must not starve the others (as the SDK's bus)
                log.exception("subscription listener raised; continuing")

    async def close(self) -> None:
        await self._redis.aclose()

"""The task store contract: what a task is, which transitions are allowed, and the interface
every backend (memory, SQLite, Redis) implements with the same semantics.

Semantics follow the Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663):
- a task is created `working` and durably stored before its id is returned;
- `working` -> `input_required` | `completed` | `failed` | `cancelled`;
  `input_required` -> `working` | `completed` | `failed` | `cancelled`;
  `completed`, `failed` and `cancelled` are final;
- every task belongs to the principal that created it: for anyone else it does not exist;
- `ttl_ms` counts from creation; an expired task is gone (not found);
- task ids carry 192 random bits, so they cannot be guessed.
Every transition writes one JSON log line (see `log_transition`).

The rules live here once, as pure functions of a task; a backend only supplies an atomic
read-modify-write of one task (`TaskStore._change`), so the three backends cannot drift apart.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

TaskStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
ALLOWED: Mapping[str, frozenset[str]] = {
    "working": frozenset({"input_required", "completed", "failed", "cancelled"}),
    "input_required": frozenset({"working", "completed", "failed", "cancelled"}),
}
ABANDONED = -32603  # JSON-RPC internal error: what a reaped task fails with

logger = logging.getLogger("mcp_tasks")


class TaskNotFound(LookupError):
    """No such task for this principal (unknown id, another principal's task, or expired).

    The three cases share one message on purpose: telling them apart would let a caller
    probe for other principals' task ids."""

    def __init__(self, task_id: str) -> None:
        super().__init__(f"task not found: {task_id}")
        self.task_id = task_id


class StoreUnavailable(ConnectionError):
    """The store cannot be reached right now (Redis down or not answering, a database locked):
    nothing was decided about the task, and the same call may succeed a moment later."""


class InvalidTransition(ValueError):
    """The task's current status does not allow the requested change (terminal states are final)."""

    def __init__(self, task_id: str, current: str, wanted: str) -> None:
        super().__init__(f"task {task_id} is {current}; it cannot become {wanted}")
        self.current = current
        self.wanted = wanted


def new_task_id() -> str:
    """192 random bits, URL-safe (32 characters of [A-Za-z0-9_-])."""
    return secrets.token_urlsafe(24)


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Task:
    task_id: str
    principal: str
    tool: str
    status: TaskStatus
    created_ms: int
    updated_ms: int
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None
    status_message: str | None = None
    input_requests: dict[str, Any] | None = None  # the requests outstanding or last asked
    input_responses: dict[str, Any] | None = None  # every answer over the task's lifetime
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None  # a JSON-RPC error object: {"code": ..., "message": ...}
    arguments: dict[str, Any] = field(default_factory=dict)  # what the tool was called with

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def outstanding(self) -> dict[str, Any]:
        """The input requests the client has not answered yet."""
        answered = self.input_responses or {}
        return {key: request for key, request in (self.input_requests or {}).items() if key not in answered}

    def expired(self, at_ms: int | None = None) -> bool:
        return self.ttl_ms is not None and (at_ms if at_ms is not None else now_ms()) >= self.created_ms + self.ttl_ms

    def to_wire(self) -> dict[str, Any]:
        """The task as SEP-2663 puts it on the wire (`DetailedTask`: one extra field per status)."""
        wire: dict[str, Any] = {
            "taskId": self.task_id,
            "status": self.status,
            "createdAt": iso(self.created_ms),
            "lastUpdatedAt": iso(self.updated_ms),
            "ttlMs": self.ttl_ms,
        }
        if self.status_message is not None:
            wire["statusMessage"] = self.status_message
        if self.poll_interval_ms is not None:
            wire["pollIntervalMs"] = self.poll_interval_ms
        if self.status == "input_required":
            wire["inputRequests"] = self.outstanding
        if self.status == "completed" and self.result is not None:
            wire["result"] = self.result
        if self.status == "failed" and self.error is not None:
            wire["error"] = self.error
        return wire

    def to_json(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Task:
        return cls(**json.loads(text))


def new_task(
    *, principal: str, tool: str, arguments: dict[str, Any] | None, ttl_ms: int | None, poll_interval_ms: int | None
) -> Task:
    """A fresh `working` task, for a backend's `create`."""
    if not principal:
        raise ValueError("a task needs a principal (the authenticated caller) to belong to")
    for name, value in (("ttl_ms", ttl_ms), ("poll_interval_ms", poll_interval_ms)):
        if value is not None and (type(value) is not int or value <= 0):  # bool is an int, but not a duration
            raise ValueError(f"{name} must be a positive integer or None, not {value!r}")
    now = now_ms()
    return Task(
        task_id=new_task_id(),
        principal=principal,
        tool=tool,
        status="working",
        created_ms=now,
        updated_ms=now,
        ttl_ms=ttl_ms,
        poll_interval_ms=poll_interval_ms,
        arguments=dict(arguments or {}),
    )


def check_transition(task: Task, wanted: str) -> None:
    if wanted not in ALLOWED.get(task.status, frozenset()):
        raise InvalidTransition(task.task_id, task.status, wanted)


def transition(task: Task, wanted: TaskStatus, at_ms: int, **changes: Any) -> Task:
    """The task after an allowed transition (raises InvalidTransition otherwise)."""
    check_transition(task, wanted)
    return replace(task, status=wanted, updated_ms=at_ms, **changes)


def log_transition(before: Task | None, after: Task) -> None:
    """One JSON line per state change: what operators grep when a task goes missing."""
    logger.info(
        json.dumps(
            {
                "event": "task.transition",
                "taskId": after.task_id,
                "from": before.status if before is not None else None,
                "to": after.status,
                "tool": after.tool,
                "duration_ms": after.updated_ms - after.created_ms,
            },
            separators=(",", ":"),
        )
    )


def committed(before: Task | None, after: Task) -> None:
    """Backends call this right after a write is committed: logs it if the status changed
    (a heartbeat or a partial answer is a write, not a transition)."""
    if before is None or before.status != after.status:
        log_transition(before, after)


Change = Callable[[Task, int], "Task | None"]
"""What a store operation does to a task: (current task, now in ms) -> the task to store, or
None to leave it untouched; raises InvalidTransition when the current status forbids it."""


def apply(task_id: str, current: Task | None, principal: str | None, change: Change) -> Task:
    """Run `change` on the stored task, inside the backend's atomic section: the task to write,
    or `current` itself (the same object) when there is nothing to write.

    `principal=None` means the server itself (the worker, the reaper): no ownership check.
    The clock never runs backwards for a task, even when replicas' clocks disagree."""
    now = now_ms()
    if current is None or current.expired(now) or (principal is not None and current.principal != principal):
        raise TaskNotFound(task_id)
    after = change(current, max(now, current.updated_ms))
    return current if after is None else after


def abandoned(task: Task, now: int, max_working_ms: Mapping[str, int], default_max_ms: int) -> Task | None:
    """The task failed, if it has been `working` without a heartbeat for longer than its tool
    may run; None otherwise. `input_required` tasks wait for the client and are left alone."""
    if task.status != "working" or task.expired(now):
        return None
    idle = now - task.updated_ms
    if idle <= max_working_ms.get(task.tool, default_max_ms):
        return None
    message = f"task abandoned: no progress for {idle} ms (its worker stopped)"
    return transition(task, "failed", now, error={"code": ABANDONED, "message": message}, status_message=message)


class TaskStore(ABC):
    """One interface, three backends. Every method that changes a task is atomic across
    processes: two replicas racing on one task cannot both win, and a lost race raises
    InvalidTransition instead of overwriting.

    Methods without `principal` are for the server's own worker; methods with it serve a
    client's request and treat another principal's task as nonexistent."""

    @abstractmethod
    async def create(
        self,
        *,
        principal: str,
        tool: str,
        arguments: dict[str, Any] | None = None,
        ttl_ms: int | None = None,
        poll_interval_ms: int | None = None,
    ) -> Task:
        """Store a new `working` task; returns only once it is durable (another replica's
        `get` finds it)."""

    @abstractmethod
    async def get(self, task_id: str, *, principal: str) -> Task:
        """The task, if it belongs to `principal` and has not expired; else TaskNotFound."""

    @abstractmethod
    async def _change(self, task_id: str, principal: str | None, change: Change) -> Task:
        """Atomically: read the task, `apply` the change, write the result, call `committed`.
        Returns the task as stored afterwards."""

    @abstractmethod
    async def reap(self, *, max_working_ms: Mapping[str, int], default_max_ms: int) -> list[Task]:
        """Fail every task stuck in `working` (not updated) for longer than its tool's maximum
        (see `abandoned`), and drop expired tasks. Returns the tasks it failed. Safe to run on
        every replica at once: each task is failed (and logged) once."""

    async def close(self) -> None:  # noqa: B027 - a default, not a required override
        """Release connections (a backend without any keeps this)."""

    async def update(self, task_id: str, *, status_message: str | None = None) -> Task:
        """Progress on a `working` task: a new status message (None keeps the old one) and a
        heartbeat (the reaper judges a task by when it was last updated). Raises
        InvalidTransition once the task is no longer `working` (e.g. the client cancelled it):
        the worker's cue to stop."""

        def heartbeat(task: Task, now: int) -> Task:
            if task.status != "working":
                raise InvalidTransition(task.task_id, task.status, "working")
            message = status_message if status_message is not None else task.status_message
            return replace(task, updated_ms=now, status_message=message)

        return await self._change(task_id, None, heartbeat)

    async def require_input(self, task_id: str, *, input_requests: dict[str, Any], message: str | None = None) -> Task:
        """`working` -> `input_required`, with the requests the client must answer. Request
        keys must be new: SEP-2663 forbids reusing a key over a task's lifetime."""
        if not input_requests:
            raise ValueError("input_requests is empty: there would be nothing for the client to answer")

        def ask(task: Task, now: int) -> Task:
            check_transition(task, "input_required")
            reused = sorted(set(input_requests) & set(task.input_responses or {}))
            if reused:
                raise ValueError(f"input request keys {reused} were already answered on task {task.task_id}")
            return transition(task, "input_required", now, input_requests=input_requests, status_message=message)

        return await self._change(task_id, None, ask)

    async def provide_input(self, task_id: str, *, principal: str, input_responses: dict[str, Any]) -> Task:
        """The client's answers (the owner only). Answers to keys that are not outstanding are
        ignored (SEP-2663); once every outstanding request is answered the task goes back to
        `working`, until then it stays `input_required` with the answers kept."""

        def answer(task: Task, now: int) -> Task | None:
            check_transition(task, "working")
            outstanding = task.outstanding
            accepted = {key: value for key, value in input_responses.items() if key in outstanding}
            if not accepted:
                return None
            responses = {**(task.input_responses or {}), **accepted}
            if set(outstanding) <= set(accepted):
                return transition(task, "working", now, input_responses=responses)
            return replace(task, updated_ms=now, input_responses=responses)

        return await self._change(task_id, principal, answer)

    async def complete(self, task_id: str, *, result: dict[str, Any]) -> Task:
        """-> `completed` with the tool's result (a tool result with isError is still completed)."""

        def completed(task: Task, now: int) -> Task:
            return transition(task, "completed", now, result=result, status_message=None)

        return await self._change(task_id, None, completed)

    async def fail(self, task_id: str, *, error: dict[str, Any], message: str | None = None) -> Task:
        """-> `failed` with a JSON-RPC error object (`code` and `message`)."""
        if not isinstance(error.get("code"), int) or not isinstance(error.get("message"), str):
            raise ValueError(f"error must be a JSON-RPC error object with an int code and a message, not {error!r}")

        def failed(task: Task, now: int) -> Task:
            return transition(task, "failed", now, error=error, status_message=message or error["message"])

        return await self._change(task_id, None, failed)

    async def cancel(self, task_id: str, *, principal: str) -> Task:
        """-> `cancelled` (the owner only); a task already final stays as it is and is returned
        (SEP-2663: cancellation is acknowledged even when the work finished first)."""

        def cancelled(task: Task, now: int) -> Task | None:
            if task.terminal:
                return None
            return transition(task, "cancelled", now, status_message="cancelled by the client")

        return await self._change(task_id, principal, cancelled)

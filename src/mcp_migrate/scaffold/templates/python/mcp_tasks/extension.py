"""The Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) on the mcp 2.x `Extension` API.

mcp 2.x ships the extension machinery but not this extension; this module is it, on the task
store of this package, so that a long-running tool call survives the replica that started it:

    tasks = TasksExtension({"refund": TaskTool(max_working_ms=30_000)})
    mcp = MCPServer("shop", extensions=[tasks], lifespan=...)   # lifespan: `async with tasks.serve(store)`

    @mcp.tool(structured_output=False)
    async def refund(order_id: str) -> dict[str, str]:
        await progress("contacting the payment provider")   # heartbeat; raises TaskCancelled
        ...

What a call to an opted-in tool returns depends on the caller, told apart per request:

- a 2026-07-28 request whose `_meta` clientCapabilities declare the extension gets a
  `CreateTaskResult` (`resultType: "task"` + the task), and then uses `tasks/get`,
  `tasks/update` and `tasks/cancel`;
- every other caller (a 2026-07-28 client without the extension, any pre-2026 client, which
  has no per-request capabilities and cannot receive a `"task"` result) gets an ordinary
  `CallToolResult` that names the task (text, `structuredContent` and `_meta`
  `io.modelcontextprotocol/related-task`) and uses the fallback tools of `tools.py`
  (`get_task_status`, `cancel_task`, `provide_task_input`).
Either way the work runs as a task, so a slow call never holds a request open and a crash of
the replica doing it leaves a task that the reaper fails, never one that vanishes. That is
why an opted-in tool cannot declare an output schema: fallback callers get the task handle
where its output would be (register it with `structured_output=False`).

The task is in the store before its id leaves the server (SEP-2663), so `tasks/get` answered
by any replica finds it. Every task belongs to `principal_of(ctx)`: other callers get the
same `-32602` "task not found" as for an id that never existed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.abc import TaskGroup
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding, ToolBinding
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.request_state import authenticated_principal
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolRequestParams, CallToolResult, RequestParams, TextContent
from mcp_types.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, MISSING_REQUIRED_CLIENT_CAPABILITY
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

from .store import InvalidTransition, StoreUnavailable, Task, TaskNotFound, TaskStore

IDENTIFIER = "io.modelcontextprotocol/tasks"
RELATED_TASK_META_KEY = "io.modelcontextprotocol/related-task"

logger = logging.getLogger("mcp_tasks")


@dataclass(frozen=True)
class TaskTool:
    """How one opted-in tool runs as a task.

    `max_working_ms` is the longest its work may go without calling `progress` (the
    heartbeat): past it the reaper decides the worker is dead and fails the task."""

    max_working_ms: int = 60_000
    ttl_ms: int | None = 24 * 3_600_000
    poll_interval_ms: int | None = 1_000
    # The tool's arguments as a pydantic model: checked before a task is created, so a call
    # the tool would refuse gets -32602 at once instead of a task that fails (and lives a day).
    arguments: type[BaseModel] | None = None


class TaskCancelled(ToolError):
    """Raised by `progress` and `request_input` once the task ended without its worker
    (cancelled by the client, or failed by the reaper): the tool should stop."""


def principal_of(ctx: ServerRequestContext[Any, Any]) -> str:
    """Who owns the tasks a request creates or reads: THE place to plug in your own auth.

    1. With mcp's auth configured (`MCPServer(auth=..., token_verifier=...)`): the verified
       identity (client, issuer, subject), the same binding mcp uses for `requestState`.
    2. Else the SHA-256 of the `Authorization` header's bearer token, for a gateway in front
       that authenticates it: the token itself is never stored, and a caller without the
       token cannot reach the tasks created with it.
    3. Else "anonymous": every unauthenticated caller shares one principal (task ids stay
       unguessable). Fine on a laptop; in production, authenticate.
    """
    verified = authenticated_principal(ctx)
    if verified is not None:
        return f"auth:{verified}"
    headers = getattr(ctx.request, "headers", None)
    authorization = headers.get("authorization", "") if headers is not None else ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "bearer:" + hashlib.sha256(token.strip().encode()).hexdigest()
    return "anonymous"


def declared_extension(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether this request may receive a `CreateTaskResult`: a 2026-07-28 request whose own
    `_meta` capabilities declare the extension. Legacy requests never may: the extension is
    2026-07-28 vocabulary (mcp's client does not accept a `"task"` result on a legacy wire,
    and its server would reject one), and a stateless legacy request carries no capabilities."""
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        return False
    capabilities = ctx.session.client_capabilities
    return capabilities is not None and IDENTIFIER in (capabilities.extensions or {})


@dataclass(frozen=True)
class _Running:
    store: TaskStore
    task: Task
    poll_interval_s: float
    max_working_ms: int = 60_000  # the heartbeat's budget (a store outage is retried within half of it)


_running: ContextVar[_Running | None] = ContextVar("mcp_tasks_running", default=None)


async def progress(message: str | None = None) -> None:
    """From a tool running as a task: record progress and prove the worker is alive.

    Call it more often than the tool's `max_working_ms`. Outside a task it does nothing, so
    the tool stays callable directly (tests, other transports). Raises TaskCancelled once the
    task is no longer `working` (the client cancelled it)."""
    running = _running.get()
    if running is None:
        return
    # A store outage is not the end of the work: retry the heartbeat for up to half the
    # tool's budget, then carry on (if the store stays away, the reaper decides later).
    deadline = anyio.current_time() + running.max_working_ms / 2000
    delay = 0.2
    while True:
        try:
            await running.store.update(running.task.task_id, status_message=message)
            return
        except (InvalidTransition, TaskNotFound) as exc:
            raise TaskCancelled(f"task {running.task.task_id} ended: {exc}") from None
        except StoreUnavailable as exc:
            if anyio.current_time() >= deadline:
                logger.warning(
                    json.dumps({"event": "task.heartbeat.lost", "taskId": running.task.task_id, "error": str(exc)})
                )
                return
            await anyio.sleep(delay)
            delay = min(delay * 2, 2.0)


async def request_input(input_requests: dict[str, Any], message: str | None = None) -> dict[str, Any]:
    """From a tool running as a task: ask the client (SEP-2663 `input_required`) and wait.

    `input_requests` are MRTR requests keyed by ids unique over the task's life, e.g.
    `{"confirm": {"method": "elicitation/create", "params": {...}}}`. The client answers with
    `tasks/update` (or the `provide_task_input` tool); returns the answers to these keys.
    Waiting is polling the store, so the answer may arrive through any replica. The reaper
    leaves an `input_required` task alone; its TTL bounds the wait."""
    running = _running.get()
    if running is None:
        raise RuntimeError("request_input() works only inside a tool running as a task")
    task_id = running.task.task_id
    try:
        await running.store.require_input(task_id, input_requests=input_requests, message=message)
        while True:
            await anyio.sleep(running.poll_interval_s)
            task = await running.store.get(task_id, principal=running.task.principal)
            if task.status == "working":
                answers = task.input_responses or {}
                return {key: answers[key] for key in input_requests if key in answers}
            if task.terminal:
                raise TaskCancelled(f"task {task_id} ended while waiting for input ({task.status})")
    except (InvalidTransition, TaskNotFound) as exc:
        raise TaskCancelled(f"task {task_id} ended: {exc}") from None


class TaskIdParams(RequestParams):
    """Params of `tasks/get` and `tasks/cancel`."""

    task_id: str


class TaskUpdateParams(TaskIdParams):
    """Params of `tasks/update`: answers to the task's outstanding `inputRequests`."""

    input_responses: dict[str, Any]


def _unavailable(exc: StoreUnavailable) -> MCPError:
    return MCPError(INTERNAL_ERROR, f"task store unavailable: {exc}; nothing was changed, retry shortly")


def _undeclared(ctx: ServerRequestContext[Any, Any]) -> None:
    """SEP-2663: `tasks/*` from a request that does not declare the extension is answered -32021
    (found by the official conformance suite; it was -32602 "task not found")."""
    if not declared_extension(ctx):
        raise MCPError(
            code=MISSING_REQUIRED_CLIENT_CAPABILITY,
            message=f"{ctx.method} needs the {IDENTIFIER} extension: declare it in the request's client capabilities",
            data={"requiredCapabilities": {"extensions": {IDENTIFIER: {}}}},
        )


def _not_found(task_id: str) -> MCPError:
    # One message for unknown, expired and someone else's: telling them apart leaks ids.
    return MCPError(code=INVALID_PARAMS, message=f"Failed to retrieve task: task not found: {task_id}")


def _error_object(exc: BaseException) -> dict[str, Any]:
    """The JSON-RPC error a failed task carries."""
    if isinstance(exc, MCPError):
        return exc.error.model_dump(mode="json", exclude_none=True)
    return {"code": INTERNAL_ERROR, "message": f"{type(exc).__name__}: {exc}"}


def fallback_result(task: Task) -> CallToolResult:
    """What a caller that did not declare the extension gets instead of a `CreateTaskResult`:
    an ordinary tool result naming the task and how to follow it."""
    text = (
        f"Started task {task.task_id} ({task.tool}); it is {task.status}. Follow it with the "
        f"get_task_status tool (task_id={task.task_id!r}) every {task.poll_interval_ms or 1000} ms until "
        "its status is completed, failed or cancelled; the tool's result is then in `result`."
    )
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=task.to_wire(),
        _meta={RELATED_TASK_META_KEY: {"taskId": task.task_id}},
    )


class TasksExtension(Extension):
    """`io.modelcontextprotocol/tasks` for the tools named in `tools`, plus fallback tools.

    The store is bound for the app's lifetime with `serve(store)` (in the server's lifespan),
    which also owns the background work: a worker outlives the request that started it."""

    identifier = IDENTIFIER

    def __init__(self, tools: Mapping[str, TaskTool], *, fallback_tools: bool = True) -> None:
        self.task_tools = dict(tools)
        self._fallback_tools = fallback_tools
        self._store: TaskStore | None = None
        self._workers: TaskGroup | None = None
        self._active = 0  # workers running in this process

    @property
    def store(self) -> TaskStore:
        if self._store is None:
            raise RuntimeError("TasksExtension is not serving: enter `tasks.serve(store)` in the server's lifespan")
        return self._store

    @property
    def max_working_ms(self) -> dict[str, int]:
        """Per-tool limits for the reaper (`run_reaper(store, max_working_ms=...)`)."""
        return {name: tool.max_working_ms for name, tool in self.task_tools.items()}

    @contextlib.asynccontextmanager
    async def serve(self, store: TaskStore, *, drain_s: float = 0.0) -> AsyncIterator[None]:
        """Bind `store` and run task workers until exit. On exit (a graceful shutdown, e.g. a
        rolling deploy) running work gets `drain_s` seconds to finish; what is still running
        then is cancelled and fails its task saying so, instead of waiting for the reaper."""
        async with anyio.create_task_group() as workers:
            self._store, self._workers = store, workers
            try:
                yield
            finally:
                self._workers = None  # no new work from here on
                with anyio.move_on_after(drain_s, shield=True):
                    while self._active:
                        await anyio.sleep(0.05)
                workers.cancel_scope.cancel()
                self._store = None

    def methods(self) -> Sequence[MethodBinding]:
        # 2026-07-28 only: a legacy wire has the 2025-11-25 tasks/* shapes, or none.
        versions = frozenset(MODERN_PROTOCOL_VERSIONS)
        return (
            MethodBinding("tasks/get", TaskIdParams, self._get, protocol_versions=versions),
            MethodBinding("tasks/update", TaskUpdateParams, self._update, protocol_versions=versions),
            MethodBinding("tasks/cancel", TaskIdParams, self._cancel, protocol_versions=versions),
        )

    def tools(self) -> Sequence[ToolBinding]:
        if not self._fallback_tools:
            return ()
        from .tools import fallback_tools  # tools.py imports this module

        return fallback_tools(self)

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        tool = self.task_tools.get(params.name)
        if tool is None:
            return await call_next(ctx)
        workers = self._workers
        if workers is None:
            raise RuntimeError("TasksExtension is not serving: enter `tasks.serve(store)` in the server's lifespan")
        store = self.store
        if tool.arguments is not None:
            try:
                tool.arguments.model_validate(params.arguments or {})
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                raise MCPError(INVALID_PARAMS, f"invalid arguments for {params.name}: {problems}") from None
        # Durable before anything else: the id must not leave here before any replica can read it.
        try:
            task = await store.create(
                principal=principal_of(ctx),
                tool=params.name,
                arguments=params.arguments,
                ttl_ms=tool.ttl_ms,
                poll_interval_ms=tool.poll_interval_ms,
            )
        except StoreUnavailable as exc:
            raise _unavailable(exc) from None
        workers.start_soon(self._work, store, task, ctx, call_next, name=f"task {task.task_id}")
        if declared_extension(ctx):
            return {"resultType": "task", **task.to_wire()}
        return fallback_result(task)

    async def _work(
        self, store: TaskStore, task: Task, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> None:
        """Run the tool for `task` and record how it ended. Never raises (but for cancellation):
        a worker's failure must not take the replica's other workers down with it.

        The request that started the task has been answered by now, so the tool must not use
        its request context (no ctx.elicit, no progress notifications): `progress` and
        `request_input` are its channel to the client."""
        budget = self.task_tools[task.tool].max_working_ms if task.tool in self.task_tools else 60_000
        _running.set(_Running(store, task, (task.poll_interval_ms or 1000) / 1000, budget))
        logger.info(json.dumps({"event": "task.work.start", "taskId": task.task_id, "tool": task.tool}))
        self._active += 1
        try:
            await self._run(store, task, ctx, call_next)
        finally:
            self._active -= 1

    async def _run(
        self, store: TaskStore, task: Task, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> None:
        try:
            result = await call_next(ctx)
            if not isinstance(result, CallToolResult):
                raise MCPError(INTERNAL_ERROR, f"{task.tool} returned {type(result).__name__}, not a tool result")
        except anyio.get_cancelled_exc_class():
            with anyio.move_on_after(5, shield=True):
                message = "interrupted: the server shut down before the work finished; call the tool again"
                await self._settle(store.fail(task.task_id, error={"code": INTERNAL_ERROR, "message": message}), task)
            raise
        except Exception as exc:
            logger.exception("task %s (%s) failed", task.task_id, task.tool)
            await self._settle(store.fail(task.task_id, error=_error_object(exc)), task)
        else:
            wire = result.model_dump(by_alias=True, mode="json", exclude_none=True)
            await self._settle(store.complete(task.task_id, result=wire), task)

    @staticmethod
    async def _settle(change: Awaitable[Task], task: Task) -> None:
        """Record how the work ended. A task that ended meanwhile (cancelled, reaped) keeps its
        end; if the store cannot be written, the reaper fails the task later."""
        try:
            await change
        except (InvalidTransition, TaskNotFound) as exc:
            logger.info(json.dumps({"event": "task.work.discarded", "taskId": task.task_id, "reason": str(exc)}))
        except Exception:
            logger.exception("task %s: could not record its end; the reaper will fail it", task.task_id)

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        _undeclared(ctx)
        try:
            task = await self.store.get(params.task_id, principal=principal_of(ctx))
        except TaskNotFound:
            raise _not_found(params.task_id) from None
        except StoreUnavailable as exc:
            raise _unavailable(exc) from None
        return {**task.to_wire(), "resultType": "complete"}

    async def _update(self, ctx: ServerRequestContext[Any, Any], params: TaskUpdateParams) -> dict[str, Any]:
        _undeclared(ctx)
        try:
            await self.store.provide_input(
                params.task_id, principal=principal_of(ctx), input_responses=params.input_responses
            )
        except TaskNotFound:
            raise _not_found(params.task_id) from None
        except StoreUnavailable as exc:
            raise _unavailable(exc) from None
        except InvalidTransition:
            pass  # answers to a task that is not waiting are ignored (SEP-2663), like unknown keys
        return {"resultType": "complete"}

    async def _cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        _undeclared(ctx)
        try:
            await self.store.cancel(params.task_id, principal=principal_of(ctx))
        except TaskNotFound:
            raise _not_found(params.task_id) from None
        except StoreUnavailable as exc:
            raise _unavailable(exc) from None
        return {"resultType": "complete"}

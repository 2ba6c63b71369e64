"""Tool-based fallbacks for callers that do not speak the Tasks extension.

A pre-2026 client, or a 2026-07-28 client that did not declare `io.modelcontextprotocol/tasks`,
cannot send `tasks/get`; it gets an ordinary tool result naming the task (see
`extension.fallback_result`) and follows the task with these three tools, which any client
(and any model) can call. They answer exactly what `tasks/get`, `tasks/cancel` and
`tasks/update` would, the task as SEP-2663 puts it on the wire, and apply the same ownership
rule: another principal's task is "not found".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.server.extension import ToolBinding
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

from .extension import principal_of
from .store import InvalidTransition, Task, TaskNotFound

if TYPE_CHECKING:
    from .extension import TasksExtension


def fallback_tools(tasks: TasksExtension) -> list[ToolBinding]:
    """`get_task_status`, `cancel_task` and `provide_task_input`, on `tasks`' store."""

    async def get_task_status(task_id: str, ctx: Context) -> dict[str, Any]:
        """Status of a task started by an earlier tool call: `status` is working, input_required,
        completed, failed or cancelled. Poll (every `pollIntervalMs`) until it is one of the last
        three; a completed task's tool result is in `result`, a failed task's error in `error`,
        and an input_required task's questions in `inputRequests` (answer with provide_task_input)."""
        try:
            task = await tasks.store.get(task_id, principal=principal_of(ctx.request_context))
        except TaskNotFound as exc:
            raise ToolError(str(exc)) from None
        return task.to_wire()

    async def cancel_task(task_id: str, ctx: Context) -> dict[str, Any]:
        """Ask to stop a task. Cancellation is cooperative: the returned task may still be
        working for a moment, and a task that already ended keeps its status."""
        try:
            task = await tasks.store.cancel(task_id, principal=principal_of(ctx.request_context))
        except TaskNotFound as exc:
            raise ToolError(str(exc)) from None
        return task.to_wire()

    async def provide_task_input(task_id: str, input_responses: dict[str, Any], ctx: Context) -> dict[str, Any]:
        """Answer an input_required task: `input_responses` maps each key of its `inputRequests`
        to the answer (for an elicitation: {"action": "accept", "content": {...}}). Answers to
        keys that are not outstanding are ignored."""
        principal = principal_of(ctx.request_context)
        try:
            task: Task = await tasks.store.provide_input(task_id, principal=principal, input_responses=input_responses)
        except TaskNotFound as exc:
            raise ToolError(str(exc)) from None
        except InvalidTransition:
            task = await tasks.store.get(task_id, principal=principal)  # not waiting: nothing to answer
        return task.to_wire()

    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True)
    return [
        ToolBinding(get_task_status, kwargs={"annotations": read_only}),
        ToolBinding(cancel_task, kwargs={"annotations": ToolAnnotations(idempotent_hint=True)}),
        ToolBinding(provide_task_input),
    ]

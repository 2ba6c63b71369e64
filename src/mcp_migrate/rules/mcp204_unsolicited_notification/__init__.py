from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP, TYPESCRIPT_IMPORTS_MCP

RULE = Rule(
    code="MCP204",
    name="unsolicited-notification",
    summary="Change notifications sent outside the request that caused them",
    severity=Severity.WARNING,
    fix=FixAvailability.NONE,
    triggers={
        "python": (
            b"send_resource_updated",
            b"_list_changed",
            b"send_notification",
            b"standalone_sse",
            b"send_log_message",
            b"send_progress_notification",
        ),
        "typescript": (
            b"ListChanged",
            b"sendResourceUpdated",
            b"notifyResourceUpdated",
            b"sendLoggingMessage",
            b"closeStandalone",
            b"registerTool",
            b"registerResource",
            b"registerPrompt",
            b".tool(",
            b".resource(",
            b".prompt(",
        ),
    },
    gates={"python": PYTHON_IMPORTS_MCP, "typescript": TYPESCRIPT_IMPORTS_MCP},
    docs="""
## What it does
Finds change notifications sent to a session rather than to a request:
`session.send_resource_updated()`, `send_resource_list_changed()`, `send_tool_list_changed()`,
`send_prompt_list_changed()` (on `ctx.session` or a session kept elsewhere), the same
notifications through `send_notification(ToolListChangedNotification())` (fastmcp `ctx` or a
session), `session.send_log_message()` / `send_progress_notification()` without a
`related_request_id` (they go to the standalone stream, not the request's response),
`ctx.close_standalone_sse_stream()`; TypeScript
`server.sendResourceListChanged()` / `sendToolListChanged()` / `sendPromptListChanged()`,
`server.server.sendResourceUpdated()`, `notifyResourceUpdated()`, `sendLoggingMessage()` (sent
with no related request, so on the standalone stream), `extra.closeStandaloneSSEStream()`, and
tools, resources or prompts registered, enabled, disabled, updated or removed while a request is
being served (the SDK announces each with a list-changed notification).

## Why
They travel on the standalone GET stream of a session. The 2026-07-28 revision removed that
stream and `resources/subscribe`: clients that want change notifications open
`subscriptions/listen`. Only progress and log messages still flow on a request's own response.
Sent the old way, the notification reaches nobody (or only the clients of one replica).

## Example
```python
@mcp.tool()
async def add_document(doc: Document, ctx: Context) -> str:
    await index.add(doc)
    await ctx.session.send_resource_list_changed()
    return "added"
```
Use instead (mcp 2: published to `subscriptions/listen` subscribers; give the server a shared
bus so subscribers on other replicas hear it too):
```python
    await ctx.notify_resources_changed()
```
TypeScript SDK v2: publish on the `bus` passed to `createMcpHandler`.

## Fix safety
None. Advisory: clients still work, they just miss the notification.

In a TypeScript file whose session routing MCP105 rewrites (`--unsafe-fixes`), the MCP105
finding lists these pushes too: after that rewrite GET answers 405, so there is no standalone
stream left for them to reach.
""",
)

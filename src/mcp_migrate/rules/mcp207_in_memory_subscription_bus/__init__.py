from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP, TYPESCRIPT_IMPORTS_MCP

RULE = Rule(
    code="MCP207",
    name="in-memory-subscription-bus",
    summary="Change notifications published on a bus of one process",
    severity=Severity.WARNING,
    fix=FixAvailability.NONE,
    triggers={
        "python": (
            b"notify_tools_changed",
            b"notify_prompts_changed",
            b"notify_resources_changed",
            b"notify_resource_updated",
        ),
        "typescript": (b"notify.",),
    },
    gates={"python": PYTHON_IMPORTS_MCP, "typescript": TYPESCRIPT_IMPORTS_MCP},
    docs="""
## What it does
Finds servers that announce changes to `subscriptions/listen` clients (the 2026-07-28 way)
through the in-process event bus the SDK uses by default:
- mcp 2.x: `ctx.notify_tools_changed()`, `notify_prompts_changed()`,
  `notify_resources_changed()` or `notify_resource_updated(uri)` in a server whose `MCPServer(...)`
  has no `subscriptions=` (or `subscriptions=InMemorySubscriptionBus()`);
- TypeScript SDK v2: `handler.notify.toolsChanged()`, `promptsChanged()`, `resourcesChanged()`
  or `resourceUpdated(uri)` on a `createMcpHandler(...)` given no `bus` (or
  `bus: new InMemoryServerEventBus()`).

Servers served only over stdio are left alone.

## Why
A `subscriptions/listen` request is a long-lived stream held by the replica it reached. The
change is published on the bus of the replica that made it; an in-process bus delivers it only
to listeners on that replica, so behind a load balancer most listeners never hear of it (with
three replicas, two in three) and keep showing stale lists and resources.

## Example
```python
mcp = MCPServer("catalog")

@mcp.tool()
async def add_product(product: Product, ctx: Context) -> str:
    await catalog.add(product)
    await ctx.notify_resources_changed()
    return "added"
```
Use instead: a bus over shared pub/sub (the `SubscriptionBus` protocol is `publish(event)` and
`subscribe(listener)`), e.g. Redis:
```python
mcp = MCPServer("catalog", subscriptions=RedisSubscriptionBus(os.environ["REDIS_URL"]))
```
`mcp-migrate scaffold server` writes one (`shared_bus.py`) with a test that proves a change made
on one replica reaches a listener on another. TypeScript: implement `ServerEventBus` over your
pub/sub and pass it as `createMcpHandler(factory, { bus })`.

## Fix safety
None: the bus needs a backend the project chooses and runs.
""",
)

from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP, TYPESCRIPT_IMPORTS_MCP

RULE = Rule(
    code="MCP205",
    name="removed-session-api",
    summary="Session-era APIs that the stateless SDKs removed or deprecated",
    severity=Severity.WARNING,
    fix=FixAvailability.NONE,
    triggers={
        "python": (
            b"client_id",
            b"get_context",
            b"set_logging_level",
            b"logging/setLevel",
            b"on_ping",
            b"PingRequest",
            b"send_ping",
            b"PingMiddleware",
            b"on_initialize",
        ),
        "typescript": (b"SetLevelRequestSchema", b"PingRequestSchema", b".ping("),
    },
    gates={"python": PYTHON_IMPORTS_MCP, "typescript": TYPESCRIPT_IMPORTS_MCP},
    docs="""
## What it does
Finds APIs of the session era that the stateless SDKs removed or deprecated:

- `ctx.client_id` on mcp's `Context` (removed in mcp 2; fastmcp's own `client_id` is fine);
- `server.get_context()` on `FastMCP` / `MCPServer` (removed in mcp 2);
- `on_initialize` in a fastmcp `Middleware` subclass: it runs on the `initialize` handshake, which
  2026-07-28 clients never send (fastmcp 4 serves them without it), so its work silently never
  happens for them;
- `logging/setLevel` handlers: low-level `@server.set_logging_level()`,
  `Server(on_set_logging_level=...)`, TypeScript `setRequestHandler(SetLevelRequestSchema, ...)`:
  a log level set once per session has nowhere to live;
- custom `ping` handlers (`Server(on_ping=...)`, `request_handlers[PingRequest]`,
  `setRequestHandler(PingRequestSchema, ...)`), often used as a session keep-alive;
- server-to-client keep-alive pings: `session.send_ping()`, fastmcp `PingMiddleware`, TypeScript
  `server.ping()`.

## Why
`logging/setLevel` is deprecated as of 2026-07-28: each request carries its log level in
`_meta`. A ping answered by one replica says nothing about a session on another, and liveness
belongs to the HTTP health check (a readiness probe), not to the protocol.

## Example
```python
@mcp.tool()
async def whoami() -> str:
    ctx = mcp.get_context()
    return ctx.client_id or "anonymous"
```
Use instead:
```python
@mcp.tool()
async def whoami(ctx: Context) -> str:
    return principal_of(ctx) or "anonymous"   # from the request's auth, not the session
```

## Fix safety
None.
""",
)

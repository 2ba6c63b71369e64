from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP

RULE = Rule(
    code="MCP103",
    name="resumability",
    summary="SSE stream resumability (event store, retry interval)",
    severity=Severity.WARNING,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "python": (b"event_store", b"retry_interval"),
        "typescript": (
            b"eventStore",
            b"retryInterval",
            b"last-event-id",
            b"Last-Event-ID",
            b"Last-Event-Id",
            b"LAST-EVENT-ID",
        ),
    },
    gates={"python": PYTHON_IMPORTS_MCP},
    follows_project=True,
    docs="""
## What it does
Finds `event_store=` and `retry_interval=` on mcp v1 `FastMCP(...)`, mcp v2 serving calls,
`fastmcp` `http_app()` and `StreamableHTTPSessionManager(...)`.

In TypeScript and JavaScript: `eventStore` and `retryInterval` in the options of an MCP SDK
streamable HTTP transport or of Cloudflare's `createMcpHandler` / `WorkerTransport`; and, in a
file that creates an SDK transport, reads of the `Last-Event-ID` request header
(`req.headers["last-event-id"]`, `req.get(...)`, `req.header(...)`, `request.headers.get(...)`),
which only serve to resume a stream. Writing the header, or an `eventStore` on another object,
is not a finding.

## Why
The 2026-07-28 revision removed SSE stream resumability and redelivery (`Last-Event-ID`):
a client whose stream breaks re-issues the request. An event store kept in one process also
only helps a client that comes back to the same replica. Work that must survive a broken
connection belongs in a task (the `io.modelcontextprotocol/tasks` extension).

## Example
```python
mcp = FastMCP("search", event_store=InMemoryEventStore(), retry_interval=1000)
```
Use instead:
```python
mcp = FastMCP("search", stateless_http=True)
```
TypeScript:
```ts
const transport = new StreamableHTTPServerTransport({
  sessionIdGenerator: undefined,
  eventStore: new InMemoryEventStore(),
  retryInterval: 1000,
});
```
Use instead:
```ts
const transport = new StreamableHTTPServerTransport({
  sessionIdGenerator: undefined,
});
```

## Fix safety
Safe when the endpoint is already stateless: the argument is removed (the event store object
itself is left for you to delete). On a stateful endpoint the MCP101 fix removes it.
A `Last-Event-ID` read is reported, not fixed: what the handler does with it (replaying
events, picking a stream) is the application's; once streams are not resumable, ignore the
header and let the client re-issue the request.
""",
)

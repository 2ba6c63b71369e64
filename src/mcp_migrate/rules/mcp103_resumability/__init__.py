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
        "typescript": (b"eventStore", b"retryInterval"),
    },
    gates={"python": PYTHON_IMPORTS_MCP},
    docs="""
## What it does
Finds `event_store=` and `retry_interval=` on mcp v1 `FastMCP(...)`, mcp v2 serving calls,
`fastmcp` `http_app()` and `StreamableHTTPSessionManager(...)`.

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

## Fix safety
Safe when the endpoint is already stateless: the argument is removed (the event store object
itself is left for you to delete). On a stateful endpoint the MCP101 fix removes it.
""",
)

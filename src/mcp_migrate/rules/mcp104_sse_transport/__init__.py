from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP

RULE = Rule(
    code="MCP104",
    name="sse-transport",
    summary="Legacy HTTP+SSE transport, sessionful by design",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={"python": (b'"sse"', b"'sse'", b"sse_app", b"run_sse_async", b"SseServerTransport")},
    gates={"python": PYTHON_IMPORTS_MCP},
    docs="""
## What it does
Finds servers on the legacy HTTP+SSE transport: `run(transport="sse")`, `sse_app()`,
`run_sse_async()` on mcp v1 `FastMCP`, mcp v2 `MCPServer` and `fastmcp`, `http_app(transport="sse")`
in fastmcp, and the low-level `SseServerTransport`.

## Why
HTTP+SSE keeps a GET stream open per client and routes every POST to it by `session_id`:
it cannot work without session affinity. It was superseded by Streamable HTTP in 2025-03-26
and is deprecated in 2026-07-28 (SEP-2596).

## Example
```python
mcp = FastMCP("files")
mcp.run(transport="sse")
```
Use instead:
```python
mcp = FastMCP("files", stateless_http=True)
mcp.run(transport="streamable-http")
```

## Fix safety
Unsafe: `run(transport="sse")` (and fastmcp's `transport="sse"`) moves to stateless Streamable
HTTP, and the endpoint path changes (`/sse` + `/messages/` become `/mcp`), so clients and
proxies must be updated. Calls with SSE-only options, `sse_app()`, `run_sse_async()` and
`SseServerTransport` are reported with the remedy.
""",
)

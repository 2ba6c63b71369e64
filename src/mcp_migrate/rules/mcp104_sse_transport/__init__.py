from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP

RULE = Rule(
    code="MCP104",
    name="sse-transport",
    summary="Legacy HTTP+SSE transport, sessionful by design",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "python": (b'"sse"', b"'sse'", b"sse_app", b"run_sse_async", b"SseServerTransport"),
        "typescript": (b"SSEServerTransport", b"McpAgent"),
    },
    gates={"python": PYTHON_IMPORTS_MCP},
    follows_project=True,
    docs="""
## What it does
Finds servers on the legacy HTTP+SSE transport: `run(transport="sse")`, `sse_app()`,
`run_sse_async()` on mcp v1 `FastMCP`, mcp v2 `MCPServer` and `fastmcp`, `http_app(transport="sse")`
in fastmcp, and the low-level `SseServerTransport`.

In TypeScript and JavaScript: `new SSEServerTransport(endpoint, res)` from the MCP SDK
(`@modelcontextprotocol/sdk/server/sse.js`, or v2's frozen copy in
`@modelcontextprotocol/server-legacy/sse`); the handlers that route the POSTed messages to a
session's stream (a lookup by the `sessionId` query parameter such as
`transports[req.query.sessionId]` or `sessions.get(url.searchParams.get("sessionId"))`, or a
`handlePostMessage` call) in a file that imports the SDK's `SSEServerTransport`, even as a
type; and Cloudflare `McpAgent` subclasses served with `serveSSE()` / `mount()`. A local class
named `SSEServerTransport`, the client's `SSEClientTransport` and `/messages` routes of other
servers are not findings.

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
TypeScript:
```ts
app.get("/sse", async (_req, res) => {
  const transport = new SSEServerTransport("/messages", res);
  transports[transport.sessionId] = transport;
  await createServer().connect(transport);
});
app.post("/messages", async (req, res) => {
  await transports[req.query.sessionId as string].handlePostMessage(req, res, req.body);
});
```
Use instead:
```ts
app.post("/mcp", async (req, res) => {
  const server = createServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
```

## Fix safety
Unsafe: `run(transport="sse")` (and fastmcp's `transport="sse"`) moves to stateless Streamable
HTTP, and the endpoint path changes (`/sse` + `/messages/` become `/mcp`), so clients and
proxies must be updated. Calls with SSE-only options, `sse_app()`, `run_sse_async()` and
`SseServerTransport` are reported with the remedy.

TypeScript: reported with the remedy, never rewritten: the endpoints (`/sse` and `/messages`
become one `/mcp`), the handlers and every client's configuration change together.
""",
)

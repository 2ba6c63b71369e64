from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP

RULE = Rule(
    code="MCP101",
    name="stateful-http-transport",
    summary="Streamable HTTP served with protocol sessions on",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "python": (b"FastMCP", b"MCPServer", b"StreamableHTTPSessionManager", b"stateless_http"),
        "yaml": (b"STATEFUL", b"STATELESS", b"stateful", b"stateless"),
        "typescript": (b"sessionIdGenerator", b"createLegacyMcpHandler", b"McpAgent"),
    },
    gates={"python": PYTHON_IMPORTS_MCP},
    docs="""
## What it does
Finds Streamable HTTP endpoints that mint an `Mcp-Session-Id` and keep the session in
process memory:

- mcp v1 `FastMCP(...)` without `stateless_http=True`, served over HTTP
  (`run(transport="streamable-http")`, `streamable_http_app()`, `run_streamable_http_async()`);
- mcp v2 `MCPServer.run("streamable-http")`, `streamable_http_app()` and
  `run_streamable_http_async()` without `stateless_http=True` (v2 serves 2026-07-28 clients
  without sessions, but still gives every legacy 2025 client one);
- `fastmcp` `run(transport="http")`, `http_app()`, `run_http_async()` without `stateless_http=True`;
- `StreamableHTTPSessionManager(...)` without `stateless=True`;
- `<server>.settings.stateless_http = False`;
- statelessness behind a flag or environment variable that defaults to off.

A server that only runs over stdio is not a finding; a transport chosen at run time is, when
HTTP is one of the choices.

In Kubernetes YAML, a container `env` entry of a Pod or workload pod template whose name holds
`STATEFUL` with a true value (`MCP_STATEFUL_SESSIONS: "true"`), or `STATELESS` with a false one
(`FASTMCP_STATELESS_HTTP: "false"`), is reported: such application-level switches are
reported, not rewritten.

## Why
A session lives in the memory of the replica that created it, so every later request of that
client must reach the same replica: sticky sessions, load-balancer affinity, and clients that
lose their session on every rolling deploy. The 2026-07-28 revision removed protocol sessions
(SEP-2567, SEP-2575); a stateless endpoint can sit behind plain round-robin.

## Example
```python
mcp = FastMCP("billing", session_idle_timeout=600)
mcp.run(transport="streamable-http")
```
Use instead:
```python
mcp = FastMCP("billing", stateless_http=True)
mcp.run(transport="streamable-http")
```
mcp v2 and fastmcp take the flag where the server is served:
```python
mcp.run("streamable-http", stateless_http=True)
app = mcp.http_app(stateless_http=True)  # fastmcp
```

## Fix safety
Safe: sets the flag in place (and drops `session_idle_timeout`, `max_sessions`, `event_store`
and `retry_interval` from the same call, which only configure sessions and resumability).
Unsafe: a transport chosen at run time where the flag would reach a transport that rejects it,
and a user-facing flag or environment variable whose default is flipped to stateless. Code
that stores state per session needs the MCP2xx remedies as well.
""",
)

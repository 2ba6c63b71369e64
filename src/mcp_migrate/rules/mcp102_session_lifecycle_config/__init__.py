from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP

RULE = Rule(
    code="MCP102",
    name="session-lifecycle-config",
    summary="Settings that only manage protocol sessions",
    severity=Severity.WARNING,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "python": (b"session_idle_timeout", b"max_sessions"),
        "typescript": (b"onsessioninitialized", b"onsessionclosed", b"mcp-session-id", b"Mcp-Session-Id"),
    },
    gates={"python": PYTHON_IMPORTS_MCP},
    follows_project=True,
    docs="""
## What it does
Finds settings that only manage the life of protocol sessions: `session_idle_timeout` and
`max_sessions` on mcp v1 `FastMCP(...)`, mcp v2 serving calls, `fastmcp` `http_app()` and
`StreamableHTTPSessionManager(...)`; TypeScript `onsessioninitialized` / `onsessionclosed` on a
transport, and DELETE route handlers that end sessions by their `Mcp-Session-Id` (a DELETE
handler that looks the session's transport up is reported as MCP105, whose rewrite answers 405).

In TypeScript and JavaScript: the `onsessioninitialized` and `onsessionclosed` hooks (a
property, a shorthand or a method) in the options of an MCP SDK streamable HTTP transport
(`StreamableHTTPServerTransport`, `NodeStreamableHTTPServerTransport`,
`WebStandardStreamableHTTPServerTransport`) or of Cloudflare's `createMcpHandler` /
`WorkerTransport`. The same names on other objects are not findings.

## Why
A stateless endpoint has no sessions to time out or count: the setting is dead configuration
that suggests the server still needs session affinity.

## Example
```python
app = mcp.streamable_http_app(stateless_http=True, session_idle_timeout=300)
```
Use instead:
```python
app = mcp.streamable_http_app(stateless_http=True)
```
TypeScript:
```ts
const transport = new StreamableHTTPServerTransport({
  sessionIdGenerator: undefined,
  onsessioninitialized: (id) => { transports.set(id, transport); },
});
```
Use instead:
```ts
const transport = new StreamableHTTPServerTransport({
  sessionIdGenerator: undefined,
});
```

## Fix safety
Safe when the endpoint is already stateless: the setting is removed (in TypeScript, the hook
with its comma, and its lines when it stood alone; a hook that sits in a spread base object is
left to you). On a stateful endpoint the MCP101 fix removes it together with turning sessions
off; on its own it is only reported.
""",
)

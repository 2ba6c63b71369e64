from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP

RULE = Rule(
    code="MCP101",
    name="stateful-http-transport",
    summary="Streamable HTTP served with protocol sessions on",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "python": (
            b"FastMCP",
            b"MCPServer",
            b"StreamableHTTPSessionManager",
            b"stateless_http",
            b"streamable_http_app",
        ),
        "yaml": (b"STATEFUL", b"STATELESS", b"stateful", b"stateless"),
        "typescript": (b"sessionIdGenerator", b"createLegacyMcpHandler", b"McpAgent", b"httpStream"),
    },
    gates={"python": PYTHON_IMPORTS_MCP},
    follows_project=True,
    docs="""
## What it does
Finds Streamable HTTP endpoints that mint an `Mcp-Session-Id` and keep the session in
process memory:

- mcp v1 `FastMCP(...)` without `stateless_http=True`, served over HTTP
  (`run(transport="streamable-http")`, `streamable_http_app()`, `run_streamable_http_async()`);
- mcp v2 `MCPServer.run("streamable-http")`, `streamable_http_app()` and
  `run_streamable_http_async()` without `stateless_http=True` (v2 serves 2026-07-28 clients
  without sessions, but still gives every legacy 2025 client one);
- `fastmcp` `run(transport="http")`, `http_app()`, `run_http_async()` without `stateless_http=True`
  (fastmcp 2.x also honours it on the constructor: `FastMCP(..., stateless_http=True)` is
  stateless there, and a `TypeError` in 3.x and 4.x);
- `StreamableHTTPSessionManager(...)` without `stateless=True`;
- `<server>.settings.stateless_http = False`;
- statelessness behind a switch that defaults to off, in this module or another one: an
  argparse option, a click `--x/--no-x` option, a typer option or function parameter
  (`def serve(stateless: bool = False)`), a dataclass / pydantic(-settings) field
  (`settings.stateless`), an environment variable read directly or through a helper
  (`get_env_bool("X", False)`, `is_env_truthy("X", "false")`), a `**options` dict filled in the
  function (`run_kwargs["stateless_http"] = final_stateless`), `if args.stateless:
  mcp.settings.stateless_http = True`. A default in another module is reported there, where it
  is: `STATELESS_HTTP = ...` in `config.py` passed as `stateless_http=STATELESS_HTTP`; a field of
  a settings instance another module passes (`stateless=settings.stateless`); a click/typer
  option or parameter whose value another module's function passes on as the flag
  (`serve(port, stateless)` -> `mcp.run(..., stateless_http=stateless)`).

Servers are followed across modules: one built in `server.py` and run in `__main__.py` (its
transport from argparse `choices`), re-exported by a package `__init__`, subclasses of the server
classes defined elsewhere, and servers built by fastmcp's factories (`FastMCP.as_proxy(...)`).
mcp 2's low-level `Server` served by its own `streamable_http_app()` is reported as well. A
server that only runs over stdio is not a finding (also inside `if TRANSPORT == "stdio":`); a
transport chosen at run time is, when HTTP is one of the choices.

The fix is written for the SDK release the project pins (lock files first, then the declared
specifiers of the nearest project root) and the message names it. Where the pins leave
releases that take the flag in different places (no pin of fastmcp at all, `fastmcp>=2.3`, an
import that falls back from `mcp.server.mcpserver` to `mcp.server.fastmcp`), the finding carries
no fix and says why: pin or lock the SDK, then run `fix` again.

In TypeScript and JavaScript (`.ts`, `.tsx`, `.mts`, `.cts`, `.js`, `.jsx`, `.mjs`, `.cjs`):

- `new StreamableHTTPServerTransport({ sessionIdGenerator })` (`@modelcontextprotocol/sdk` 1.x),
  `NodeStreamableHTTPServerTransport` (`@modelcontextprotocol/node`) and
  `WebStandardStreamableHTTPServerTransport` (1.x or `@modelcontextprotocol/server`) whose
  `sessionIdGenerator` sets a generator: an arrow, `randomUUID` itself, a method, or a
  condition with a stateful branch (`stateless ? undefined : () => randomUUID()`). The options
  may sit in a variable or come from a spread base object;
- Cloudflare Agents (`agents/mcp`): `createMcpHandler(server, { sessionIdGenerator })`,
  `new WorkerTransport({ sessionIdGenerator })`, `createLegacyMcpHandler(...)` and classes that
  extend `McpAgent`;
- the TypeScript `fastmcp` framework (npm `fastmcp`): `server.start({ transportType:
  "httpStream" })` on a `new FastMCP(...)` without `httpStream.stateless: true` (or with
  `stateless: false`). Fixed safely where the `httpStream` object is written (`stateless:
  true` added or set); with no such object (its `port` is required) the finding says to add
  one or run with `FASTMCP_STATELESS=true`. A flag decided at run time is not reported.

SDK v2's `createMcpHandler(factory, { legacy })` from `@modelcontextprotocol/server` is
stateless in both modes (`'stateless'`, the default, serves 2025 clients per request and
answers GET/DELETE 405; `'reject'` serves 2026-07-28 only) and is not a finding; a dual-era
composition that routes `isLegacyRequest(request)` to a sessionful transport is, through that
transport.

Names are resolved through ES imports (aliases, namespaces), `require` (destructured or
`require(...).X`), `import x = require(...)`, `await import(...)`, tsconfig `paths` aliases and
relative modules that re-export the SDK (`export { ... } from`, `export *`). A local class with the same name, a
parameter that shadows the import, and `sessionIdGenerator` in a comment, a string or an
unrelated object are not findings; neither is `sessionIdGenerator: undefined` or no generator.

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
TypeScript:
```ts
app.post("/mcp", async (req, res) => {
  const server = createServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessionclosed: (id) => console.log("closed", id),
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
```
Use instead:
```ts
app.post("/mcp", async (req, res) => {
  const server = createServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
```

## Fix safety
Safe: sets the flag in place, where the pinned release takes it (and drops
`session_idle_timeout`, `max_sessions`, `event_store` and `retry_interval` from the same call,
which only configure sessions and resumability); every spelling is run against the real SDK
releases in the test suite. None: the pins leave releases that disagree on the spelling. Test
code is reported as advisory and not fixed unless `--fix-tests`.
Unsafe: a transport chosen at run time where the flag would reach a transport that rejects it,
and a user-facing flag or environment variable whose default is flipped to stateless. Code
that stores state per session needs the MCP2xx remedies as well.

TypeScript: safe when the transport is built per request (in the function that calls its
`handleRequest`, in a route or fetch handler, or in a factory only such functions call) and
nothing in the file routes requests by session id: `sessionIdGenerator` becomes `undefined`,
and `onsessioninitialized`, `onsessionclosed`, `eventStore` and `retryInterval` written next to
it are removed. Unsafe: a conditional generator (its stateful branch goes away) and a Cloudflare
`WorkerTransport` that keeps its session in Durable Object storage. Not fixed, only reported:
a transport created once and reused (a stateless transport serves a single request: the SDK
throws on reuse), a file that routes requests by session id (see MCP105: turning the generator
off alone would answer every request after `initialize` with 400), `createLegacyMcpHandler`
and `McpAgent` (serve with `createMcpHandler` from `agents/mcp/server`).
""",
)

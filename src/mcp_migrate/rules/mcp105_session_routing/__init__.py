from ...model import FixAvailability, Rule, Severity

RULE = Rule(
    code="MCP105",
    name="session-routing",
    summary="HTTP handlers that route requests by session id",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={"typescript": (b"mcp-session-id", b"Mcp-Session-Id", b"MCP-Session-Id", b"MCP-SESSION-ID")},
    docs="""
## What it does
Finds HTTP handlers that look up per-session state with the request's `Mcp-Session-Id`:
transports kept in an object (`transports[sessionId]`, `sessionId in transports`), a `Map`
(`sessions.get(sessionId)`), a class field (`this.transports.get(...)`), an array searched by
session id (`sessions.find(s => s.id === sessionId)`), including maps filled in
`sessionIdGenerator` or `onsessioninitialized`; and handlers that answer 400 "No valid session
ID". The session id is followed from the header read (`req.headers["mcp-session-id"]`,
`req.header(...)`, `req.get(...)`, `request.headers.get(...)`, `c.req.header(...)`) through
variables and into same-file helpers; a handler is named by its route, also when a one-line
wrapper (`(req, res) => this.handlePost(req, res)`) is what is registered.

Not findings: a map only filled and closed on shutdown, a header only logged, response
headers (`res.setHeader("Mcp-Session-Id", ...)`, `res.get(...)`), CORS `exposedHeaders`,
maps keyed by something else (a user id, the legacy SSE `req.query.sessionId`, which is
MCP104's), and "session" text written to a log.

## Why
Such a server cannot be made stateless by turning the session generator off: the map is never
filled again, so every request after `initialize` finds no session and gets 400. And while it
keeps sessions, every client must stay on the replica that holds its transport. A stateless
server creates one server and one transport per request and keeps nothing between them.

## Example
```ts
const transports: Record<string, StreamableHTTPServerTransport> = {};
app.post("/mcp", async (req, res) => {
  const sessionId = req.headers["mcp-session-id"] as string | undefined;
  let transport: StreamableHTTPServerTransport;
  if (sessionId && transports[sessionId]) {
    transport = transports[sessionId];
  } else if (!sessionId && isInitializeRequest(req.body)) {
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => { transports[id] = transport; },
    });
    await getServer().connect(transport);
  } else {
    res.status(400).json({ jsonrpc: "2.0", error: { code: -32000, message: "No valid session ID" }, id: null });
    return;
  }
  await transport.handleRequest(req, res, req.body);
});
app.get("/mcp", handleSessionRequest);
app.delete("/mcp", handleSessionRequest);
```
Use instead:
```ts
app.post("/mcp", async (req, res) => {
  const server = getServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
app.get("/mcp", (req, res) => {
  res.status(405).set("Allow", "POST").json({
    jsonrpc: "2.0",
    error: { code: -32000, message: "Method not allowed." },
    id: null
  });
});
app.delete("/mcp", (req, res) => { /* the same 405 */ });
```
State that really belongs to a client moves into explicit handles passed as tool arguments
or a shared store keyed by the authenticated principal (see MCP201).

## Fix safety
Unsafe, and only for shapes recognised with certainty: one streamable transport, its options
written in place, and a server made for the request (a factory call, or a `new McpServer` in
that code).

- Node-style handlers (`(req, res)`: Express, an Express `Router`, `app.route('/mcp')` chains,
  Fastify's `(request, reply)` writing to `reply.raw`, Koa's `(ctx)` writing to `ctx.res`, a
  class method behind a one-line wrapper, a `node:http` handler's `req.method === "POST"`
  branch): the transport is created in a branch of an `if` on the session id whose other
  branches only reuse a stored transport or answer 400/404, or after early-return `if`s that
  do the same (and check `isInitializeRequest`), or in an `if (!transport)` after
  `let transport = sessions.get(sid)`; also when the ids are minted by hand (a stateless
  transport kept under `randomUUID()` and sent back with `res.setHeader("Mcp-Session-Id",
  id)`: the id, the header and the map go). Inside the creating branch, an initialize check that
  answers and returns goes, a check that has nothing to do with sessions (an API key
  answering 401) stays, and close hooks that only forget the session go. The POST handler
  then creates one server and one stateless transport per request, both closed when the
  response closes (`res`, `reply.raw`, `ctx.res`: what `handleRequest` writes to). GET/DELETE
  handlers (or `req.method` branches) that look a session up answer 405 with a JSON-RPC
  error in the framework's own way; a handler that also receives GET/DELETE (`app.all`)
  answers them 405 first; an Express, Fastify or Koa app with no GET or DELETE route on the
  MCP path gets one that answers 405.
- Fetch-style handlers (one `Request` or framework context in, a `Response` out: Hono routes,
  a Workers `fetch`, a `handleRequest(request: Request)` helper) with the web-standard
  transport and `return transport.handleRequest(...)`: the session read, the `if` that serves
  a stored transport and the one that turns away non-initialize requests go; the transport is
  created stateless and connected to a fresh server; other methods, and GET/DELETE handlers
  that look a session up, get a web-standard 405 `Response`.

What the rewrite frees goes too: the session-id read, lookups kept in variables,
`let transport`, an emptied map, unused imports.

Every other shape is reported with the reason it is not rewritten and left as it is, never
half-rewritten: a server shared by all requests, a transport made in a factory, sessions kept
behind a store API or relayed through Redis, a map also filled by a legacy SSE endpoint, a
lookup, "no valid session" answer, session-id branch or initialize check left outside the
code the rewrite replaces. The rewritten file is analysed again and must route by
nothing. With routing present, MCP101's one-line fix is withheld: it would leave every
request after initialize answered 400.

Bindings are compared before and after (`lang/ts_bindings.py`, the same check the engine
runs after every fix): the rewrite is refused when any name it leaves or writes is declared
nowhere, or when it writes a declaration nothing uses. What it frees goes with it, repeatedly
(a removal can free more): imports, maps nobody fills any more and the shutdown loops that
walk them (`for (const id in transports)`, `sessions.forEach(...)`, `.clear()`), local
helpers such as a hand-written initialize check, interfaces, and the comment lines right
above each. A freed value whose initialiser calls something (`const audit = openAudit()`)
is not removed silently: the rewrite is refused and says so.

Said before it is lost: in a file whose tools ask the client something mid-call (MCP203:
`elicitInput`, `createMessage`, `sendRequest`) or push outside a request (MCP204: timers or
handlers that send list changes on the standalone GET stream), the rewrite is still only an
unsafe fix, and the finding names those calls, what happens to them afterwards (the client's
answer reaches another instance; GET answers 405, so pushes reach no one) and the stateless
replacement (`InputRequiredResult` with `requestState`; `subscriptions/listen` on a shared bus).
""",
)

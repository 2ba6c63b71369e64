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
transports kept in an object (`transports[sessionId]`), a `Map` (`sessions.get(sessionId)`),
a class field (`this.transports[...]`), an array searched by session id
(`sessions.find(s => s.id === sessionId)`), including maps filled in `sessionIdGenerator` or
`onsessioninitialized`; and handlers that answer 400 "No valid session ID". The session id is
followed from the header read (`req.headers["mcp-session-id"]`, `req.header(...)`,
`request.headers.get(...)`, `c.req.header(...)`) through variables and into same-file helpers.

A map only filled and closed on shutdown, or a header only logged, is not a finding.

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
  res.status(405).set("Allow", "POST").json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null });
});
app.delete("/mcp", (req, res) => { /* the same 405 */ });
```
State that really belongs to a client moves into explicit handles passed as tool arguments
or a shared store keyed by the authenticated principal (see MCP201).

## Fix safety
Unsafe, and only for the canonical Express shape (an object or `Map` of transports, one POST
handler that reuses a transport or creates one on `initialize` with a server from a factory
function, GET/DELETE handlers that look one up): the POST handler is rewritten to one server
and one stateless transport per request, both closed when the response closes, and GET and
DELETE answer 405. Every other shape is reported with the remedy and left as it is. With
routing present, MCP101's one-line fix is withheld.
""",
)

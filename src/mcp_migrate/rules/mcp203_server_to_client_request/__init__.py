from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP, TYPESCRIPT_IMPORTS_MCP

RULE = Rule(
    code="MCP203",
    name="server-to-client-request",
    summary="Sampling, elicitation or roots requested from inside a handler",
    severity=Severity.ERROR,
    fix=FixAvailability.NONE,
    triggers={
        "python": (b"create_message", b"elicit", b"sample", b"list_roots", b"send_request"),
        "typescript": (b"createMessage", b"elicitInput", b"listRoots", b"sendRequest", b"mcpReq"),
    },
    gates={"python": PYTHON_IMPORTS_MCP, "typescript": TYPESCRIPT_IMPORTS_MCP},
    docs="""
## What it does
Finds server-to-client requests sent from inside a request handler: `ctx.session.create_message()`,
`ctx.sample()`, `ctx.elicit()` / `ctx.session.elicit*()`, `ctx.session.list_roots()` /
`ctx.list_roots()`, `ctx.session.send_request()`; TypeScript `server.server.createMessage()`,
`elicitInput()`, `listRoots()`, `extra.sendRequest()`, and SDK v2 `ctx.mcpReq.send()` /
`elicitInput()` / `requestSampling()`.

## Why
They need a back-channel: a stream held open to the client of one session. A stateless
endpoint has none. mcp 2 raises `NoBackChannelError` for them on 2026-07-28 connections and on
legacy `stateless_http=True` endpoints; the TypeScript SDK has no stream to send them on.

## Example
```python
@mcp.tool()
async def book_table(date: str, ctx: Context) -> str:
    answer = await ctx.elicit("How many guests?", schema=Guests)
    return reserve(date, answer.data.count)
```
Use instead: multi round-trip requests (SEP-2322). The tool answers with an
`InputRequiredResult` naming what it needs plus an opaque `requestState`, and the client
retries the call with `inputResponses`. mcp 2 does this for you with resolvers:
```python
async def ask_guests(ctx: Context) -> Elicit[Guests]:
    return Elicit("How many guests?", Guests)

@mcp.tool()
async def book_table(date: str, guests: Annotated[Guests, Resolve(ask_guests)]) -> str:
    return reserve(date, guests.count)
```
`requestState` is attacker-controlled input: sign it (HMAC) if it carries anything that
matters for authorisation. In TypeScript SDK v2, `createRequestStateCodec({ key })`.

## Fix safety
None: the tool's control flow changes.

In a TypeScript file whose session routing MCP105 rewrites (`--unsafe-fixes`), the MCP105
finding lists these calls too: after that rewrite each request is served on its own, so the
client's answer to such a request can reach another instance and the call hangs or fails.
""",
)

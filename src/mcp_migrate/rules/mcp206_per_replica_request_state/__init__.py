from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP, TYPESCRIPT_IMPORTS_MCP

RULE = Rule(
    code="MCP206",
    name="per-replica-request-state",
    summary="Multi round-trip state sealed with a key (or audience) of one replica",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "python": (b"Resolve", b"InputRequiredResult", b"input_responses", b"request_state"),
        "typescript": (b"createRequestStateCodec",),
    },
    gates={"python": PYTHON_IMPORTS_MCP, "typescript": TYPESCRIPT_IMPORTS_MCP},
    docs="""
## What it does
Finds servers that ask the client something mid-call on the 2026-07-28 protocol (multi
round-trip requests, SEP-2322: a tool parameter filled by `Resolve(...)` whose resolver returns
`Elicit` / `Sample` / `ListRoots`, a returned `InputRequiredResult`, a read of
`ctx.input_responses` or `ctx.request_state`) while the `requestState` they hand the client is
sealed in a way only one replica can open:
- mcp 2.x `MCPServer` / fastmcp 4 `FastMCP` constructed without `request_state_security=`
  (the SDK then seals with `RequestStateSecurity.ephemeral()`: a key made up by each process),
  with `RequestStateSecurity.ephemeral()`, or with `keys=` generated at start
  (`os.urandom`, `secrets.token_bytes`, `uuid.uuid4()`, ...);
- a server name built from the host name, the process id or a random value, with no explicit
  `audience=`: the name is the state's audience, so each replica rejects the others' state;
- TypeScript SDK v2: `createRequestStateCodec({ key })` with a key generated at start
  (`randomBytes(32)`, `crypto.getRandomValues`, `randomUUID()`, ...).

Servers served only over stdio are left alone (one process serves every round).

## Why
The first round answers with the question and a sealed `requestState`; the client retries the
call with the answer and that state, and behind a round-robin load balancer the retry reaches
another replica. That replica cannot open the state and answers -32602 "Invalid or expired
requestState": every such call fails, roughly two times in three with three replicas.

## Example
```python
mcp = MCPServer("orders")

@mcp.tool()
def cancel_order(order_id: str, ok: Annotated[Confirm, Resolve(ask_to_cancel)]) -> str: ...
```
Use instead (the keys from shared configuration, e.g. a Kubernetes Secret; the first seals,
all unseal, so a key is rotated `[old, new]` -> `[new, old]` -> `[new]`):
```python
mcp = MCPServer(
    "orders",
    request_state_security=RequestStateSecurity(keys=os.environ["MCP_REQUEST_STATE_KEYS"].split(",")),
)
```
`mcp-migrate scaffold server` has this wired up (`request_state_keys.py`, a Secret in
`deploy/k8s.yaml`) and a test that proves the retry on another replica.

## Fix safety
Unsafe, and only where it is mechanical: the constructor has no `request_state_security=`, the
server's name is a constant, and every SDK release the project's pins admit takes the keyword
(mcp 2.x, fastmcp 4). The fix adds
`request_state_security=RequestStateSecurity(keys=os.environ["MCP_REQUEST_STATE_KEYS"].split(","))`
and its imports: the server then refuses to start until that variable holds keys of at least
32 bytes. Per-replica names, generated keys and TypeScript codecs are reported with the remedy.
""",
)

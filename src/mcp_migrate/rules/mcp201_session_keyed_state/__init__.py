from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP, TYPESCRIPT_IMPORTS_MCP

RULE = Rule(
    code="MCP201",
    name="session-keyed-state",
    summary="State kept per protocol session",
    severity=Severity.ERROR,
    fix=FixAvailability.NONE,
    triggers={
        "python": (b"session", b"_state", b"mcp-session-id", b"Mcp-Session-Id"),
        "typescript": (b"sessionId", b"mcp-session-id", b"Mcp-Session-Id", b"TaskStore"),
    },
    gates={"python": PYTHON_IMPORTS_MCP, "typescript": TYPESCRIPT_IMPORTS_MCP},
    docs="""
## What it does
Finds tool, resource and prompt handlers (and the helpers they call in the same module) that
keep or find state by the identity of the protocol session:

- `ctx.session` (or a local holding it) used as a dict / `WeakKeyDictionary` key, `id(ctx.session)`;
- `ctx.session_id`; fastmcp `ctx.set_state()` / `ctx.get_state()` / `ctx.delete_state()`;
- reads of the `Mcp-Session-Id` request header;
- TypeScript: `extra.sessionId` (SDK v1) / `ctx.sessionId` (v2) in a handler, read directly,
  destructured (`async (args, { sessionId })`) or through an alias; header reads through
  `extra.requestInfo.headers`; task stores keyed by session (a class implementing the SDK's
  `TaskStore` that uses its session-id argument, `new InMemoryTaskStore()`). A session id that
  only goes into a log line is not a finding.

Servers that only run over stdio are left alone: one client per process, the session is the
process.

The context is found however it is named or typed (`ctx: Context`, `context`, `get_context()`,
a low-level server's `request_context`, the TypeScript handler's last parameter), and followed
through locals (`s = ctx.session`) and into helpers it is passed to. A Python function that takes
the SDK's `Context` is checked wherever it is called from.

Not findings: fastmcp `set_state(..., serializable=False)` (request-scoped), and `get_state()` of
keys that a fastmcp `Middleware` in the module sets on every request before the handler runs.

## Why
On 2026-07-28 there is no session: every request is its own connection, `ctx.session_id` is new
each time (fastmcp mints a throwaway id), and `set_state` never round-trips. On a legacy
stateless endpoint the same holds, and across replicas the state sits in another process.
The state silently disappears between two calls of the same client.

## Example
```python
notes: dict[int, list[str]] = {}

@mcp.tool()
async def remember(fact: str, ctx: Context) -> str:
    notes.setdefault(id(ctx.session), []).append(fact)
    return "noted"
```
Use instead: an explicit handle that one tool returns and the next takes as an argument
(SEP-2567), kept in a shared store and bound to the caller:
```python
@mcp.tool()
async def open_notebook(ctx: Context) -> str:
    return await store.create(owner=principal(ctx))          # -> "nb_8f3a..."

@mcp.tool()
async def remember(notebook_id: str, fact: str, ctx: Context) -> str:
    await store.append(notebook_id, fact, owner=principal(ctx))
    return "noted"
```
State that belongs to the user rather than to a conversation goes in a shared store keyed by
the authenticated principal; long work goes in a task (`mcp-migrate scaffold tasks`).

## Fix safety
None: where the state should live is a design decision. Each finding names the replacement.
""",
)

from ...model import FixAvailability, Gate, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP, TYPESCRIPT_IMPORTS_MCP

RULE = Rule(
    code="MCP202",
    name="process-local-state",
    summary="Module-level mutable state written by a request handler",
    severity=Severity.ERROR,
    fix=FixAvailability.NONE,
    triggers={
        "python": (
            b"{}",
            b"[]",
            b"dict(",
            b"list(",
            b"set(",
            b"defaultdict",
            b"Counter",
            b"deque",
            b"Weak",
            b"global ",
            b"OrderedDict",
            b"ChainMap",
            b"default_factory",
            # a module-level container with entries from the start: STOCK = {"Dune": 3}
            Gate(rb"(?m)^[A-Za-z_]\w*[ \t]*(?::[^=\n]*)?=[ \t]*[\[{]", (b"= {", b"= [", b"={", b"=[")),
        ),
        "typescript": (b"{}", b"[]", b"new Map", b"new Set", b"new Weak", b"let ", b"var ", b"this.", b"static "),
    },
    gates={"python": PYTHON_IMPORTS_MCP, "typescript": TYPESCRIPT_IMPORTS_MCP},
    docs="""
## What it does
Finds module-level (or class-level) mutable containers — dict, list and set literals,
`defaultdict`, `OrderedDict`, `Counter`, `deque`, `WeakKeyDictionary`, TypeScript `{}`, `[]`,
`new Map()`, `new Set()` — and module-level variables that a request handler (or a helper it
calls) writes: item assignment, `append`/`add`/`update`/`setdefault`/`pop`/..., `set`/`push`/
`delete`, `global x; x += 1`. A module-level instance of one of the module's classes counts too
(`registry = Registry()`): writes to its container attributes, `+=` on its attributes, and calls
of its methods that do either.

TypeScript also: static class fields and fields of a class instantiated once, writes through
`.get(k)!.push(x)` and `Object.assign(state, ...)`.

Not findings: servers that only run over stdio (one client per process), containers only read
(lookup tables, constants), state built in the server's lifespan and reached through
`lifespan_context`, per-request objects, caches (a name containing
`cache`: a miss on another replica is only slower), lazily initialised clients
(`pool ??= createPool()`), maps of transports written by HTTP handlers (MCP105's business), and
test files.

## Why
Each replica has its own copy. With sessions gone, two calls of one client land on different
replicas, so what the first call wrote is not there for the second; and everything is lost on
a restart or a rolling deploy.

## Example
```python
carts: dict[str, list[str]] = {}

@mcp.tool()
def add_to_cart(user: str, item: str) -> str:
    carts.setdefault(user, []).append(item)
    return f"{len(carts[user])} items"
```
Use instead: a shared store (Redis, a database) keyed by the authenticated principal or by an
explicit handle the client passes back:
```python
@mcp.tool()
async def add_to_cart(cart_id: str, item: str, ctx: Context) -> str:
    count = await redis.rpush(f"cart:{owner(ctx)}:{cart_id}", item)
    return f"{count} items"
```

## Fix safety
None: the store is a design decision. The message names the containers and the handlers.
""",
)

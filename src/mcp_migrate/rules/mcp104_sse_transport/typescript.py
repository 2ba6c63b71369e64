"""MCP104 for TypeScript/JavaScript: the legacy HTTP+SSE transport and its message routing.

Reported with the remedy, never rewritten: moving to Streamable HTTP changes the endpoints
(`/sse` + `/messages` become one `/mcp`), the handlers and every client's configuration.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.typescript import Node, TsModule, call_arguments, enclosing_function, string_value, unwrap
from ...model import Diagnostic
from ...sdk.typescript import SSE_TRANSPORTS, from_agents, imports_from_sdk, query_param_reads, sse_transports

CODE = "MCP104"
_WHY = "each client's event stream lives in one process and every POST is routed to it by session id"
_REMEDY = (
    "serve stateless Streamable HTTP instead (one `/mcp` endpoint, a new server and transport with "
    "`sessionIdGenerator: undefined` per request)"
)
_ROUTE_METHODS = frozenset({"get", "post", "all", "use"})


def check(module: TsModule) -> Iterator[Diagnostic]:
    for node in sse_transports(module):
        yield Diagnostic(
            CODE,
            module.span(node),
            f"`SSEServerTransport` is the legacy HTTP+SSE transport: {_WHY}, so it needs sticky sessions; {_REMEDY}",
        )
    if imports_from_sdk(module, SSE_TRANSPORTS):
        yield from _message_routing(module)
    yield from _agent_sse(module)


def _message_routing(module: TsModule) -> Iterator[Diagnostic]:
    """One finding per function that hands a POSTed message to a session's SSE transport:
    at its lookup by the `sessionId` query parameter, else at `handlePostMessage`."""
    by_function: dict[int, tuple[Node | None, list[Node], list[Node]]] = {}

    def entry(node: Node) -> tuple[Node | None, list[Node], list[Node]]:
        function = enclosing_function(node)
        key = -1 if function is None else function.id
        return by_function.setdefault(key, (function, [], []))

    for lookup in _session_lookups(module):
        entry(lookup)[1].append(lookup)
    for call in module.walk("call_expression"):
        function = call.child_by_field_name("function")
        prop = function.child_by_field_name("property") if function is not None else None
        member = function is not None and function.type == "member_expression"
        if member and prop is not None and module.source(prop) == "handlePostMessage":
            entry(call)[2].append(call)
    for function, lookups, posts in sorted(by_function.values(), key=lambda e: (e[1] + e[2])[0].start_byte):
        anchor = (lookups or posts)[0]
        where = _route_label(module, function)
        does = (
            "routes each message to its session's SSE stream by the `sessionId` query parameter"
            if lookups
            else "hands messages to a session's SSE stream (`handlePostMessage`)"
        )
        yield Diagnostic(
            CODE,
            module.span(anchor),
            f"{where} {does}: legacy HTTP+SSE routing that only works with sticky sessions, and goes away with "
            f"the SSE transport; {_REMEDY}",
        )


def _session_lookups(module: TsModule) -> Iterator[Node]:
    """Container reads keyed by the `sessionId` query parameter, directly or through a local
    variable: `transports[sessionId]`, `transports.get(sessionId)`, `sessionId in transports`."""
    reads = query_param_reads(module, "sessionId")
    if not reads:
        return
    read_ids = {r.id for r in reads}
    carriers = set()  # declarators of variables holding the parameter
    for declarator in module.walk("variable_declarator"):
        target, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
        if target is not None and target.type == "identifier" and value is not None and _holds(value, read_ids):
            carriers.add(declarator.id)

    def keyed(node: Node | None) -> bool:
        node = unwrap(node)
        if node is None:
            return False
        if node.id in read_ids:
            return True
        declaration = module.declaration(node) if node.type == "identifier" else None
        return declaration is not None and declaration.id in carriers

    for node in module.walk("subscript_expression"):
        if keyed(node.child_by_field_name("index")) and not _written(node):
            yield node
    for call in module.walk("call_expression"):
        function = call.child_by_field_name("function")
        prop = function.child_by_field_name("property") if function is not None else None
        args = call_arguments(call)
        getter = prop is not None and module.source(prop) in ("get", "has") and len(args) == 1
        if getter and call.id not in read_ids and keyed(args[0]):
            yield call
    for binary in module.walk("binary_expression"):
        operator = binary.child_by_field_name("operator")
        if operator is not None and operator.type == "in" and keyed(binary.child_by_field_name("left")):
            yield binary


def _holds(value: Node, read_ids: set[int]) -> bool:
    """The initialiser is the query read itself, maybe cast or defaulted (`?? ""`, `as string`)."""
    node = unwrap(value)
    for _ in range(4):
        if node is None or node.id in read_ids:
            break
        if node.type == "binary_expression":  # `?? ""`, `|| ""`
            node = unwrap(node.child_by_field_name("left"))
        elif node.type == "call_expression" and len(call_arguments(node)) == 1:  # String(...)
            node = unwrap(call_arguments(node)[0])
        else:
            break
    return node is not None and node.id in read_ids


def _written(node: Node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type in ("assignment_expression", "augmented_assignment_expression"):
        return parent.child_by_field_name("left") == node
    operator = parent.child_by_field_name("operator") if parent.type == "unary_expression" else None
    return operator is not None and operator.type == "delete"


def _route_label(module: TsModule, function: Node | None) -> str:
    """`POST /messages handler` when the function is registered as a route, else a neutral name."""
    if function is None:
        return "Module-level code"
    arguments = function.parent
    call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
    callee = call.child_by_field_name("function") if call is not None else None
    if call is not None and callee is not None and callee.type == "member_expression":
        prop = callee.child_by_field_name("property")
        method = module.source(prop).lower() if prop is not None else ""
        args = call_arguments(call)
        path = string_value(module, args[0]) if len(args) > 1 else None
        if method in _ROUTE_METHODS and path is not None:
            return f"The `{method.upper()} {path}` handler"
    name = function.child_by_field_name("name")
    if name is None and function.parent is not None and function.parent.type == "variable_declarator":
        name = function.parent.child_by_field_name("name")
    return f"`{module.source(name)}`" if name is not None else "This request handler"


def _agent_sse(module: TsModule) -> Iterator[Diagnostic]:
    """`MyMcp.serveSSE("/sse")` / `MyMcp.mount("/sse")` on a Cloudflare `McpAgent` subclass."""
    agents: set[str] = set()
    for declaration in module.walk("class_declaration", "class"):
        name = declaration.child_by_field_name("name")
        for heritage in (c for c in declaration.named_children if c.type == "class_heritage"):
            for value in heritage.named_children:
                target = value.named_children[0] if value.type == "extends_clause" and value.named_children else value
                if name is not None and from_agents(module.imported(target), "McpAgent"):
                    agents.add(module.source(name))
    if not agents:
        return
    for call in module.walk("call_expression"):
        function = call.child_by_field_name("function")
        if function is None or function.type != "member_expression":
            continue
        obj, prop = function.child_by_field_name("object"), function.child_by_field_name("property")
        if obj is None or prop is None or obj.type != "identifier" or module.source(obj) not in agents:
            continue
        method = module.source(prop)
        if method in ("serveSSE", "mount"):
            yield Diagnostic(
                CODE,
                module.span(call),
                f"`{module.source(obj)}.{method}()` serves the legacy HTTP+SSE transport: {_WHY}, so it needs "
                "sticky sessions; serve Streamable HTTP with `createMcpHandler` from `agents/mcp/server` instead",
            )

"""Helpers shared by the TypeScript checkers of several rules: what a transport's options say,
and where HTTP handlers route requests by session id (MCP105, which withholds MCP101's fix)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..lang.typescript import (
    Node,
    TsModule,
    call_arguments,
    enclosing_function,
    remove_list_item,
    string_value,
    unwrap,
)
from ..model import Diagnostic, Edit, Fix, FixSafety
from ..sdk.typescript import (
    RESUMABILITY,
    SESSION_HOOKS,
    TransportOptions,
    generator_value,
    is_undefined,
    streamable_transports,
)

SESSION_HEADER = "mcp-session-id"
HTTP_METHODS = frozenset({"get", "post", "delete", "put", "patch", "all", "use", "head", "options"})


# -- transports -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Transport:
    options: TransportOptions
    generator: Node | None  # the sessionIdGenerator property, when it sets a generator
    conditional: bool  # `stateless ? undefined : randomUUID`: sessions on in one branch

    @property
    def stateful(self) -> bool:
        return self.generator is not None


def transports(module: TsModule) -> list[Transport]:
    return module.memo(_transports, "ts.transports")


def _transports(module: TsModule) -> list[Transport]:
    found = []
    for options in streamable_transports(module):
        prop = options.properties(module).get("sessionIdGenerator")
        generator, conditional = None, False
        if prop is not None:
            value = generator_value(module, prop)
            if value is not None and value.type == "ternary_expression":
                branches = [value.child_by_field_name("consequence"), value.child_by_field_name("alternative")]
                if any(is_undefined(module, b) for b in branches) and not all(is_undefined(module, b) for b in branches):
                    generator, conditional = prop, True
                elif not all(is_undefined(module, b) for b in branches):
                    generator = prop
            elif not is_undefined(module, value):
                generator = prop
        found.append(Transport(options, generator, conditional))
    return found


def session_only_properties(module: TsModule, transport: Transport, names: tuple[str, ...]) -> list[Node]:
    """Own properties of the options literal named in `names` (a spread base is shared: left be)."""
    options = transport.options.options
    if options is None:
        return []
    found = []
    for prop in options.named_children:
        key = prop.child_by_field_name("key") if prop.type == "pair" else prop
        if prop.type in ("pair", "shorthand_property_identifier", "method_definition"):
            if prop.type == "method_definition":
                key = prop.child_by_field_name("name")
            if module.name(key) in names:
                found.append(prop)
    return found


def turn_sessions_off(module: TsModule, transport: Transport) -> tuple[Edit, ...]:
    """`sessionIdGenerator: undefined`, and the options that only served sessions removed."""
    assert transport.generator is not None
    prop = transport.generator
    if prop.type == "shorthand_property_identifier":
        edits = [Edit(module.start(prop), module.end(prop), "sessionIdGenerator: undefined")]
    else:
        value = prop.child_by_field_name("value") if prop.type == "pair" else None
        if value is None:  # `sessionIdGenerator() { ... }`
            edits = [Edit(module.start(prop), module.end(prop), "sessionIdGenerator: undefined")]
        else:
            edits = [Edit(module.start(value), module.end(value), "undefined")]
    if _own_property(transport, prop):
        for extra in session_only_properties(module, transport, SESSION_HOOKS + RESUMABILITY):
            edits.extend(remove_list_item(module, extra))
    return tuple(sorted(edits))


def _own_property(transport: Transport, prop: Node) -> bool:
    return transport.options.options is not None and prop.parent == transport.options.options


def session_only_settings(module: TsModule, code: str, names: tuple[str, ...], purpose: str) -> Iterator[Diagnostic]:
    """Report transport options that only matter while sessions are on (MCP102, MCP103): removed
    safely on a stateless transport; on a stateful one MCP101's fix removes them."""
    for transport in transports(module):
        for prop in session_only_properties(module, transport, names):
            name = module.name(prop.child_by_field_name("key") or prop.child_by_field_name("name")) or module.source(
                prop
            )
            message = f"`{name}` only {purpose}: dead configuration once sessions are off"
            fix = None
            if not transport.stateful:
                fix = Fix(FixSafety.SAFE, f"Remove `{name}`", remove_list_item(module, prop))
            elif session_routing(module):
                message += " (goes with the MCP105 rewrite)"
            else:
                message += " (MCP101's fix removes it)"
            yield Diagnostic(code, module.span(prop), message, fix)


# -- session routing (MCP105) -----------------------------------------------------------------
@dataclass
class Routing:
    """A function that finds per-session state from the request's session id."""

    function: Node | None  # None: module level
    label: str  # "POST /mcp handler", "function `getSession`"
    lookups: list[Node] = field(default_factory=list)  # `transports[sid]`, `sessions.get(sid)`, ...
    header_reads: list[Node] = field(default_factory=list)
    rejects: list[Node] = field(default_factory=list)  # "No valid session ID" strings
    methods: set[str] = field(default_factory=set)  # HTTP methods it is registered for
    paths: set[str] = field(default_factory=set)

    @property
    def anchor(self) -> Node:
        return (self.lookups or self.rejects or self.header_reads)[0]


def session_routing(module: TsModule) -> list[Routing]:
    return module.memo(_session_routing, "ts.session_routing")


def header_reads(module: TsModule) -> list[Node]:
    """Reads of the `Mcp-Session-Id` request header: `req.headers["mcp-session-id"]`,
    `req.header(...)`, `req.get(...)`, `request.headers.get(...)`, `c.req.header(...)`."""
    return module.memo(_header_reads, "ts.header_reads")


def _header_reads(module: TsModule) -> list[Node]:
    found = []
    for literal in module.walk("string"):
        value = string_value(module, literal)
        if value is None or value.lower() != SESSION_HEADER:
            continue
        parent = literal.parent
        if parent is None:
            continue
        if parent.type == "subscript_expression" and parent.child_by_field_name("index") == literal:
            if not _assigned(parent):
                found.append(parent)
        elif parent.type == "arguments" and len(parent.named_children) == 1:
            call = parent.parent
            function = call.child_by_field_name("function") if call is not None else None
            if function is not None and function.type == "member_expression":
                prop = function.child_by_field_name("property")
                if prop is not None and module.source(prop) in ("get", "header", "getHeader"):
                    assert call is not None
                    found.append(call)
    return found


def _assigned(node: Node) -> bool:
    parent = node.parent
    return parent is not None and parent.type in ("assignment_expression", "augmented_assignment_expression") and (
        parent.child_by_field_name("left") == node
    )


_REJECT_WORDS = ("no valid session", "invalid session", "session not found", "unknown session", "session id")


def _session_routing(module: TsModule) -> list[Routing]:
    reads = header_reads(module)
    if not reads:
        return []
    tainted = _tainted_names(module, reads)
    routes = _route_registrations(module)
    by_function: dict[int, Routing] = {}

    def routing_of(node: Node) -> Routing:
        function = _handler_function(node, routes)
        key = -1 if function is None else function.id
        if key not in by_function:
            by_function[key] = _new_routing(module, function, routes)
        return by_function[key]

    for lookup in _lookups(module, tainted, reads):
        routing_of(lookup).lookups.append(lookup)
    for read in reads:
        routing = routing_of(read)
        routing.header_reads.append(read)
    for routing in by_function.values():
        if routing.function is None:
            continue
        for literal in module.descendants(routing.function, "string", "template_string"):
            text = (string_value(module, literal) or module.source(literal)).lower()
            if "session" in text and any(word in text for word in _REJECT_WORDS):
                routing.rejects.append(literal)
    found = [r for r in by_function.values() if r.lookups or r.rejects]
    return sorted(found, key=lambda r: r.anchor.start_byte)


def _tainted_names(module: TsModule, reads: list[Node]) -> set[tuple[int, str]]:
    """(function id, name) of variables holding a request's session id, followed through
    assignments and into the parameters of same-file helpers it is passed to."""
    tainted: set[tuple[int, str]] = set()
    read_ids = {r.id for r in reads}

    def carries(node: Node | None) -> bool:
        if node is None:
            return False
        for child in module.descendants(node, "identifier", "subscript_expression", "call_expression"):
            if child.id in read_ids:
                return True
            if child.type == "identifier" and _scope_key(module, child) in tainted:
                return True
        return False

    functions = _local_functions(module)
    for _ in range(4):  # a few rounds reach a fixed point on real handlers
        before = len(tainted)
        for declarator in module.walk("variable_declarator"):
            target = declarator.child_by_field_name("name")
            if target is not None and target.type == "identifier" and carries(declarator.child_by_field_name("value")):
                tainted.add(_scope_key(module, target))
        for assignment in module.walk("assignment_expression"):
            left = assignment.child_by_field_name("left")
            if left is not None and left.type == "identifier" and carries(assignment.child_by_field_name("right")):
                tainted.add(_scope_key(module, left))
        for call in module.walk("call_expression"):
            callee = _callee_name(module, call)
            target_fn = functions.get(callee) if callee else None
            if target_fn is None:
                continue
            params = target_fn.child_by_field_name("parameters")
            if params is None:
                continue
            names = [p for p in params.named_children if p.type in ("required_parameter", "optional_parameter", "identifier")]
            for arg, param in zip(call_arguments(call), names):
                ident = param if param.type == "identifier" else param.child_by_field_name("pattern")
                if ident is not None and ident.type == "identifier" and carries(arg):
                    tainted.add((target_fn.id, module.source(ident)))
        if len(tainted) == before:
            break
    return tainted


def _scope_key(module: TsModule, identifier: Node) -> tuple[int, str]:
    """The function whose local (or parameter) this name is, by walking out to a declaration."""
    name = module.source(identifier)
    function = enclosing_function(identifier)
    while function is not None:
        if _binds(module, function, name):
            return (function.id, name)
        function = enclosing_function(function)
    return (-1, name)


def _binds(module: TsModule, function: Node, name: str) -> bool:
    params = function.child_by_field_name("parameters") or function.child_by_field_name("parameter")
    if params is not None:
        for child in module.descendants(params, "identifier"):
            if module.source(child) == name:
                return True
    body = function.child_by_field_name("body")
    if body is None:
        return False
    for declarator in module.descendants(body, "variable_declarator"):
        if enclosing_function(declarator) != function:
            continue
        target = declarator.child_by_field_name("name")
        if target is not None and module.source(target) == name:
            return True
    return False


def _local_functions(module: TsModule) -> dict[str, Node]:
    """Functions callable by a plain name or `this.name`: declarations, `const f = () =>`,
    class methods."""
    found: dict[str, Node] = {}
    for declaration in module.walk("function_declaration", "generator_function_declaration"):
        name = declaration.child_by_field_name("name")
        if name is not None:
            found[module.source(name)] = declaration
    for declarator in module.walk("variable_declarator"):
        name, value = declarator.child_by_field_name("name"), unwrap(declarator.child_by_field_name("value"))
        if name is not None and value is not None and value.type in ("arrow_function", "function_expression"):
            found[module.source(name)] = value
    for method in module.walk("method_definition"):
        name = method.child_by_field_name("name")
        if name is not None:
            found.setdefault(module.source(name), method)
    return found


def _callee_name(module: TsModule, call: Node) -> str | None:
    function = call.child_by_field_name("function")
    if function is None:
        return None
    if function.type == "identifier":
        return module.source(function)
    if function.type == "member_expression":
        obj = function.child_by_field_name("object")
        prop = function.child_by_field_name("property")
        if obj is not None and obj.type == "this" and prop is not None:
            return module.source(prop)
    return None


def _lookups(module: TsModule, tainted: set[tuple[int, str]], reads: list[Node]) -> Iterator[Node]:
    """Container reads keyed by the request's session id."""
    read_ids = {r.id for r in reads}

    def keyed(node: Node | None) -> bool:
        node = unwrap(node)
        if node is None:
            return False
        if node.id in read_ids:
            return True
        for child in module.descendants(node, "identifier", "subscript_expression", "call_expression"):
            if child.id in read_ids or (child.type == "identifier" and _scope_key(module, child) in tainted):
                return True
        return False

    for node in module.walk("subscript_expression"):
        if node.id in read_ids or _assigned(node) or _deleted(node):
            continue
        if keyed(node.child_by_field_name("index")):
            yield node
    for call in module.walk("call_expression"):
        function = call.child_by_field_name("function")
        if function is None or function.type != "member_expression":
            continue
        prop = function.child_by_field_name("property")
        method = module.source(prop) if prop is not None else ""
        args = call_arguments(call)
        if method in ("get", "has") and len(args) == 1 and call.id not in read_ids and keyed(args[0]):
            yield call
        elif method in ("find", "findIndex", "filter", "some") and args and keyed(args[0]):
            yield call
    for binary in module.walk("binary_expression"):
        operator = binary.child_by_field_name("operator")
        if operator is not None and operator.type == "in" and keyed(binary.child_by_field_name("left")):
            yield binary


def _deleted(node: Node) -> bool:
    """`delete transports[sid]`: cleanup, not a lookup."""
    parent = node.parent
    operator = parent.child_by_field_name("operator") if parent is not None else None
    return parent is not None and parent.type == "unary_expression" and operator is not None and operator.type == "delete"


# -- HTTP routes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    call: Node  # `app.post("/mcp", handler)`
    method: str
    path: str | None
    handler: Node  # the function or the identifier naming it


def _route_registrations(module: TsModule) -> list[Route]:
    return module.memo(_routes, "ts.routes")


def _routes(module: TsModule) -> list[Route]:
    found = []
    for call in module.walk("call_expression"):
        function = call.child_by_field_name("function")
        if function is None or function.type != "member_expression":
            continue
        prop = function.child_by_field_name("property")
        method = module.source(prop).lower() if prop is not None else ""
        if method not in HTTP_METHODS:
            continue
        args = call_arguments(call)
        if not args:
            continue
        path = string_value(module, args[0]) if len(args) > 1 else None
        if path is None:  # `app.route("/mcp").post(handler)`
            obj = function.child_by_field_name("object")
            if obj is not None and obj.type == "call_expression":
                inner = obj.child_by_field_name("function")
                route_args = call_arguments(obj)
                if inner is not None and inner.type == "member_expression" and route_args:
                    path = string_value(module, route_args[0])
        if len(args) == 1 and path is None and method != "use":
            continue
        handler = unwrap(args[-1])
        if handler is not None and handler.type in ("arrow_function", "function_expression", "identifier"):
            found.append(Route(call, method, path, handler))
    return found


def _handler_function(node: Node, routes: list[Route]) -> Node | None:
    """The function the node is in that handles a request: a registered route handler if one
    encloses it, else the outermost enclosing function."""
    function = enclosing_function(node)
    outermost = function
    handlers = {r.handler.id for r in routes}
    while function is not None:
        if function.id in handlers:
            return function
        outermost = function
        function = enclosing_function(function)
    return outermost


def _new_routing(module: TsModule, function: Node | None, routes: list[Route]) -> Routing:
    if function is None:
        return Routing(None, "module-level code")
    name = _function_name(module, function)
    methods, paths = set(), set()
    for route in routes:
        if route.handler == function or (
            route.handler.type == "identifier" and name is not None and module.source(route.handler) == name
        ):
            methods.add(route.method.upper())
            if route.path:
                paths.add(route.path)
    where = " ".join(filter(None, ["/".join(sorted(methods)), ", ".join(sorted(paths))]))
    if name and where:
        label = f"handler `{name}` ({where})"
    elif where:
        label = f"{where} handler"
    else:
        label = f"function `{name}`" if name else "function"
    return Routing(function, label, methods=methods, paths=paths)


def _function_name(module: TsModule, function: Node) -> str | None:
    name = function.child_by_field_name("name")
    if name is not None:
        return module.source(name)
    parent = function.parent
    if parent is not None and parent.type == "variable_declarator":
        target = parent.child_by_field_name("name")
        return module.source(target) if target is not None else None
    if parent is not None and parent.type in ("pair", "public_field_definition", "field_definition"):
        key = parent.child_by_field_name("key") or parent.child_by_field_name("name")
        return module.name(key) if key is not None else None
    return None

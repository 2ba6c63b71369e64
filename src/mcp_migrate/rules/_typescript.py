"""Helpers shared by the TypeScript checkers of several rules: what a transport's options say,
and where HTTP handlers route requests by session id (MCP105, which withholds MCP101's fix)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..lang import is_test_file
from ..lang.typescript import (
    Node,
    TsModule,
    call_arguments,
    enclosing_function,
    remove_list_item,
    remove_list_items,
    string_value,
    unwrap,
)
from ..model import Diagnostic, Edit, Fix, FixSafety
from ..sdk.typescript import (
    RESUMABILITY,
    SESSION_HOOKS,
    TransportOptions,
    created_per_request,
    generator_value,
    is_undefined,
    streamable_transports,
)
from ..sdk.typescript_handlers import scope_of

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
                if any(is_undefined(module, b) for b in branches) and not all(
                    is_undefined(module, b) for b in branches
                ):
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
        extras = session_only_properties(module, transport, SESSION_HOOKS + RESUMABILITY)
        edits.extend(remove_list_items(module, extras))  # one run: neighbours' commas never overlap
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
            elif session_routing(module) and session_rewrite_edits(module):
                message += " (goes with the MCP105 rewrite)"
            elif session_routing(module):
                message += " (remove it with the session routing, which MCP105 does not rewrite in this file)"
            elif created_per_request(module, transport.options):
                message += " (MCP101's fix removes it)"
            else:
                message += " (remove it when the transport is made per request, see MCP101)"
            yield Diagnostic(code, module.span(prop), message, fix)


def session_rewrite_edits(module: TsModule) -> tuple[Edit, ...]:
    """The MCP105 rewrite of this file (empty when it is refused)."""
    from .mcp105_session_routing._rewrite import rewrite

    return rewrite(module)[0]


def back_channel_uses(module: TsModule) -> list[Diagnostic]:
    """What MCP203 (server-to-client requests) and MCP204 (pushes outside a request) find in
    the file: what a stateless rewrite stops delivering."""
    from . import checker

    return [d for code in ("MCP203", "MCP204") for d in checker(code, "typescript")(module)]


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
            receiver = parent.child_by_field_name("object")
            if (
                not _assigned(parent)
                and not _deleted(parent)
                and not _on_response(module, receiver)
                and _from_parameter(module, receiver)
            ):
                found.append(parent)
        elif parent.type == "arguments" and len(parent.named_children) == 1:
            call = parent.parent
            function = call.child_by_field_name("function") if call is not None else None
            if call is not None and function is not None and function.type == "member_expression":
                prop = function.child_by_field_name("property")
                receiver = function.child_by_field_name("object")
                if (
                    prop is not None
                    and module.source(prop) in _HEADER_GETTERS
                    and not _on_response(module, receiver)
                    and _from_parameter(module, receiver)
                ):
                    found.append(call)
    return found


def _from_parameter(module: TsModule, receiver: Node | None) -> bool:
    """The headers belong to a request this code was handed: the read is rooted at a parameter
    of an enclosing function (`req`, `c.req`, `ctx`, `request`), directly or through one local
    (`const headers = req.headers`). A recorded request or a response this code fetched is
    someone else's."""
    if _rooted_at_this(receiver):
        return True  # `this.req.headers[...]`: a per-request object's own request
    root = _root_identifier(receiver)
    for _ in range(3):
        if root is None:
            return False
        declaration = module.declaration(root)
        if declaration is None:
            return False  # a module-level name or a global
        if declaration.type in ("formal_parameters", "identifier", "required_parameter", "optional_parameter"):
            return True
        if declaration.type != "variable_declarator":
            return False
        value = unwrap(declaration.child_by_field_name("value"))
        if value is None:
            return False
        root = _root_identifier(value)
    return False


def _rooted_at_this(node: Node | None) -> bool:
    node = unwrap(node)
    while node is not None and node.type in ("member_expression", "subscript_expression", "call_expression"):
        node = unwrap(node.child_by_field_name("function" if node.type == "call_expression" else "object"))
    return node is not None and node.type == "this"


def _assigned(node: Node) -> bool:
    parent = node.parent
    return (
        parent is not None
        and parent.type in ("assignment_expression", "augmented_assignment_expression")
        and (parent.child_by_field_name("left") == node)
    )


# `getHeader` is not here: Node's `getHeader` belongs to outgoing messages (the response).
_HEADER_GETTERS = ("get", "header")


def _on_response(module: TsModule, receiver: Node | None) -> bool:
    """`res.get("mcp-session-id")`, `res.getHeaders()[...]`: the response's header (the one the
    transport writes), not the request's. The response is the handler's second parameter; a
    path through request data (`extra.requestInfo.headers[...]` in an SDK handler) is not it."""
    root = _root_identifier(receiver)
    if root is not None and _outgoing_response(module, root):
        return True
    if root is None or _through_request(module, receiver):
        return False
    name = module.source(root)
    function = enclosing_function(root)
    while function is not None:
        params = function.child_by_field_name("parameters")
        if params is not None:
            names = [_parameter_name(module, p) for p in params.named_children if p.type != "comment"]
            if name in names:
                return names.index(name) == 1
        function = enclosing_function(function)
    return False


_REQUEST_PARTS = frozenset({"headers", "requestInfo", "req", "request", "raw"})
# Calls that send an HTTP request and give its response: client code reading the session id a
# server returned (`const response = await fetch(url)`; axios, got, undici, supertest).
# Local helpers count by their name: `makeRequest`, `sendHttpRequest`, `doFetch`, `postJson`.
_HTTP_WORDS = ("fetch", "request", "post", "http")
_HTTP_VERBS = frozenset({"get", "put", "patch", "delete", "send"})


def _http_call_name(name: str) -> bool:
    return name in _HTTP_VERBS or any(word in name.lower() for word in _HTTP_WORDS)


def _outgoing_response(module: TsModule, root: Node) -> bool:
    """`response` of `const response = await fetch(...)` / `await axios.post(...)`."""
    value = unwrap(module.binding(root))
    if value is not None and value.type == "await_expression" and value.named_children:
        value = unwrap(value.named_children[0])
    if value is None or value.type != "call_expression":
        return False
    function = unwrap(value.child_by_field_name("function"))
    if function is not None and function.type == "member_expression":
        function = function.child_by_field_name("property")
    return function is not None and _http_call_name(module.source(function))


def _through_request(module: TsModule, node: Node | None) -> bool:
    node = unwrap(node)
    while node is not None and node.type in ("member_expression", "subscript_expression", "call_expression"):
        if node.type == "member_expression" and module.name(node.child_by_field_name("property")) in _REQUEST_PARTS:
            return True
        node = unwrap(node.child_by_field_name("function" if node.type == "call_expression" else "object"))
    return False


def _root_identifier(node: Node | None) -> Node | None:
    """`a` of `a.b.c`, `a[b].c()`, `(a as T).b`."""
    node = unwrap(node)
    while node is not None and node.type in ("member_expression", "subscript_expression", "call_expression"):
        field_name = "function" if node.type == "call_expression" else "object"
        node = unwrap(node.child_by_field_name(field_name))
    return node if node is not None and node.type == "identifier" else None


def _parameter_name(module: TsModule, param: Node) -> str | None:
    ident = param if param.type == "identifier" else param.child_by_field_name("pattern")
    return module.source(ident) if ident is not None and ident.type == "identifier" else None


_REJECT_WORDS = ("no valid session", "invalid session", "session not found", "unknown session", "session id")


def _session_routing(module: TsModule) -> list[Routing]:
    # Reads inside an MCP tool/resource/prompt handler are state keyed by session (MCP201), not routing.
    reads = [read for read in header_reads(module) if scope_of(module, read) is None]
    if not reads:
        return []
    tainted = _tainted_names(module, reads)
    by_function: dict[int, Routing] = {}

    def routing_of(node: Node) -> Routing:
        function = _handler_function(module, node)
        key = -1 if function is None else function.id
        if key not in by_function:
            by_function[key] = _new_routing(module, function)
        return by_function[key]

    for lookup in _lookups(module, tainted, reads):
        routing_of(lookup).lookups.append(lookup)
    for read in reads:
        routing = routing_of(read)
        routing.header_reads.append(read)
    read_ids = {r.id for r in reads}
    for routing in by_function.values():
        if routing.function is None:
            continue
        # in a test, such text is an expectation (`expect(body).toBe("session not found")`)
        literals = (
            () if is_test_file(module.path) else module.descendants(routing.function, "string", "template_string")
        )
        for literal in literals:
            text = (string_value(module, literal) or module.source(literal)).lower()
            if (
                "session" in text
                and any(word in text for word in _REJECT_WORDS)
                and not logged(module, literal)
                and not _test_title(module, literal)
            ):
                routing.rejects.append(literal)
        for statement in module.descendants(routing.function, "if_statement"):
            condition = statement.child_by_field_name("condition")
            consequence = statement.child_by_field_name("consequence")
            if condition is None or consequence is None or not _answers_4xx(module, consequence):
                continue
            if _carries(module, condition, tainted, read_ids):
                routing.rejects.append(condition)
    found = [r for r in by_function.values() if r.lookups or r.rejects]
    return sorted(found, key=lambda r: r.anchor.start_byte)


_TEST_CALLS = frozenset({"it", "test", "describe", "suite", "context", "specify"})


def _test_title(module: TsModule, literal: Node) -> bool:
    """`it("rejects an unknown session id", ...)`: a test's name, not an answer to a client."""
    parent = literal.parent
    call = parent.parent if parent is not None and parent.type == "arguments" else None
    if call is None or call.type != "call_expression" or parent.named_children[0] != literal:  # type: ignore[union-attr]
        return False
    function = call.child_by_field_name("function")
    root = _root_identifier(function) if function is not None and function.type != "identifier" else function
    return root is not None and module.source(root) in _TEST_CALLS


def session_names(module: TsModule) -> set[tuple[int, str]]:
    """(function id, name) of the variables that hold the request's session id."""
    return module.memo(lambda m: _tainted_names(m, header_reads(m)), "ts.session_names")


def is_session_name(module: TsModule, identifier: Node) -> bool:
    """The identifier names a variable that holds the request's session id."""
    return _scope_key(module, identifier) in session_names(module)


def carries_session(module: TsModule, node: Node) -> bool:
    """The expression reads the session header or a variable holding the session id."""
    return _carries(module, node, session_names(module), {r.id for r in header_reads(module)})


def _carries(module: TsModule, node: Node, tainted: set[tuple[int, str]], read_ids: set[int]) -> bool:
    if node.id in read_ids:
        return True
    for child in module.descendants(node, "identifier", "subscript_expression", "call_expression"):
        if child.id in read_ids or (child.type == "identifier" and _scope_key(module, child) in tainted):
            return True
    return False


def _answers_4xx(module: TsModule, block: Node) -> bool:
    """The branch answers 400 or 404 (`res.status(400)`, `writeHead(404)`, `c.json(body, 400)`):
    a "no such session" answer, whatever its text says."""
    return any(
        module.source(n) in ("400", "404") and _same_function(n, block) for n in module.descendants(block, "number")
    )


def _same_function(node: Node, container: Node) -> bool:
    function = enclosing_function(node)
    return function is None or function.start_byte < container.start_byte


_LOG_METHODS = frozenset({"log", "info", "warn", "warning", "error", "debug", "trace", "fatal"})


def logged(module: TsModule, literal: Node) -> bool:
    """A string written to a log (`console.warn(...)`, `logger.info(...)`), not sent to the client."""
    node = literal.parent
    while node is not None and node.type not in ("expression_statement", "statement_block", "program"):
        if node.type == "call_expression":
            function = node.child_by_field_name("function")
            root = _root_identifier(function)
            prop = function.child_by_field_name("property") if function is not None else None
            if root is not None and module.source(root) in ("console", "logger", "log"):
                return True
            if prop is not None and module.source(prop) in _LOG_METHODS:
                return True
        node = node.parent
    return False


_ID_METHODS = frozenset({"toString", "trim", "toLowerCase", "toUpperCase"})


def _tainted_names(module: TsModule, reads: list[Node]) -> set[tuple[int, str]]:
    """(function id, name) of variables holding a request's session id, followed through
    assignments and into the parameters of same-file helpers it is passed to."""
    tainted: set[tuple[int, str]] = set()
    read_ids = {r.id for r in reads}

    def carries(node: Node | None) -> bool:
        """The value is the session id (or text made of it), not something looked up by it."""
        node = unwrap(node)
        if node is None:
            return False
        if node.id in read_ids:
            return True
        kind = node.type
        if kind == "identifier":
            return _scope_key(module, node) in tainted
        if kind == "await_expression":
            return carries(node.named_children[0] if node.named_children else None)
        if kind == "binary_expression":
            operator = node.child_by_field_name("operator")
            if operator is not None and operator.type in ("??", "||", "&&", "+"):
                return carries(node.child_by_field_name("left")) or carries(node.child_by_field_name("right"))
            return False
        if kind == "ternary_expression":
            return carries(node.child_by_field_name("consequence")) or carries(node.child_by_field_name("alternative"))
        if kind == "template_string":
            return any(carries(c.named_children[0]) for c in node.named_children if c.type == "template_substitution")
        if kind == "subscript_expression":  # `header[0]` of a repeated header
            return carries(node.child_by_field_name("object"))
        if kind == "call_expression":
            function = node.child_by_field_name("function")
            args = call_arguments(node)
            if function is not None and function.type == "identifier" and module.source(function) == "String":
                return bool(args) and carries(args[0])
            if function is not None and function.type == "member_expression":
                prop = module.name(function.child_by_field_name("property"))
                return prop in _ID_METHODS and carries(function.child_by_field_name("object"))
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
            names = [
                p for p in params.named_children if p.type in ("required_parameter", "optional_parameter", "identifier")
            ]
            for arg, param in zip(call_arguments(call), names, strict=False):
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
        args = call_arguments(call)
        callee = (
            function.child_by_field_name("property")
            if function is not None and function.type == "member_expression"
            else function
        )
        name = (
            module.source(callee) if callee is not None and callee.type in ("identifier", "property_identifier") else ""
        )
        if args and _SESSION_GETTER.match(name) and keyed(args[0]):
            yield call  # a session store's API: `this.sessionStore.getSession(sid, ...)`, `getTransport(sid)`
            continue
        if function is None or function.type != "member_expression":
            continue
        prop = function.child_by_field_name("property")
        method = module.source(prop) if prop is not None else ""
        by_key = method in ("get", "has") and len(args) == 1 and call.id not in read_ids
        searched = method in ("find", "findIndex", "filter", "some") and bool(args)
        if (by_key or searched) and keyed(args[0]):
            yield call
    for binary in module.walk("binary_expression"):
        operator = binary.child_by_field_name("operator")
        if operator is not None and operator.type == "in" and keyed(binary.child_by_field_name("left")):
            yield binary


# Session stores' lookups by name: `getSession`, `findTransport`, `loadSessionState`, `hasSession`.
_SESSION_GETTER = re.compile(r"(?:get|find|lookup|load|fetch|resolve|has|restore)\w*(?:Session|Transport)\w*$")


def _deleted(node: Node) -> bool:
    """`delete transports[sid]`: cleanup, not a lookup."""
    parent = node.parent
    operator = parent.child_by_field_name("operator") if parent is not None else None
    return (
        parent is not None and parent.type == "unary_expression" and operator is not None and operator.type == "delete"
    )


# -- HTTP routes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    call: Node  # `app.post("/mcp", handler)`
    method: str
    path: str | None
    handler: Node  # the function or the identifier naming it


def route_registrations(module: TsModule) -> list[Route]:
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
        if path is None:  # `app.route("/mcp").post(handler).get(other)`
            path = _chained_route_path(module, function.child_by_field_name("object"))
        if len(args) == 1 and path is None and method != "use":
            continue
        handler = unwrap(args[-1])
        if handler is not None and handler.type in ("arrow_function", "function_expression", "identifier"):
            found.append(Route(call, method, path, handler))
    return found


def _chained_route_path(module: TsModule, obj: Node | None) -> str | None:
    """The path of `app.route("/mcp")` under a chain of method registrations on it."""
    while obj is not None and obj.type == "call_expression":
        inner = obj.child_by_field_name("function")
        if inner is None or inner.type != "member_expression":
            return None
        name = module.source(inner.child_by_field_name("property") or inner).lower()
        route_args = call_arguments(obj)
        if name == "route":
            return string_value(module, route_args[0]) if route_args else None
        if name not in HTTP_METHODS:
            return None
        obj = inner.child_by_field_name("object")
    return None


def route_handlers(module: TsModule) -> dict[int, list[Route]]:
    """Functions that serve routes, by node id: the registered function (an inline one, or the
    declaration a registered name resolves to) and the function a registered one-line wrapper
    forwards to (`(req, res) => this.handlePost(req, res)`)."""
    return module.memo(_route_handlers, "ts.route_handlers")


def _route_handlers(module: TsModule) -> dict[int, list[Route]]:
    functions = _local_functions(module)
    found: dict[int, list[Route]] = {}
    for route in route_registrations(module):
        handler = route.handler
        if handler.type == "identifier":
            target = functions.get(module.source(handler))
            if target is not None:
                found.setdefault(target.id, []).append(route)
            continue
        found.setdefault(handler.id, []).append(route)
        forwarded = forwarded_call(module, handler)
        callee = _callee_name(module, forwarded) if forwarded is not None else None
        target = functions.get(callee) if callee else None
        if target is not None:
            found.setdefault(target.id, []).append(route)
    return found


def forwarded_call(module: TsModule, function: Node) -> Node | None:
    """The call a one-line wrapper makes: `(req, res) => handle(req, res)`, `{ await x.handle(req, res); }`."""
    body = function.child_by_field_name("body")
    if body is not None and body.type == "statement_block":
        statements = [c for c in body.named_children if c.type != "comment"]
        if len(statements) != 1 or statements[0].type not in ("expression_statement", "return_statement"):
            return None
        body = statements[0].named_children[0] if statements[0].named_children else None
    body = unwrap(body)
    if body is not None and body.type in ("await_expression", "unary_expression"):  # `await f()`, `void f()`
        body = unwrap(body.named_children[0]) if body.named_children else None
    return body if body is not None and body.type == "call_expression" else None


def _handler_function(module: TsModule, node: Node) -> Node | None:
    """The function the node is in that handles a request: the innermost enclosing route
    handler, else the innermost named function (declaration, `const f = () =>`, method), else
    the outermost enclosing function."""
    handlers = route_handlers(module)
    function = enclosing_function(node)
    named: Node | None = None
    outermost = function
    while function is not None:
        if function.id in handlers:
            return function
        if named is None and _is_named(function):
            named = function
        outermost = function
        function = enclosing_function(function)
    return named or outermost


def _is_named(function: Node) -> bool:
    parent = function.parent
    return function.type in ("function_declaration", "method_definition", "generator_function_declaration") or (
        parent is not None and parent.type in ("variable_declarator", "public_field_definition", "field_definition")
    )


def _new_routing(module: TsModule, function: Node | None) -> Routing:
    if function is None:
        return Routing(None, "module-level code")
    name = _function_name(module, function)
    methods, paths = set(), set()
    for route in route_handlers(module).get(function.id, []):
        methods.add(route.method.upper())
        if route.path:
            paths.add(route.path)
    where = " ".join(filter(None, ["/".join(sorted(methods)), ", ".join(sorted(paths))]))
    if name and where:
        label = f"handler `{name}` ({where})"
    elif where:
        label = f"{where} handler"
    elif name:
        label = f"function `{name}`"
    else:
        callback = _server_callback(module, function)
        label = f"`{callback}` request handler" if callback else "function"
    return Routing(function, label, methods=methods, paths=paths)


def _server_callback(module: TsModule, function: Node) -> str | None:
    """`createServer` when the function is the request listener of `http.createServer(...)`."""
    args = function.parent
    call = args.parent if args is not None and args.type == "arguments" else None
    callee = call.child_by_field_name("function") if call is not None else None
    if callee is not None and callee.type == "member_expression":
        callee = callee.child_by_field_name("property")
    name = module.source(callee) if callee is not None else None
    return name if name in ("createServer", "createSecureServer") else None


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

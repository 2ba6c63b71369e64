"""The unsafe MCP105 fix: rewrite the canonical session-routing server to one server and one
stateless transport per request, with GET and DELETE answered 405.

Only a shape recognised with certainty is rewritten; anything else raises `Unsupported`
with the reason, and the finding is reported with the remedy instead. Never half a rewrite:
every session lookup and "no valid session" answer in the file must fall in code the rewrite
replaces, and the rewritten file is analysed again and must route by nothing, or nothing is
changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...edits import EditConflict, apply_edits
from ...errors import ParseError
from ...lang.ts_bindings import removals, rewrite_report, statement_removal
from ...lang.typescript import (
    Node,
    TsModule,
    call_arguments,
    enclosing_function,
    string_value,
    unwrap,
)
from ...model import Edit
from ...sdk.typescript import RESUMABILITY, SESSION_HOOKS, STREAMABLE_TRANSPORTS, from_sdk
from .._typescript import (
    Routing,
    Transport,
    carries_session,
    header_reads,
    is_session_name,
    logged,
    route_handlers,
    route_registrations,
    session_routing,
    transports,
)

if TYPE_CHECKING:
    from ._fetch import FetchHandler


class Unsupported(Exception):
    """The file's shape is not one the rewrite recognises with certainty."""


@dataclass
class _Handler:
    """The POST handler: the routing `if` that creates the transport, and what it uses."""

    function: Node
    statement: Node  # the outermost `if` of the routing chain, or the transport's creation
    end: Node  # the last statement the rewrite replaces (the `if`; or the server's `connect`)
    scan: list[Node]  # statements that set the transport up: kept, dropped or refused one by one
    guards: list[Node]  # early-return `if`s that reuse a session or reject the request
    construction: Node  # the statement that creates the transport
    transport: Transport
    name: str  # the transport's variable
    request: str | None  # the handler's request parameter
    response: str  # the handler's response parameter
    post_only: bool  # only POST requests reach the routing `if`


@dataclass
class _Plan:
    """Edits under construction, and which original code they replace: a name is dead once
    every reference to it is in replaced code that is not carried over."""

    module: TsModule
    quote: str
    framework: str  # "express", "fastify", "koa" or "node": how a 405 is written
    unit: str  # one level of indentation
    trailing: str  # "," when the file ends multi-line lists with a comma
    edits: list[Edit] = field(default_factory=list)
    replaced: list[tuple[int, int]] = field(default_factory=list)
    kept: list[Node] = field(default_factory=list)  # replaced, but its text is carried over

    def replace(self, start: int, end: int, text: str) -> None:
        self.edits.append(Edit(start, end, text))
        self.replaced.append((start, end))

    def remove_statement(self, statement: Node, comments: bool = False) -> None:
        """Remove a statement; with `comments`, also the comment lines right above it."""
        edit = statement_removal(self.module, statement, comments)
        self.edits.append(edit)
        self.replaced.append((min(edit.start, self.module.start(statement)), max(edit.end, self.module.end(statement))))

    def survives(self, node: Node) -> bool:
        start = self.module.start(node)
        if not any(a <= start < b for a, b in self.replaced):
            return True
        return any(self.module.start(k) <= start < self.module.end(k) for k in self.kept)

    def q(self, text: str) -> str:
        return f"{self.quote}{text}{self.quote}"

    def method_not_allowed(self, response: str, indent: str) -> str:
        """The statement that answers 405 with a JSON-RPC error, as the SDK's stateless example does."""
        q, inner = self.q, indent + self.unit
        body = f"{{ jsonrpc: {q('2.0')}, error: {{ code: -32000, message: {q('Method not allowed.')} }}, id: null }}"
        if self.framework == "koa":
            return (
                f"{response}.status = 405;\n"
                f"{indent}{response}.set({q('Allow')}, {q('POST')});\n"
                f"{indent}{response}.body = {{\n"
                f"{inner}jsonrpc: {q('2.0')},\n"
                f"{inner}error: {{ code: -32000, message: {q('Method not allowed.')} }},\n"
                f"{inner}id: null{self.trailing}\n"
                f"{indent}}};"
            )
        if self.framework == "fastify":
            return (
                f"{response}.code(405).header({q('Allow')}, {q('POST')}).send({{\n"
                f"{inner}jsonrpc: {q('2.0')},\n"
                f"{inner}error: {{ code: -32000, message: {q('Method not allowed.')} }},\n"
                f"{inner}id: null{self.trailing}\n"
                f"{indent}}});"
            )
        if self.framework == "express":
            return (
                f"{response}.status(405).set({q('Allow')}, {q('POST')}).json({{\n"
                f"{inner}jsonrpc: {q('2.0')},\n"
                f"{inner}error: {{ code: -32000, message: {q('Method not allowed.')} }},\n"
                f"{inner}id: null{self.trailing}\n"
                f"{indent}}});"
            )
        return (
            f"{response}.writeHead(405, {{ {q('Content-Type')}: {q('application/json')}, Allow: {q('POST')} }}).end(\n"
            f"{inner}JSON.stringify({body})\n"
            f"{indent});"
        )


def rewrite(module: TsModule) -> tuple[tuple[Edit, ...], str | None]:
    """The rewrite's edits, or no edits and the reason the shape is not rewritten."""
    return module.memo(_rewrite, "ts.mcp105.rewrite")


def _rewrite(module: TsModule) -> tuple[tuple[Edit, ...], str | None]:
    try:
        return _edits(module), None
    except Unsupported as exc:
        return (), str(exc)


def _edits(module: TsModule) -> tuple[Edit, ...]:
    routings = session_routing(module)
    stateful = [t for t in transports(module) if t.stateful] or _hand_minted(module)
    if not stateful:
        raise Unsupported(
            "no transport created in this file mints the session ids it looks up (they come from another module, "
            "a session store or ids minted by hand): serve each request with a fresh stateless transport by hand"
        )
    if len(stateful) > 1:
        raise Unsupported(f"{len(stateful)} transports in this file mint session ids; the rewrite handles one")
    transport = stateful[0]
    if transport.options.kind not in STREAMABLE_TRANSPORTS:
        raise Unsupported(f"`{transport.options.kind}` is not the SDK's streamable HTTP transport")
    for routing in routings:
        if routing.function is None:
            raise Unsupported("a session lookup outside any function")
    _shared_containers(module, transport, routings)
    from ._fetch import fetch_handler

    fetch = fetch_handler(module, transport) if _no_response_parameter(module, transport) else None
    if fetch is not None:
        return _fetch_edits(module, fetch, transport, routings)
    handler = _post_handler(module, transport)
    plan = _Plan(module, _quote(module), _framework(module), _indent_unit(module), _trailing_commas(module))
    _rewrite_post(plan, handler)
    if not handler.post_only:
        _method_guard(plan, handler)
    _method_not_allowed_routes(plan, handler)
    covered: set[int] = {handler.function.id}
    for routing in routings:
        assert routing.function is not None
        if routing.function.id == handler.function.id:
            _method_branches(plan, handler, routing)
        elif routing.function.id not in covered:
            _method_not_allowed_handler(plan, routing)
            covered.add(routing.function.id)
    _dead_declarations(plan, handler.function)
    _dead_iterations(plan)
    _check_covered(plan, routings)
    _check_leftovers(plan, handler.function)
    return _complete(module, _tidy(module.text, plan.edits))


def _no_response_parameter(module: TsModule, transport: Transport) -> bool:
    function = enclosing_function(transport.options.call)
    return function is not None and _response_parameter(module, function) is None


def _response_parameter(module: TsModule, function: Node) -> str | None:
    """What a handler answers through: Node's and Express's `res`, Fastify's `reply` (the
    second parameter), Koa's `ctx` (the first; the second is `next`)."""
    return _parameter(module, function, 0 if _framework(module) == "koa" else 1)


def _fetch_edits(
    module: TsModule, fetch: FetchHandler, transport: Transport, routings: list[Routing]
) -> tuple[Edit, ...]:
    """Fetch-style handlers (`_fetch.py`): the same checks and clean-up as the Node path."""
    from ._fetch import fetch_405_handler, rewrite_fetch

    plan = _Plan(module, _quote(module), "node", _indent_unit(module), _trailing_commas(module))
    rewrite_fetch(plan, fetch, transport)
    covered = {fetch.function.id}
    for routing in routings:
        assert routing.function is not None
        if routing.function.id not in covered:
            fetch_405_handler(plan, routing)
            covered.add(routing.function.id)
    _dead_declarations(plan, fetch.function)
    _dead_iterations(plan)
    _check_covered(plan, routings)
    _check_leftovers(plan, fetch.function)
    return _complete(module, _tidy(module.text, plan.edits))


def _hand_minted(module: TsModule) -> list[Transport]:
    """Stateless transports kept under ids the handler mints itself (`randomUUID()` sent back
    with `res.setHeader("Mcp-Session-Id", id)`): the session is the code's, not the SDK's."""
    functions = {r.function.id for r in session_routing(module) if r.function is not None}
    found = []
    for transport in transports(module):
        function = enclosing_function(transport.options.call)
        if transport.stateful or function is None or function.id not in functions:
            continue
        if any(_writes_session_header(module, s) for s in module.descendants(function, "expression_statement")):
            found.append(transport)
    return found


def _writes_session_header(module: TsModule, statement: Node) -> bool:
    """`res.setHeader("Mcp-Session-Id", id)`, `res.set(...)`, `reply.header(...)`."""
    expr = unwrap(statement.named_children[0]) if statement.named_children else None
    if expr is None or expr.type != "call_expression":
        return False
    function = expr.child_by_field_name("function")
    prop = (
        function.child_by_field_name("property")
        if function is not None and function.type == "member_expression"
        else None
    )
    args = call_arguments(expr)
    return (
        prop is not None
        and module.source(prop) in ("setHeader", "set", "header", "append")
        and bool(args)
        and (string_value(module, args[0]) or "").lower() == "mcp-session-id"
    )


def _complete(module: TsModule, edits: list[Edit]) -> tuple[Edit, ...]:
    """Check the rewritten file, and take away what the rewrite freed (a removal can free
    more: a map's only user was a helper nothing calls any more). Refused when the result
    still routes, uses a name nothing declares, or keeps something freed that cannot go."""
    for _ in range(_MAX_CLEANUPS):
        try:
            after = TsModule(apply_edits(module.text, edits), module.newline, module.path, module.dialect)
        except (ParseError, EditConflict) as exc:
            raise Unsupported(f"the rewrite would not apply cleanly ({exc})") from None
        if session_routing(after) or any(t.stateful for t in transports(after)):
            raise Unsupported("the rewritten file would still route by session id")
        report = rewrite_report(module, after, edits)
        if report.unbound:
            name, line = report.unbound[0]
            raise Unsupported(f"the rewrite would use `{name}` (line {line} of the result) where nothing declares it")
        if report.introduced_unused:
            name, line = report.introduced_unused[0]
            raise Unsupported(f"the rewrite would declare `{name}` (line {line} of the result) and not use it")
        if not report.freed:
            return tuple(sorted(edits))
        extra, stuck = removals(module, report.freed)
        if stuck:
            first = stuck[0]
            raise Unsupported(
                f"`{first.name}` (line {module.span(first.node).line}) would be left unused, and removing it "
                "could change what the program does"
            )
        fresh = [e for e in extra if not any(o.start <= e.start and e.end <= o.end for o in edits)]
        if not fresh:
            return tuple(sorted(edits))
        edits = _tidy(module.text, edits + fresh)
    raise Unsupported("the rewrite kept freeing declarations")


_MAX_CLEANUPS = 6


def _shared_containers(module: TsModule, transport: Transport, routings: list[Routing]) -> None:
    """A map the routing reads that other code also fills (legacy SSE transports kept in the
    same object, say) is not the rewrite's to take apart."""
    containers = _containers(module)
    options = transport.options.options
    functions = {r.function.id for r in routings if r.function is not None}
    for statement in module.walk("expression_statement"):
        if not _stores_into(module, statement, containers):
            continue
        if options is not None and options.start_byte <= statement.start_byte < options.end_byte:
            continue
        function = enclosing_function(statement)
        while function is not None and function.id not in functions:
            function = enclosing_function(function)
        if function is None:
            line = module.span(statement).line
            raise Unsupported(
                f"the session map is also filled outside the session routing (line {line}: "
                f"`{module.source(statement).splitlines()[0]}`), e.g. by a legacy SSE endpoint (MCP104): "
                "migrate or separate that first"
            )


# -- the POST handler -------------------------------------------------------------------------
def _post_handler(module: TsModule, transport: Transport) -> _Handler:
    options = transport.options
    if not options.inline or options.options is None:
        raise Unsupported("the transport's options are not written where it is created")
    call = options.call
    function = enclosing_function(call)
    if function is not None and function.id in route_handlers(module) and _response_parameter(module, function) is None:
        raise Unsupported(
            "the handler takes no response parameter (a fetch-style handler such as Hono's returns its response): "
            "create the server and a `sessionIdGenerator: undefined` transport per request by hand"
        )
    if (
        function is not None
        and function.id not in route_handlers(module)
        and _response_parameter(module, function) is None
    ):
        label = function.child_by_field_name("name")
        if label is None and function.parent is not None and function.parent.type == "variable_declarator":
            label = function.parent.child_by_field_name("name")
        where = f"`{module.source(label)}`" if label is not None else "a helper function"
        raise Unsupported(f"the transport is created in {where}, outside the request handler that routes by session id")
    node = call.parent
    while node is not None and node.type in ("parenthesized_expression", "await_expression"):
        node = node.parent
    name = None
    if node is not None and node.type == "assignment_expression":
        left = node.child_by_field_name("left")
        name = module.source(left) if left is not None and left.type == "identifier" else None
        node = node.parent
    elif node is not None and node.type == "variable_declarator":
        target = node.child_by_field_name("name")
        name = module.source(target) if target is not None and target.type == "identifier" else None
        node = node.parent
    if name is None or node is None or node.type not in ("expression_statement", "lexical_declaration"):
        raise Unsupported("the transport is not assigned to a variable where it is created")
    construction = node
    branch = construction.parent
    if function is None or branch is None or branch.type != "statement_block":
        raise Unsupported("the transport is not created in a block of the request handler")
    statement = branch.parent
    if statement is not None and statement.type == "else_clause":
        statement = statement.parent
    guards: list[Node] = []
    if statement is not None and statement.type == "if_statement" and _method_condition(module, statement) is None:
        # `if (session) {reuse} else if (initialize) {create} else {400}`
        while statement.parent is not None and statement.parent.type == "else_clause":
            outer = statement.parent.parent
            assert outer is not None
            statement = outer
        block = statement.parent
        if block is None or block.type != "statement_block":
            raise Unsupported("the routing `if` is not a statement of the request handler")
        end, scan = statement, [c for c in branch.named_children if c != construction]
    else:  # `if (session) {reuse; return} if (!initialize) {400; return}` then create
        block, statement = branch, construction
        later = [c for c in block.named_children if c.start_byte > construction.start_byte]
        serve = next((c for c in later if _calls_method(module, c, name, "handleRequest")), None)
        if serve is None:
            raise Unsupported("no `handleRequest` call after the transport is created serves the request")
        scan = [c for c in later if c.start_byte < serve.start_byte]
        end = scan[-1] if scan else construction
        guards = _guards(module, function, construction)
    post_branch = False
    node = block
    while node != function:  # blocks, `try`, and branches of an `if` on the HTTP method
        parent = node.parent
        assert parent is not None
        if parent.type == "if_statement":
            methods = _method_condition(module, parent)
            if methods is None:
                raise Unsupported("the routing `if` is nested in other control flow")
            if parent.child_by_field_name("consequence") == node:
                if methods != {"POST"}:
                    raise Unsupported(f"the routing `if` serves {'/'.join(sorted(methods))} requests")
                post_branch = True
        elif parent.type not in ("statement_block", "try_statement", "else_clause") and parent != function:
            raise Unsupported("the routing `if` is nested in other control flow")
        node = parent
    response = _response_parameter(module, function)
    if response is None:
        raise Unsupported("the handler has no plain response parameter")
    request = _parameter(module, function, 0)
    post_only = post_branch or _registered_only(module, function, {"post"})
    if not post_only and request is None:
        raise Unsupported("the handler also serves other methods and has no plain request parameter")
    return _Handler(function, statement, end, scan, guards, construction, transport, name, request, response, post_only)


def _guards(module: TsModule, function: Node, construction: Node) -> list[Node]:
    """`if`s before the transport's creation, in its block or the blocks around it, that route:
    their condition reads the session id, looks a session up or asks `isInitializeRequest`."""
    lookups = {n.id for r in session_routing(module) for n in r.lookups}
    found = []
    node: Node | None = construction.parent
    while node is not None and node != function:
        if node.type == "statement_block":
            for child in node.named_children:
                if child.start_byte >= construction.start_byte or child.type != "if_statement":
                    continue
                condition = child.child_by_field_name("condition")
                if condition is None:
                    continue
                initialize = any(
                    _is_initialize_check(module, c) for c in module.descendants(condition, "call_expression")
                )
                looks_up = any(n.id in lookups for n in module.descendants(condition, *_LOOKUP_TYPES))
                if initialize or looks_up or carries_session(module, condition):
                    found.append(child)
        node = node.parent
    return found


_LOOKUP_TYPES = ("subscript_expression", "call_expression", "binary_expression")


def _is_initialize_check(module: TsModule, call: Node) -> bool:
    """`isInitializeRequest(body)` from the SDK."""
    return from_sdk(module.imported(call.child_by_field_name("function")), frozenset({"isInitializeRequest"}))


def _parameter(module: TsModule, function: Node, index: int) -> str | None:
    params = function.child_by_field_name("parameters")
    if params is None:
        return None
    named = [p for p in params.named_children if p.type != "comment"]
    if len(named) <= index:
        return None
    param = named[index]
    ident = param if param.type == "identifier" else param.child_by_field_name("pattern")
    return module.source(ident) if ident is not None and ident.type == "identifier" else None


def _method_condition(module: TsModule, statement: Node) -> set[str] | None:
    """{"GET", "DELETE"} for `if (req.method === "GET" || req.method === "DELETE")`; None when
    the condition is not only HTTP-method comparisons."""
    condition = statement.child_by_field_name("condition")
    if condition is None or ".method" not in module.source(condition):
        return None
    methods: set[str] = set()
    for part in _disjuncts(unwrap(condition)):
        if part is None or part.type != "binary_expression":
            return None
        operator = part.child_by_field_name("operator")
        left, right = part.child_by_field_name("left"), part.child_by_field_name("right")
        if operator is None or module.source(operator) not in ("===", "==") or left is None or right is None:
            return None
        value = string_value(module, right) or string_value(module, left)
        other = left if string_value(module, right) is not None else right
        prop = other.child_by_field_name("property") if other.type == "member_expression" else None
        if value is None or prop is None or module.source(prop) != "method":
            return None
        methods.add(value.upper())
    return methods


def _disjuncts(node: Node | None) -> list[Node | None]:
    if node is not None and node.type == "binary_expression":
        operator = node.child_by_field_name("operator")
        if operator is not None and operator.type == "||":
            return _disjuncts(unwrap(node.child_by_field_name("left"))) + _disjuncts(
                unwrap(node.child_by_field_name("right"))
            )
    return [node]


def _registered_only(module: TsModule, function: Node, methods: set[str]) -> bool:
    """True when the function is used only as the handler of routes for `methods` (directly or
    through one-line wrappers), so no other request reaches it."""
    routes = route_handlers(module).get(function.id, [])
    if not routes or any(route.method not in methods for route in routes):
        return False
    return len(_references(module, function)) <= len(routes)


def _references(module: TsModule, function: Node) -> list[Node]:
    """Uses of a named function's name (`handle`, `this.handle`); none for an inline one."""
    name_node = function.child_by_field_name("name")
    parent = function.parent
    if name_node is None and parent is not None and parent.type == "variable_declarator":
        name_node = parent.child_by_field_name("name")
    if name_node is None:
        return []
    name = module.source(name_node)
    if function.type == "method_definition":
        return [
            m
            for m in module.walk("member_expression")
            if (obj := m.child_by_field_name("object")) is not None
            and obj.type == "this"
            and module.name(m.child_by_field_name("property")) == name
        ]
    return [i for i in module.walk("identifier") if module.source(i) == name and i != name_node]


def _rewrite_post(plan: _Plan, handler: _Handler) -> None:
    """Replace the routing `if` with: server, stateless transport, close on response close, connect."""
    module = plan.module
    name, statement = handler.name, handler.statement
    containers = _containers(module)
    block = statement.parent
    assert block is not None
    later = [s for s in block.named_children if s.start_byte > handler.end.end_byte]
    handled_later = any(_calls_method(module, s, name, "handleRequest") for s in later)
    options = handler.transport.options.options

    kept: list[Node] = []
    server: str | None = None
    server_init: str | None = None
    handle: Node | None = None
    for child in handler.scan:
        if child.type == "comment":
            continue
        if child.type == "return_statement" and not child.named_children:
            continue
        if _assigns_property(module, child, name, ("onclose",)) or _stores_into(module, child, containers):
            continue
        if _writes_session_header(module, child):
            continue  # a hand-minted id sent back: no session any more
        connect = _connect_call(module, child, name)
        if connect is not None:
            server, server_init = server_of(module, handler.function, connect)
            continue
        if _calls_method(module, child, name, "handleRequest"):
            handle = None if handled_later else child
            continue
        if _nested_guard(module, child, handler, containers):
            continue  # `if (!isInitializeRequest(req.body)) { 400; return; }` inside the branch
        if _session_cleanup_hook(module, child, name, containers):
            continue  # `server.onclose = () => { delete transports[id]; }`: nothing is stored now
        if _kept_guard(module, child, name, containers):
            kept.append(child)  # an auth check that answers 401 stays, before the server is made
            continue
        text = module.source(child).splitlines()[0]
        if _mentions(module, child, {name} | containers):
            raise Unsupported(f"the branch that creates the transport also does `{text}`")
        if _answers(module, child, handler.response):
            raise Unsupported(f"the branch that creates the transport also answers or leaves the request: `{text}`")
        kept.append(child)
    if server is None:
        relay = _handed_to(module, handler.scan, name)
        if relay is not None:  # example-remote-server: `t.onclose = await redisRelayToMcpServer(id, t)`
            raise Unsupported(
                f"the branch that creates the transport connects no server to it but hands it to `{relay}(...)`, "
                "a relay to a server held elsewhere (such as one connected in a session hook over Redis), "
                "which a per-request rewrite would cut off"
            )
        raise Unsupported("the branch that creates the transport does not connect a server to it")
    if statement != handler.construction:
        for other in _branches(statement):
            if other != handler.construction.parent:
                _check_other_branch(module, other, handler, containers)
    for guard in handler.guards:
        consequence = guard.child_by_field_name("consequence")
        assert consequence is not None
        last = [c for c in consequence.named_children if c.type != "comment"][-1:] or [consequence]
        if guard.child_by_field_name("alternative") is not None or last[0].type != "return_statement":
            text = module.source(guard).splitlines()[0]
            raise Unsupported(f"`{text}` (line {module.span(guard).line}) routes by session but does not return")
        _check_other_branch(module, consequence, handler, containers)
        plan.remove_statement(guard, comments=True)
    if not handled_later and handle is None:
        raise Unsupported("no `handleRequest` call serves the request")
    # the server connected to the transport is used by the new code even if a session hook
    # was its only other use
    kept = [
        k
        for k in kept
        if not (_feeds_only_options(module, k, options, kept, later) or _minted_id(module, k, handler, kept, later))
        or (server_init is None and _declares(module, k, server))
    ]
    if server_init is not None and any(
        module.source(i) == server for i in module.descendants(handler.function, "identifier")
    ):
        server = "mcpServer"

    indent = _indent(module, statement)
    inner = _indent(module, handler.construction)
    lines = [_reindent(module.source(k), inner, indent) for k in kept]
    if server_init is not None:
        lines.append(f"const {server} = {server_init};")
    lines.append(f"const {name} = {_reindent(_stateless_construction(module, handler.transport), inner, indent)};")
    res = _node_response(module, handler)
    lines.append(
        f"{res}.on({plan.q('close')}, () => {{\n{indent}{plan.unit}void {name}.close();\n"
        f"{indent}{plan.unit}void {server}.close();\n{indent}}});"
    )
    lines.append(f"await {server}.connect({name});")
    if handle is not None:
        lines.append(_reindent(module.source(handle), inner, indent))
    plan.replace(module.start(statement), module.end(handler.end), f"\n{indent}".join(lines))
    plan.kept.extend(kept)
    _transport_declaration(plan, handler, block)


def _nested_guard(module: TsModule, statement: Node, handler: _Handler, containers: set[str]) -> bool:
    """An `if` in the creating branch that turns away what is not an initialize request (or
    routes by session) and returns: with one transport per request it has nothing to decide."""
    if statement.type != "if_statement" or statement.child_by_field_name("alternative") is not None:
        return False
    condition = statement.child_by_field_name("condition")
    consequence = statement.child_by_field_name("consequence")
    if condition is None or consequence is None:
        return False
    routes = any(_is_initialize_check(module, c) for c in module.descendants(condition, "call_expression"))
    if not (routes or carries_session(module, condition)):
        return False
    body = [c for c in (consequence.named_children if consequence.type == "statement_block" else [consequence])]
    body = [c for c in body if c.type != "comment"]
    if not body or body[-1].type != "return_statement":
        return False
    try:
        _check_other_branch(module, consequence, handler, containers)
    except Unsupported:
        return False
    return True


def _kept_guard(module: TsModule, statement: Node, transport: str, containers: set[str]) -> bool:
    """`if (!authorised) { res.status(401)...; return; }`: nothing to do with sessions, so the
    per-request handler keeps it."""
    if statement.type != "if_statement" or statement.child_by_field_name("alternative") is not None:
        return False
    condition = statement.child_by_field_name("condition")
    consequence = statement.child_by_field_name("consequence")
    if condition is None or consequence is None or consequence.type != "statement_block":
        return False
    if carries_session(module, condition) or _mentions(module, statement, {transport} | containers):
        return False
    if any(_is_initialize_check(module, c) for c in module.descendants(condition, "call_expression")):
        return False
    body = [c for c in consequence.named_children if c.type != "comment"]
    return bool(body) and body[-1].type == "return_statement"


def _session_cleanup_hook(module: TsModule, statement: Node, transport: str, containers: set[str]) -> bool:
    """`server.onclose = () => { log; if (transport.sessionId) delete transports[...] }`: a
    hook that only forgets a session (and logs), dead once nothing is stored."""
    if statement.type != "expression_statement" or not statement.named_children:
        return False
    expr = statement.named_children[0]
    left = expr.child_by_field_name("left") if expr.type == "assignment_expression" else None
    right = unwrap(expr.child_by_field_name("right")) if expr.type == "assignment_expression" else None
    prop = left.child_by_field_name("property") if left is not None and left.type == "member_expression" else None
    if prop is None or module.source(prop) != "onclose" or right is None or right.type not in _FUNCTION_VALUES:
        return False
    body = right.child_by_field_name("body")
    return body is not None and _only_forgets(module, body, transport, containers)


_FUNCTION_VALUES = ("arrow_function", "function_expression")


def _only_forgets(module: TsModule, node: Node, transport: str, containers: set[str]) -> bool:
    statements = node.named_children if node.type == "statement_block" else [node]
    for child in statements:
        if child.type == "comment":
            continue
        if child.type == "if_statement":
            consequence = child.child_by_field_name("consequence")
            if child.child_by_field_name("alternative") is not None or consequence is None:
                return False
            if not _only_forgets(module, consequence, transport, containers):
                return False
            continue
        expr = (
            unwrap(child.named_children[0]) if child.type == "expression_statement" and child.named_children else None
        )
        if expr is None and child.type != "expression_statement":
            expr = unwrap(child)
        if expr is None:
            return False
        if expr.type == "unary_expression" and module.source(expr).startswith("delete"):
            target = unwrap(expr.named_children[0]) if expr.named_children else None
            obj = target.child_by_field_name("object") if target is not None else None
            if obj is not None and _name_of(module, obj) in containers:
                continue
        if expr.type == "call_expression":
            function = expr.child_by_field_name("function")
            obj = (
                function.child_by_field_name("object")
                if function is not None and function.type == "member_expression"
                else None
            )
            prop = function.child_by_field_name("property") if obj is not None and function is not None else None
            if (
                obj is not None
                and prop is not None
                and module.source(prop) == "delete"
                and _name_of(module, obj) in containers
            ):
                continue
            if _rooted_at(module, expr, {"console"}) or _is_log_call(module, expr):
                continue
        return False
    return True


def _declares(module: TsModule, statement: Node, name: str) -> bool:
    return statement.type == "lexical_declaration" and any(
        (target := d.child_by_field_name("name")) is not None and module.source(target) == name
        for d in statement.named_children
        if d.type == "variable_declarator"
    )


def _node_response(module: TsModule, handler: _Handler) -> str:
    """What `handleRequest` writes to: `res`, or Fastify's `reply.raw`, Koa's `ctx.res`."""
    for call in module.descendants(handler.function, "call_expression"):
        function = call.child_by_field_name("function")
        args = call_arguments(call)
        serves = function is not None and module.source(function) == f"{handler.name}.handleRequest"
        if serves and len(args) >= 2 and _rooted_at(module, args[1], {handler.response}):
            return module.source(args[1])
    return handler.response


def _branches(statement: Node) -> list[Node]:
    found = []
    node: Node | None = statement
    while node is not None and node.type == "if_statement":
        consequence = node.child_by_field_name("consequence")
        if consequence is not None:
            found.append(consequence)
        alternative = node.child_by_field_name("alternative")
        node = None
        if alternative is not None:
            body = alternative.named_children[0] if alternative.named_children else None
            if body is not None and body.type == "if_statement":
                node = body
            elif body is not None:
                found.append(body)
    return found


def _check_other_branch(module: TsModule, branch: Node, handler: _Handler, containers: set[str]) -> None:
    """Branches that reuse a stored transport or reject the request are dropped by the rewrite,
    so they may do nothing else: assign the stored transport, serve with it, answer, log."""
    statements = branch.named_children if branch.type == "statement_block" else [branch]
    for child in statements:
        if child.type == "comment":
            continue
        if child.type == "return_statement":
            value = child.named_children[0] if child.named_children else None
            if value is None or _rooted_at(module, value, {handler.response}):
                continue
        elif child.type == "expression_statement" and child.named_children:
            expr = unwrap(child.named_children[0])
            if expr is not None and expr.type == "await_expression":
                expr = unwrap(expr.named_children[0]) if expr.named_children else None
            if expr is not None and expr.type == "assignment_expression":
                left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
                if left is not None and module.source(left) == handler.name and _pure(module, right):
                    continue
                if (
                    left is not None
                    and left.type == "member_expression"
                    and _rooted_at(module, left, {handler.response})
                ) and _pure(module, right):  # Koa: `ctx.status = 400; ctx.body = {...}`
                    continue
            if expr is not None and expr.type == "call_expression":
                if _rooted_at(module, expr, {handler.response, "console"}):
                    continue
                if _calls_method(module, child, handler.name, "handleRequest") or _serves_stored(
                    module, expr, containers
                ):
                    continue
        raise Unsupported(f"a branch of the session `if` also does `{module.source(child).splitlines()[0]}`")


def _serves_stored(module: TsModule, call: Node, containers: set[str]) -> bool:
    """`transports[sessionId].handleRequest(...)`, `sessions.get(sid)!.handleRequest(...)`."""
    function = call.child_by_field_name("function")
    prop = function.child_by_field_name("property") if function is not None else None
    if function is None or prop is None or module.source(prop) != "handleRequest":
        return False
    root = _root(function.child_by_field_name("object"))
    return root is not None and module.source(root) in containers


def _rooted_at(module: TsModule, node: Node, names: set[str]) -> bool:
    """`res.status(400).json(...)` is rooted at `res`."""
    root = _root(node)
    return root is not None and module.source(root) in names


def _root(node: Node | None) -> Node | None:
    node = unwrap(node)
    while node is not None and node.type in ("member_expression", "subscript_expression", "call_expression"):
        node = unwrap(node.child_by_field_name("function" if node.type == "call_expression" else "object"))
    return node if node is not None and node.type in ("identifier", "this") else None


def _pure(module: TsModule, node: Node | None) -> bool:
    """An expression that only reads: no calls but session lookups, no `new`, `await` or assignment."""
    if node is None:
        return False
    lookups = {n.id for r in session_routing(module) for n in r.lookups}
    reads = {n.id for n in header_reads(module)}
    for child in module.descendants(node, "call_expression", "new_expression", "await_expression"):
        if child.type != "call_expression" or (child.id not in lookups and child.id not in reads):
            return False
    return not any(
        True
        for _ in module.descendants(
            node, "assignment_expression", "augmented_assignment_expression", "update_expression"
        )
    )


def _answers(module: TsModule, statement: Node, response: str) -> bool:
    """The statement uses the response or leaves the handler (`return`, `throw`)."""
    for child in module.descendants(statement, "identifier", "return_statement", "throw_statement"):
        if child.type == "identifier":
            if module.source(child) == response:
                return True
        elif _same_function(child, statement):
            return True
    return False


def _same_function(node: Node, container: Node) -> bool:
    function = enclosing_function(node)
    return function is None or function.start_byte < container.start_byte


_ID_MAKERS = frozenset({"randomUUID", "crypto.randomUUID", "uuidv4", "v4", "uuid", "nanoid"})


def _minted_id(module: TsModule, statement: Node, handler: _Handler, kept: list[Node], later: list[Node]) -> bool:
    """`const id = randomUUID();` whose only uses were the session bookkeeping the rewrite drops."""
    if statement.type != "lexical_declaration":
        return False
    declarators = [d for d in statement.named_children if d.type == "variable_declarator"]
    target = declarators[0].child_by_field_name("name") if len(declarators) == 1 else None
    value = unwrap(declarators[0].child_by_field_name("value")) if len(declarators) == 1 else None
    if target is None or target.type != "identifier" or value is None or value.type != "call_expression":
        return False
    function = value.child_by_field_name("function")
    if function is None or module.source(function) not in _ID_MAKERS or call_arguments(value):
        return False
    name = module.source(target)
    kinds = ("identifier", "shorthand_property_identifier")
    elsewhere = [s for s in kept + later if s != statement]
    return not any(module.source(n) == name for s in elsewhere for n in module.descendants(s, *kinds))


def _feeds_only_options(
    module: TsModule, statement: Node, options: Node | None, kept: list[Node], later: list[Node]
) -> bool:
    """`const eventStore = new InMemoryEventStore();` whose only use was a transport option the
    rewrite removes: dropped with it."""
    if statement.type != "lexical_declaration":
        return False
    declarators = [d for d in statement.named_children if d.type == "variable_declarator"]
    target = declarators[0].child_by_field_name("name") if len(declarators) == 1 else None
    if target is None or target.type != "identifier":
        return False
    name = module.source(target)
    kinds = ("identifier", "shorthand_property_identifier")
    if options is None or not any(module.source(n) == name for n in module.descendants(options, *kinds)):
        return False
    elsewhere = [s for s in kept + later if s != statement]
    return not any(module.source(n) == name for s in elsewhere for n in module.descendants(s, *kinds))


def _containers(module: TsModule) -> set[str]:
    """Names of the objects session lookups read from (`transports`, `this.sessions` -> sessions)."""
    names = set()
    for routing in session_routing(module):
        for lookup in routing.lookups:
            if lookup.type == "binary_expression":  # `sid in transports`
                target = lookup.child_by_field_name("right")
            elif lookup.type == "call_expression":
                function = lookup.child_by_field_name("function")
                target = function.child_by_field_name("object") if function is not None else None
            else:
                target = lookup.child_by_field_name("object")
            target = unwrap(target)
            if target is not None:
                prop = target.child_by_field_name("property") if target.type == "member_expression" else None
                names.add(module.source(prop if prop is not None else target))
    return names


def _mentions(module: TsModule, node: Node, names: set[str]) -> bool:
    return any(
        module.source(child) in names
        for child in module.descendants(node, "identifier", "property_identifier", "shorthand_property_identifier")
    )


def _calls_method(module: TsModule, node: Node, receiver: str, method: str) -> bool:
    for call in module.descendants(node, "call_expression"):
        function = call.child_by_field_name("function")
        if function is not None and function.type == "member_expression":
            obj, prop = function.child_by_field_name("object"), function.child_by_field_name("property")
            if (
                obj is not None
                and prop is not None
                and module.source(obj) == receiver
                and module.source(prop) == method
            ):
                return True
    return False


def _assigns_property(module: TsModule, statement: Node, receiver: str, props: tuple[str, ...]) -> bool:
    if statement.type != "expression_statement" or not statement.named_children:
        return False
    expr = statement.named_children[0]
    if expr.type != "assignment_expression":
        return False
    left = expr.child_by_field_name("left")
    if left is None or left.type != "member_expression":
        return False
    obj, prop = left.child_by_field_name("object"), left.child_by_field_name("property")
    return obj is not None and prop is not None and module.source(obj) == receiver and module.source(prop) in props


def _stores_into(module: TsModule, statement: Node, containers: set[str]) -> bool:
    """`transports[id] = transport`, `sessions.set(id, transport)`, `sessions.push(...)`."""
    if statement.type != "expression_statement" or not statement.named_children:
        return False
    expr = statement.named_children[0]
    if expr.type == "assignment_expression":
        left = expr.child_by_field_name("left")
        if left is not None and left.type == "subscript_expression":
            obj = left.child_by_field_name("object")
            return obj is not None and _name_of(module, obj) in containers
    if expr.type == "call_expression":
        function = expr.child_by_field_name("function")
        if function is not None and function.type == "member_expression":
            obj, prop = function.child_by_field_name("object"), function.child_by_field_name("property")
            return (
                obj is not None
                and prop is not None
                and module.source(prop) in ("set", "push")
                and _name_of(module, obj) in containers
            )
    return False


def _name_of(module: TsModule, node: Node) -> str:
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return module.source(prop) if prop is not None else ""
    return module.source(node)


def _handed_to(module: TsModule, statements: Sequence[Node], transport: str) -> str | None:
    """The function a statement passes the transport to as an argument (not `connect`), if any."""
    for statement in statements:
        for call in module.descendants(statement, "call_expression"):
            function, args = call.child_by_field_name("function"), call.child_by_field_name("arguments")
            if function is None or args is None or module.source(function).endswith(".connect"):
                continue
            if any(module.source(arg) == transport for arg in args.named_children):
                return module.source(function)
    return None


def _connect_call(module: TsModule, statement: Node, transport: str) -> Node | None:
    """The `X.connect(transport)` call of `await X.connect(transport);`."""
    if statement.type != "expression_statement" or not statement.named_children:
        return None
    expr = unwrap(statement.named_children[0])
    if expr is not None and expr.type == "await_expression":
        expr = unwrap(expr.named_children[0])
    if expr is None or expr.type != "call_expression":
        return None
    function = expr.child_by_field_name("function")
    args = expr.child_by_field_name("arguments")
    if function is None or function.type != "member_expression" or args is None:
        return None
    prop = function.child_by_field_name("property")
    if prop is None or module.source(prop) != "connect" or module.source(args).replace(" ", "") != f"({transport})":
        return None
    return function.child_by_field_name("object")


def server_of(module: TsModule, function: Node, target: Node) -> tuple[str, str | None]:
    """(name, initialiser to declare) of the server connected to the transport; only a server
    made for this request will do (a shared instance cannot serve concurrent requests)."""
    target = unwrap(target) or target
    if target.type in ("call_expression", "new_expression", "await_expression"):
        return ("server", module.source(target))
    if target.type == "identifier":
        name = module.source(target)
        for declarator in module.descendants(function, "variable_declarator"):
            if enclosing_function(declarator) != function:
                continue
            declared = declarator.child_by_field_name("name")
            value = unwrap(declarator.child_by_field_name("value"))
            made = value is not None and value.type in ("call_expression", "new_expression", "await_expression")
            if declared is not None and module.source(declared) == name and made:
                return (name, None)
    raise Unsupported(
        f"the handler connects `{module.source(target)}`, which is not created per request: a stateless handler "
        "needs a fresh server for every request (build it in a factory function)"
    )


def _stateless_construction(module: TsModule, transport: Transport) -> str:
    """`new X({...})` with `sessionIdGenerator: undefined`, the session-only options (and the
    comments that went with them) left out, everything else as written."""
    call, options, generator = transport.options.call, transport.options.options, transport.generator
    if generator is None:  # already stateless (ids minted by hand): as written
        return module.source(call)
    assert options is not None
    if generator.parent != options:
        raise Unsupported("`sessionIdGenerator` comes from a spread object shared with other code")
    items: list[tuple[str, list[str], str]] = []  # (text, leading comments, trailing comment)
    pending: list[str] = []
    last: Node | None = None
    last_kept = False
    for child in options.named_children:
        if child.type == "comment":
            if last is not None and _same_line(module, last, child):
                if last_kept:
                    text, leading, _ = items[-1]
                    items[-1] = (text, leading, module.source(child))
            else:
                pending.append(module.source(child))
            continue
        key = child.child_by_field_name("key") if child.type == "pair" else child.child_by_field_name("name")
        name = module.name(key if key is not None else child)
        last, last_kept = child, True
        if child == generator:
            items.append(("sessionIdGenerator: undefined", [], ""))
        elif name in SESSION_HOOKS + RESUMABILITY and child.type != "spread_element":
            last_kept = False
        else:
            items.append((module.source(child), pending, ""))
        pending = []
    if len(items) == 1 and not items[0][1] and not items[0][2]:
        text = f"{{ {items[0][0]} }}"
    elif "\n" not in module.source(options):
        text = "{ " + ", ".join(i[0] for i in items) + " }"
    else:
        indent = _indent(module, next(c for c in options.named_children if c.type != "comment"))
        closing = _indent_at(module, module.end(options) - 1)
        trailing = _trailing_comma(options)
        lines: list[str] = []
        for index, (item, leading, comment) in enumerate(items):
            lines.extend(f"{indent}{c}" for c in leading)
            comma = "," if index < len(items) - 1 or trailing else ""
            lines.append(f"{indent}{item}{comma}" + (f" {comment}" if comment else ""))
        text = "{\n" + "\n".join(lines) + f"\n{closing}}}"
    start, end = module.start(call), module.end(call)
    return module.text[start : module.start(options)] + text + module.text[module.end(options) : end]


def _same_line(module: TsModule, a: Node, b: Node) -> bool:
    return module.lines.position(module.end(a))[0] == module.lines.position(module.start(b))[0]


def _trailing_comma(obj: Node) -> bool:
    children = [c for c in obj.children if c.type != "comment"]
    return len(children) >= 2 and children[-2].type == ","


def _transport_declaration(plan: _Plan, handler: _Handler, block: Node) -> None:
    """`let transport: X;` before the routing `if`: the rewrite declares it with `const`, so the
    old declaration goes, and nothing outside the `if`'s block may use the name."""
    module, name = plan.module, handler.name
    node: Node | None = block
    while node is not None and node != handler.function:
        if node.type == "statement_block":
            for child in node.named_children:
                if child.start_byte >= handler.statement.start_byte or child.type != "lexical_declaration":
                    continue
                declarators = [d for d in child.named_children if d.type == "variable_declarator"]
                target = declarators[0].child_by_field_name("name") if len(declarators) == 1 else None
                if target is None or module.source(target) != name:
                    continue
                value = declarators[0].child_by_field_name("value")
                if value is not None and not (_pure(module, value) and _reads_session(module, value)):
                    raise Unsupported(f"`{name}` is initialised before the routing `if` with more than a lookup")
                plan.remove_statement(child)
                outside = [
                    i
                    for i in module.descendants(handler.function, "identifier")
                    if module.source(i) == name
                    and plan.survives(i)
                    and not block.start_byte <= i.start_byte < block.end_byte
                    and not child.start_byte <= i.start_byte < child.end_byte
                ]
                if outside:
                    line = module.span(outside[0]).line
                    raise Unsupported(f"`{name}` is also used outside the routing `if`'s block (line {line})")
                return
        node = node.parent


def _tidy(text: str, edits: list[Edit]) -> list[Edit]:
    """Merge adjacent line removals, and take a blank line after them when the line before is
    blank or opens a block: no double blank lines, no blank line after `{`."""
    current = sorted(edits)
    while True:
        merged: list[Edit] = []
        for edit in current:
            last = merged[-1] if merged else None
            if last is not None and not last.text and not edit.text and last.end == edit.start:
                merged[-1] = Edit(last.start, edit.end)
            else:
                merged.append(edit)
        tidied = [_take_blank_line(text, edit) for edit in merged]
        if tidied == current:
            return tidied
        current = tidied


def _take_blank_line(text: str, edit: Edit) -> Edit:
    whole_lines = not edit.text and edit.start < edit.end and (edit.start == 0 or text[edit.start - 1] == "\n")
    if not whole_lines or text[edit.end - 1] != "\n":
        return edit
    previous = text[: edit.start].rstrip("\n").rsplit("\n", 1)[-1]
    opens = edit.start == 0 or text[: edit.start].endswith("\n\n") or previous.rstrip().endswith("{")
    after = text.find("\n", edit.end)
    if opens and after >= 0 and not text[edit.end : after].strip():
        return Edit(edit.start, after + 1)
    return edit


def _method_guard(plan: _Plan, handler: _Handler) -> None:
    """A handler that also receives GET and DELETE (`app.all`, a bare `createServer` callback)
    answers them 405 before anything else: a stateless transport would otherwise open a
    standalone stream on GET and accept a DELETE."""
    module = plan.module
    body = handler.function.child_by_field_name("body")
    first = next((c for c in body.named_children), None) if body is not None else None
    if body is None or body.type != "statement_block" or first is None or handler.request is None:
        raise Unsupported("the handler also receives other methods and has no block body to answer them 405")
    indent = _indent(module, first)
    q = plan.q
    guard = (
        f"{indent}if ({handler.request}.method !== {q('POST')}) {{\n"
        f"{indent}{plan.unit}{plan.method_not_allowed(handler.response, indent + plan.unit)}\n"
        f"{indent}{plan.unit}return;\n"
        f"{indent}}}\n"
    )
    at = module.lines.line_start(module.start(first))
    plan.edits.append(Edit(at, at, guard))


# -- GET and DELETE ---------------------------------------------------------------------------
def _method_not_allowed_routes(plan: _Plan, handler: _Handler) -> None:
    """An Express app that registers no GET or DELETE on the MCP path gets one answering 405,
    right after the POST route: a stateless endpoint says so instead of 404."""
    module = plan.module
    if plan.framework == "node":
        return
    registered: dict[tuple[str, str | None], set[str]] = {}
    for route in route_registrations(module):
        registered.setdefault((_receiver(module, route.call), route.path), set()).add(route.method)
    for route in route_handlers(module).get(handler.function.id, []):
        receiver = _receiver(module, route.call)
        statement = route.call.parent
        if (
            route.method != "post"
            or route.path is None
            or statement is None
            or statement.type != "expression_statement"
        ):
            continue
        methods = registered.get((receiver, route.path), set())
        if not receiver or methods & {"all", "use"}:
            continue
        path = module.source(call_arguments(route.call)[0])
        indent = _indent(module, statement)
        params = {"fastify": "_request, reply", "koa": "ctx"}.get(plan.framework, "_req, res")
        response = {"fastify": "reply", "koa": "ctx"}.get(plan.framework, "res")
        text = "".join(
            f"\n{indent}{receiver}.{method}({path}, ({params}) => {{\n"
            f"{indent}{plan.unit}{plan.method_not_allowed(response, indent + plan.unit)}\n{indent}}});"
            for method in ("get", "delete")
            if method not in methods
        )
        if text:
            plan.edits.append(Edit(module.end(statement), module.end(statement), text))


def _receiver(module: TsModule, call: Node) -> str:
    """`app` of `app.post(...)`, `this.app` of `this.app.post(...)`; "" for anything else."""
    function = call.child_by_field_name("function")
    obj = function.child_by_field_name("object") if function is not None else None
    if obj is None or obj.type not in ("identifier", "member_expression") or _root(obj) is None:
        return ""
    return module.source(obj)


def _method_not_allowed_handler(plan: _Plan, routing: Routing) -> None:
    """A handler registered only for GET/DELETE that looks up a session: its body answers 405."""
    module = plan.module
    function = routing.function
    assert function is not None
    if not _registered_only(module, function, {"get", "delete"}):
        raise Unsupported(f"{routing.label} is not only a GET/DELETE route handler")
    response = _response_parameter(module, function)
    body = function.child_by_field_name("body")
    if response is None or body is None or body.type != "statement_block":
        raise Unsupported(f"{routing.label} has no plain response parameter and block body")
    plan.replace(module.start(body), module.end(body), _405_block(plan, body, response))
    _stale_comments(plan, function)


_SESSION_WORDS = re.compile(r"session|stateful|sticky", re.I)


def _stale_comments(plan: _Plan, function: Node) -> None:
    """Comment lines right above a handler that now answers 405 and that talk about sessions
    ("GET opens the stream of a session, DELETE ends it") describe code that is gone."""
    module = plan.module
    statement = function
    while statement.parent is not None and statement.parent.type not in ("program", "statement_block", "class_body"):
        statement = statement.parent
    comments: list[Node] = []
    node = statement.prev_sibling
    while node is not None and node.type == "comment":
        comments.append(node)
        node = node.prev_sibling
    if not comments or not all(_SESSION_WORDS.search(module.source(c)) for c in comments):
        return
    start = module.lines.line_start(module.start(comments[-1]))
    end = module.lines.line_start(module.start(statement))
    if (
        module.text[start:end].strip()
        and all(not module.text[module.lines.line_start(module.start(c)) : module.start(c)].strip() for c in comments)
        and "\n\n" not in module.text[start:end]
    ):
        plan.replace(start, end, "")


def _method_branches(plan: _Plan, handler: _Handler, routing: Routing) -> None:
    """node:http style: `if (req.method === "GET") { ...lookup... }` inside the one handler."""
    module = plan.module
    done: set[int] = set()
    for node in routing.lookups + routing.rejects:
        if not plan.survives(node):
            continue
        branch = _method_branch(module, node, handler.function)
        if branch is not None and branch.id not in done:
            done.add(branch.id)
            plan.replace(module.start(branch), module.end(branch), _405_block(plan, branch, handler.response))


def _method_branch(module: TsModule, node: Node, function: Node) -> Node | None:
    parent = node.parent
    while parent is not None and parent != function:
        if parent.type == "if_statement":
            methods = _method_condition(module, parent)
            consequence = parent.child_by_field_name("consequence")
            if (
                methods
                and methods <= {"GET", "DELETE"}
                and consequence is not None
                and consequence.type == "statement_block"
                and consequence.start_byte <= node.start_byte < consequence.end_byte
            ):
                return consequence
        parent = parent.parent
    return None


def _405_block(plan: _Plan, body: Node, response: str) -> str:
    indent = _indent(plan.module, body)
    first = next((c for c in body.named_children), None)
    inner = _indent(plan.module, first) if first is not None else indent + plan.unit
    if inner == indent:  # `{ stmt }` on one line
        inner = indent + plan.unit
    return f"{{\n{inner}{plan.method_not_allowed(response, inner)}\n{indent}}}"


# -- what the rewrite leaves behind -----------------------------------------------------------
def _dead_declarations(plan: _Plan, function: Node) -> None:
    """`const sessionId = req.headers[...]`, `const session = sessions.get(sessionId)`: reads
    that nothing surviving uses any more go too (each removal can free another)."""
    module = plan.module
    changed = True
    while changed:
        changed = False
        for declaration in module.descendants(function, "lexical_declaration", "variable_declaration"):
            if not plan.survives(declaration) or enclosing_function(declaration) != function:
                continue
            declarators = [d for d in declaration.named_children if d.type == "variable_declarator"]
            target = declarators[0].child_by_field_name("name") if len(declarators) == 1 else None
            value = declarators[0].child_by_field_name("value") if len(declarators) == 1 else None
            if target is None or target.type != "identifier" or value is None or not _pure(module, value):
                continue
            if not _reads_session(module, value):
                continue
            name = module.source(target)
            used = [
                n
                for n in module.descendants(function, "identifier", "shorthand_property_identifier")
                if module.source(n) == name and n != target and plan.survives(n)
            ]
            if not used:
                plan.remove_statement(declaration, comments=True)
                changed = True


def _dead_iterations(plan: _Plan) -> None:
    """Once nothing stores into a session map, code that walks it runs over nothing: a shutdown
    loop `for (const id of Object.keys(transports)) {...}`, `sessions.forEach(...)`,
    `sessions.clear()` go (with the comment lines above them), so the map can go too."""
    module = plan.module
    containers = _containers(module)
    if any(plan.survives(s) and _stores_into(module, s, containers) for s in module.walk("expression_statement")):
        return
    for statement in module.walk("for_in_statement", "expression_statement"):
        if not plan.survives(statement):
            continue
        if statement.type == "for_in_statement":
            right = statement.child_by_field_name("right")
            target = _walked(module, right)
        elif statement.named_children and (call := unwrap(statement.named_children[0])) is not None:
            function = call.child_by_field_name("function") if call.type == "call_expression" else None
            prop = (
                function.child_by_field_name("property")
                if function is not None and function.type == "member_expression"
                else None
            )
            walks = prop is not None and module.source(prop) in ("forEach", "clear")
            target = function.child_by_field_name("object") if walks and function is not None else None
        else:
            target = None
        if target is not None and _name_of(module, target) in containers:
            plan.remove_statement(statement, comments=True)


def _walked(module: TsModule, node: Node | None) -> Node | None:
    """The collection a `for` walks: `m`, `m.values()`, `Object.keys(m)`, `Array.from(m.keys())`."""
    node = unwrap(node)
    while node is not None and node.type == "call_expression":
        function = node.child_by_field_name("function")
        args = call_arguments(node)
        if (
            function is not None
            and module.source(function) in ("Object.keys", "Object.values", "Object.entries", "Array.from")
            and args
        ):
            node = unwrap(args[0])
        elif function is not None and function.type == "member_expression" and not args:
            prop = function.child_by_field_name("property")
            if prop is None or module.source(prop) not in ("keys", "values", "entries"):
                return None
            node = unwrap(function.child_by_field_name("object"))
        else:
            return None
    return node if node is not None and node.type in ("identifier", "member_expression") else None


def _reads_session(module: TsModule, value: Node) -> bool:
    """The value reads the session header or looks something up by it."""
    ids = {n.id for n in header_reads(module)} | {n.id for r in session_routing(module) for n in r.lookups}
    if value.id in ids:
        return True
    return any(
        n.id in ids for n in module.descendants(value, "subscript_expression", "call_expression", "binary_expression")
    )


def _check_covered(plan: _Plan, routings: list[Routing]) -> None:
    """Every session lookup and rejection must be in code the rewrite replaces."""
    module = plan.module
    for routing in routings:
        for node in routing.lookups + routing.rejects:
            if plan.survives(node):
                line = module.span(node).line
                what = module.source(node).splitlines()[0]
                raise Unsupported(f"`{what}` (line {line}, {routing.label}) is outside the code the rewrite replaces")


def _check_leftovers(plan: _Plan, function: Node) -> None:
    """Nothing left in the POST handler may branch on the session id or on `isInitializeRequest`:
    with no session ever minted such a check would turn every later request away. Logging the
    id is fine."""
    module = plan.module
    reads = {r.id for r in header_reads(module)}
    for node in module.descendants(function, "identifier", "subscript_expression", "call_expression"):
        if not plan.survives(node):
            continue
        if node.type == "call_expression" and _is_initialize_check(module, node):
            what = "checks for initialize requests"
        elif (node.id in reads and not _declared_value(node)) or (
            node.type == "identifier" and is_session_name(module, node) and not _declared_name(node)
        ):
            what = "still uses the session id"
        else:
            continue
        if not _only_logs(module, node):
            line = module.lines.line_text(module.span(node).line).strip()
            raise Unsupported(f"`{line}` (line {module.span(node).line}) {what} outside the code the rewrite replaces")


def _declared_name(identifier: Node) -> bool:
    parent = identifier.parent
    return (
        parent is not None and parent.type == "variable_declarator" and parent.child_by_field_name("name") == identifier
    )


def _declared_value(node: Node) -> bool:
    """`const sessionId = req.headers[...] as string`: the read is what the declaration holds."""
    parent = node.parent
    while parent is not None and parent.type in ("as_expression", "non_null_expression", "parenthesized_expression"):
        parent = parent.parent
    return parent is not None and parent.type == "variable_declarator"


def _only_logs(module: TsModule, node: Node) -> bool:
    """The use is written to a log, or decides only between log statements."""
    if logged(module, node):
        return True
    statement = node.parent
    while statement is not None and statement.type != "if_statement" and not statement.type.endswith("statement"):
        statement = statement.parent
    if statement is None or statement.type != "if_statement":
        return False
    condition = statement.child_by_field_name("condition")
    if condition is None or not condition.start_byte <= node.start_byte < condition.end_byte:
        return False
    for branch in _branches(statement):
        for child in branch.named_children if branch.type == "statement_block" else [branch]:
            if child.type == "comment":
                continue
            call = (
                unwrap(child.named_children[0])
                if child.type == "expression_statement" and child.named_children
                else None
            )
            if call is None or call.type != "call_expression" or not _is_log_call(module, call):
                return False
    return True


def _is_log_call(module: TsModule, call: Node) -> bool:
    args = call.child_by_field_name("arguments")
    return args is not None and logged(module, args)


def _indent(module: TsModule, node: Node) -> str:
    """The indentation of the line a node starts on."""
    return _indent_at(module, module.start(node))


def _indent_at(module: TsModule, offset: int) -> str:
    line_start = module.lines.line_start(offset)
    text = module.text[line_start:offset]
    return text[: len(text) - len(text.lstrip())]


def _reindent(text: str, old: str, new: str) -> str:
    """Move a statement's continuation lines from indentation `old` to `new`."""
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        out.append(new + line[len(old) :] if line.startswith(old) else line)
    return "\n".join(out)


def _indent_unit(module: TsModule) -> str:
    """The file's indentation step, as editors guess it: the most common increase in
    indentation from one line to the next (a tab when lines are tab-indented). The smallest
    indentation alone misleads: a four-space file with a two-space continuation somewhere."""
    steps: dict[int, int] = {}
    previous = 0
    for line in module.text.splitlines():
        stripped = line.lstrip(" \t")
        if not stripped or stripped[0] in "*/":
            continue
        if line[0] == "\t":
            return "\t"
        width = len(line) - len(stripped)
        if width > previous:
            steps[width - previous] = steps.get(width - previous, 0) + 1
        previous = width
    if not steps:
        return "    "
    return " " * max(steps, key=lambda step: (steps[step], -step))


def _quote(module: TsModule) -> str:
    """The quote the file's imports use, for the strings the rewrite writes."""
    for statement in module.walk("import_statement"):
        source = statement.child_by_field_name("source")
        if source is not None:
            return module.source(source)[0]
    strings = module.walk("string")
    return module.source(strings[0])[0] if strings else "'"


def _trailing_commas(module: TsModule) -> str:
    """Prettier's `trailingComma: "all"` look: a comma before a closing bracket on its own line."""
    return "," if re.search(r",[ \t]*\r?\n[ \t]*[}\])]", module.text) else ""


def _framework(module: TsModule) -> str:
    """Express responses have `status().set().json()`, Fastify replies `code().header().send()`,
    Koa contexts `status`/`set()`/`body`; anything else gets `writeHead().end()`, which Node's
    and Express's responses both have."""
    specifiers = {spec for spec, _ in module.imports.values()}
    if "fastify" in specifiers:
        return "fastify"
    if specifiers & {"koa", "@koa/router", "koa-router"}:
        return "koa"
    return "express" if "express" in specifiers else "node"

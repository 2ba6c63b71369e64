"""The MCP105 rewrite for fetch-style handlers: one function takes a web-standard `Request` (or a
Hono context) and returns the `Response` that `WebStandardStreamableHTTPServerTransport`'s
`handleRequest` makes: Hono routes, Cloudflare Workers' `fetch`, a `handleRequest(req: Request)`
helper.

The routing statements before the transport's creation (the session-id read, the `if` that
serves a stored transport, the `if` that turns away what is not an initialize request) go; the
transport is created stateless with a server made for the request, and its `handleRequest`
answers. A handler that also receives other methods answers them 405 first, with a `Response`
(which every fetch-style framework returns as it is).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...lang.typescript import Node, TsModule, enclosing_function, unwrap
from ...model import Edit
from .._typescript import Routing, Transport, carries_session, session_routing
from ._rewrite import (
    Unsupported,
    _calls_method,
    _connect_call,
    _containers,
    _indent,
    _is_initialize_check,
    _mentions,
    _Plan,
    _pure,
    _reads_session,
    _registered_only,
    _reindent,
    _session_cleanup_hook,
    _stateless_construction,
    _stores_into,
    server_of,
)


@dataclass
class FetchHandler:
    function: Node
    body: Node  # the function's statement block
    construction: Node  # `const transport = new WebStandard...({...})`
    answer: Node  # `return transport.handleRequest(...)`
    name: str
    request: str  # an expression for the request (`c.req.raw`, `request`)
    post_only: bool


def fetch_handler(module: TsModule, transport: Transport) -> FetchHandler | None:
    """The handler, when the transport is made in a fetch-style function's body and answers
    with `return transport.handleRequest(request, ...)`; None for other shapes."""
    call = transport.options.call
    function = enclosing_function(call)
    body = function.child_by_field_name("body") if function is not None else None
    if function is None or body is None or body.type != "statement_block":
        return None
    statement = call.parent
    while statement is not None and statement.parent != body:
        statement = statement.parent
    if statement is None or statement.type != "lexical_declaration":
        return None
    declarators = [d for d in statement.named_children if d.type == "variable_declarator"]
    target = declarators[0].child_by_field_name("name") if len(declarators) == 1 else None
    value = unwrap(declarators[0].child_by_field_name("value")) if len(declarators) == 1 else None
    if target is None or target.type != "identifier" or value is None or value.id != call.id:
        return None
    name = module.source(target)
    answer = None
    for child in body.named_children:
        if child.start_byte > statement.start_byte and child.type == "return_statement":
            if _calls_method(module, child, name, "handleRequest"):
                answer = child
            break
    if answer is None:
        return None
    request = _request_of(module, answer, name)
    if request is None:
        return None
    post_only = _registered_only(module, function, {"post"})
    return FetchHandler(function, body, statement, answer, name, request, post_only)


def _request_of(module: TsModule, answer: Node, name: str) -> str | None:
    """`c.req.raw` of `return transport.handleRequest(c.req.raw, {...})`."""
    for call in module.descendants(answer, "call_expression"):
        function = call.child_by_field_name("function")
        args = call.child_by_field_name("arguments")
        if function is None or args is None or not args.named_children:
            continue
        if module.source(function) == f"{name}.handleRequest":
            first = args.named_children[0]
            return module.source(first) if first.type in ("identifier", "member_expression") else None
    return None


def rewrite_fetch(plan: _Plan, handler: FetchHandler, transport: Transport) -> None:
    module = plan.module
    containers = _containers(module)
    before = [c for c in handler.body.named_children if c.start_byte < handler.construction.start_byte]
    between = [
        c
        for c in handler.body.named_children
        if handler.construction.start_byte < c.start_byte < handler.answer.start_byte
    ]
    removed: set[str] = set()  # variables of removed reads (`existing` of `const existing = map.get(sid)`)
    for child in before:
        if child.type == "comment":
            continue
        if _routing_statement(module, child, handler, containers | removed):
            removed |= _declared_names(module, child)
            plan.remove_statement(child, comments=True)
        elif _mentions(module, child, containers | {handler.name}) or carries_session(module, child):
            raise Unsupported(f"the fetch handler also does `{module.source(child).splitlines()[0]}` with sessions")
    server: str | None = None
    server_init: str | None = None
    kept: list[Node] = []
    for child in between:
        if child.type == "comment":
            continue
        connect = _connect_call(module, child, handler.name)
        if connect is not None:
            server, server_init = server_of(module, handler.function, connect)
            continue
        if _drops(module, child, handler.name, containers):
            continue
        raise Unsupported(
            f"after creating the transport the fetch handler also does `{module.source(child).splitlines()[0]}`"
        )
    if server is None:
        raise Unsupported("the fetch handler does not connect a server to the transport")
    indent = _indent(module, handler.construction)
    lines = [module.source(k) for k in kept]
    if server_init is not None:
        lines.append(f"const {server} = {server_init};")
    construction = _stateless_construction(module, transport)
    lines.append(f"const {handler.name} = {_reindent(construction, indent, indent)};")
    lines.append(f"await {server}.connect({handler.name});")
    plan.replace(
        module.start(handler.construction), module.start(handler.answer), f"\n{indent}".join(lines) + f"\n{indent}"
    )
    if not handler.post_only:
        _fetch_method_guard(plan, handler)


def _routing_statement(module: TsModule, statement: Node, handler: FetchHandler, containers: set[str]) -> bool:
    """A read of the session id, or an `if` on it (or on `isInitializeRequest`) that answers."""
    lookups = {n.id for r in session_routing(module) for n in r.lookups}
    if statement.type == "lexical_declaration":
        declarators = [d for d in statement.named_children if d.type == "variable_declarator"]
        value = declarators[0].child_by_field_name("value") if len(declarators) == 1 else None
        return value is not None and _pure(module, value) and _reads_session(module, value)
    if statement.type != "if_statement" or statement.child_by_field_name("alternative") is not None:
        return False
    condition = statement.child_by_field_name("condition")
    consequence = statement.child_by_field_name("consequence")
    if condition is None or consequence is None:
        return False
    routes = (
        carries_session(module, condition)
        or _mentions(module, condition, containers)
        or any(_is_initialize_check(module, c) for c in module.descendants(condition, "call_expression"))
        or any(n.id in lookups for n in module.descendants(condition, "call_expression", "subscript_expression"))
    )
    if not routes:
        return False
    body = [c for c in (consequence.named_children if consequence.type == "statement_block" else [consequence])]
    body = [c for c in body if c.type != "comment"]
    return len(body) == 1 and body[0].type == "return_statement" and not _mentions(module, body[0], {handler.name})


def _declared_names(module: TsModule, statement: Node) -> set[str]:
    if statement.type != "lexical_declaration":
        return set()
    return {
        module.source(target)
        for d in statement.named_children
        if d.type == "variable_declarator" and (target := d.child_by_field_name("name")) is not None
    }


def _drops(module: TsModule, statement: Node, name: str, containers: set[str]) -> bool:
    """`transports.set(id, transport)`, `transport.onclose = () => {forget}`: session bookkeeping."""
    return _stores_into(module, statement, containers) or _session_cleanup_hook(module, statement, name, containers)


def _fetch_method_guard(plan: _Plan, handler: FetchHandler) -> None:
    module = plan.module
    first = next(c for c in handler.body.named_children)
    indent = _indent(module, first)
    guard = (
        f"{indent}if ({handler.request}.method !== {plan.q('POST')}) {{\n"
        f"{indent}{plan.unit}return {fetch_405(plan, indent + plan.unit)};\n"
        f"{indent}}}\n"
    )
    at = module.lines.line_start(module.start(first))
    plan.edits.append(Edit(at, at, guard))


def fetch_405(plan: _Plan, indent: str) -> str:
    """A web-standard 405 with a JSON-RPC error body, as the SDK's stateless examples answer."""
    q, inner = plan.q, indent + plan.unit
    deeper = inner + plan.unit
    return (
        f"new Response(\n"
        f"{inner}JSON.stringify({{\n"
        f"{deeper}jsonrpc: {q('2.0')},\n"
        f"{deeper}error: {{ code: -32000, message: {q('Method not allowed.')} }},\n"
        f"{deeper}id: null{plan.trailing}\n"
        f"{inner}}}),\n"
        f"{inner}{{ status: 405, headers: {{ {q('Content-Type')}: {q('application/json')}, Allow: {q('POST')} }} }}"
        f"{plan.trailing}\n"
        f"{indent})"
    )


def fetch_405_handler(plan: _Plan, routing: Routing) -> None:
    """A fetch-style handler registered only for GET/DELETE that looks a session up: its body
    answers 405."""
    module = plan.module
    function = routing.function
    assert function is not None
    if not _registered_only(module, function, {"get", "delete"}):
        raise Unsupported(f"{routing.label} is not only a GET/DELETE route handler")
    body = function.child_by_field_name("body")
    if body is None or body.type != "statement_block":
        raise Unsupported(f"{routing.label} has no block body")
    indent = _indent(module, body)
    first = next((c for c in body.named_children), None)
    inner = _indent(module, first) if first is not None else indent + plan.unit
    if inner == indent:
        inner = indent + plan.unit
    plan.replace(module.start(body), module.end(body), f"{{\n{inner}return {fetch_405(plan, inner)};\n{indent}}}")

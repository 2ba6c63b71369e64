"""The unsafe MCP105 fix: rewrite the canonical session-routing server to one server and one
stateless transport per request, with GET and DELETE answered 405.

Only a shape recognised with certainty is rewritten; anything else raises `Unsupported`
with the reason, and the finding is reported with the remedy instead. Never half a rewrite:
every routing site in the file must be covered, or nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...edits import apply_edits
from ...errors import ParseError
from ...lang.typescript import Node, TsModule, enclosing_function, remove_list_item, string_value, unwrap
from ...model import Edit
from .._typescript import Routing, Transport, header_reads, session_routing, transports, turn_sessions_off

_405_BODY = "{ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }"


class Unsupported(Exception):
    """The file's shape is not one the rewrite recognises with certainty."""


@dataclass
class _Handler:
    """The POST handler: the routing `if` that creates the transport, and what it uses."""

    function: Node
    statement: Node  # the outermost `if` of the routing chain
    branch: Node  # the block that creates the transport
    transport: Transport
    transport_name: str
    response: str  # the handler's response parameter


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
    stateful = [t for t in transports(module) if t.stateful]
    if len(stateful) != 1:
        raise Unsupported(f"{len(stateful)} session-minting transports in the file, the rewrite handles exactly one")
    handler = _post_handler(module, stateful[0])
    edits = _post_edits(module, handler)
    covered: set[int] = {handler.function.id}
    for routing in routings:
        if routing.function is None:
            raise Unsupported("a session lookup outside any function")
        if routing.function.id == handler.function.id:
            edits.extend(_method_branches(module, handler, routing))
        elif routing.function.id not in covered:
            edits.extend(_method_not_allowed_handler(module, routing))
            covered.add(routing.function.id)
    edits = sorted(edits)
    try:
        fixed = apply_edits(module.text, edits)
        after = TsModule(fixed, module.newline, module.path, module.dialect)
    except ParseError as exc:
        raise Unsupported(f"the rewritten file would not parse ({exc})") from None
    edits.extend(_unused_imports(module, after))
    return tuple(sorted(edits))


# -- the POST handler -------------------------------------------------------------------------
def _post_handler(module: TsModule, transport: Transport) -> _Handler:
    if transport.options.kind == "createMcpHandler" or not transport.options.inline:
        raise Unsupported("the transport's options are not written where it is created")
    construction = transport.options.call.parent
    while construction is not None and construction.type in ("parenthesized_expression", "await_expression"):
        construction = construction.parent
    name = None
    if construction is not None and construction.type == "assignment_expression":
        left = construction.child_by_field_name("left")
        name = module.source(left) if left is not None and left.type == "identifier" else None
        construction = construction.parent
    elif construction is not None and construction.type == "variable_declarator":
        target = construction.child_by_field_name("name")
        name = module.source(target) if target is not None and target.type == "identifier" else None
        construction = construction.parent
    if name is None or construction is None:
        raise Unsupported("the transport is not assigned to a variable where it is created")
    branch = construction.parent
    if branch is None or branch.type != "statement_block":
        raise Unsupported("the transport is not created in a branch of the handler")
    statement = branch.parent
    if statement is None or statement.type != "if_statement":
        raise Unsupported("the transport is not created in a branch of an `if` on the session id")
    while statement.parent is not None and statement.parent.type == "else_clause":
        outer = statement.parent.parent
        assert outer is not None
        statement = outer
    block = statement.parent
    function = enclosing_function(statement)
    if function is None or block is None or block.type != "statement_block":
        raise Unsupported("the routing `if` is not a statement of the request handler")
    node = block
    while node != function:
        if node.type not in ("statement_block", "try_statement"):
            raise Unsupported("the routing `if` is nested in other control flow")
        assert node.parent is not None
        node = node.parent
    response = _parameter(module, function, 1)
    if response is None:
        raise Unsupported("the handler has no plain response parameter")
    return _Handler(function, statement, branch, transport, name, response)


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


def _post_edits(module: TsModule, handler: _Handler) -> list[Edit]:
    name = handler.transport_name
    containers = _containers(module)
    statement, branch = handler.statement, handler.branch
    block = statement.parent
    assert block is not None
    later = [s for s in block.named_children if s.start_byte > statement.end_byte]
    handled_later = any(_calls_method(module, s, name, "handleRequest") for s in later)

    kept: list[str] = []
    server: str | None = None
    server_init: str | None = None
    handle: str | None = None
    construction = handler.transport.options.call
    for child in branch.named_children:
        if child.type == "comment":
            continue
        text = module.source(child)
        if child.start_byte <= construction.start_byte < child.end_byte:
            continue
        if child.type == "return_statement" and not child.named_children:
            continue
        if _assigns_property(module, child, name, ("onclose",)):
            continue
        if _stores_into(module, child, containers):
            continue
        connect = _connect_call(module, child, name)
        if connect is not None:
            server, server_init = _server_of(module, handler, connect)
            continue
        if _calls_method(module, child, name, "handleRequest"):
            handle = None if handled_later else text
            continue
        if _mentions(module, child, {name} | containers):
            raise Unsupported(f"the branch that creates the transport also does `{text.splitlines()[0]}`")
        kept.append(text)
    if server is None:
        raise Unsupported("the branch that creates the transport does not connect a server to it")
    for other in _branches(statement):
        if other == branch:
            continue
        _check_other_branch(module, other, name, containers)
    if not handled_later and handle is None:
        raise Unsupported("no `handleRequest` call serves the request")

    indent = _indent(module, statement)
    inner = _indent(module, branch.named_children[0]) if branch.named_children else indent + "    "
    options = _stateless_construction(module, handler.transport)
    lines = [_reindent(text, inner, indent) for text in kept]
    if server_init is not None:
        lines.append(f"const {server} = {server_init};")
    lines.append(f"const {name} = {_reindent(options, inner, indent)};")
    step = inner[len(indent) :] or "    "
    res = handler.response
    lines.append(
        f"{res}.on('close', () => {{\n{indent}{step}void {name}.close();\n{indent}{step}void {server}.close();\n"
        f"{indent}}});"
    )
    lines.append(f"await {server}.connect({name});")
    if handle is not None:
        lines.append(_reindent(handle, inner, indent))
    replacement = f"\n{indent}".join(lines)
    edits = [Edit(module.start(statement), module.end(statement), replacement)]
    edits.extend(_declaration_removal(module, block, statement, name))
    edits.extend(_session_id_removal(module, handler, block))
    return edits


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


def _check_other_branch(module: TsModule, branch: Node, name: str, containers: set[str]) -> None:
    """Branches that reuse a stored transport or reject the request: dropped by the rewrite,
    so they may hold nothing else."""
    statements = branch.named_children if branch.type == "statement_block" else [branch]
    for child in statements:
        if child.type in ("comment", "return_statement"):
            continue
        text = module.source(child)
        if child.type == "expression_statement":
            expr = unwrap(child.named_children[0]) if child.named_children else None
            if expr is not None and expr.type == "assignment_expression":
                left = expr.child_by_field_name("left")
                if left is not None and module.source(left) == name:
                    continue
            if _calls_method(module, child, name, "handleRequest"):
                continue
            head = text.split(".", 1)[0].split("(", 1)[0].strip()
            if head.startswith("await "):
                head = head[6:].strip()
            if head in ("res", "response", "reply", "console") or _is_response_call(module, child):
                continue
        raise Unsupported(f"a branch of the session `if` also does `{text.splitlines()[0]}`")


def _is_response_call(module: TsModule, statement: Node) -> bool:
    text = module.source(statement)
    return any(marker in text for marker in (".status(", ".writeHead(", ".json(", ".end(", ".send("))


def _containers(module: TsModule) -> set[str]:
    """Names of the objects session lookups read from (`transports`, `this.sessions` -> sessions)."""
    names = set()
    for routing in session_routing(module):
        for lookup in routing.lookups:
            target = lookup.child_by_field_name("object")
            if target is None and lookup.type == "call_expression":
                function = lookup.child_by_field_name("function")
                target = function.child_by_field_name("object") if function is not None else None
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
            if obj is not None and prop is not None and module.source(obj) == receiver and module.source(prop) == method:
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
    """`transports[id] = transport` or `sessions.set(id, transport)`."""
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
                obj is not None and prop is not None and module.source(prop) == "set" and _name_of(module, obj) in containers
            )
    return False


def _name_of(module: TsModule, node: Node) -> str:
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return module.source(prop) if prop is not None else ""
    return module.source(node)


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


def _server_of(module: TsModule, handler: _Handler, target: Node) -> tuple[str, str | None]:
    """(name, initialiser to declare) of the server connected to the transport; only a server
    made for this request will do (a shared instance cannot serve concurrent requests)."""
    target = unwrap(target) or target
    if target.type in ("call_expression", "new_expression", "await_expression"):
        return ("server", module.source(target))
    if target.type == "identifier":
        name = module.source(target)
        body = handler.function.child_by_field_name("body")
        if body is not None:
            for declarator in module.descendants(body, "variable_declarator"):
                declared = declarator.child_by_field_name("name")
                value = unwrap(declarator.child_by_field_name("value"))
                if declared is not None and module.source(declared) == name and value is not None:
                    if value.type in ("call_expression", "new_expression", "await_expression"):
                        return (name, None)
    raise Unsupported(
        f"the handler connects `{module.source(target)}`, which is not created per request: a stateless handler "
        "needs a fresh server for every request (build it in a factory function)"
    )


def _stateless_construction(module: TsModule, transport: Transport) -> str:
    """The original `new X({...})` text with sessions turned off and session-only options gone."""
    call = transport.options.call
    base = module.start(call)
    local = [Edit(e.start - base, e.end - base, e.text) for e in turn_sessions_off(module, transport)]
    return apply_edits(module.source(call), local)


def _declaration_removal(module: TsModule, block: Node, statement: Node, name: str) -> list[Edit]:
    """`let transport: X;` before the routing `if`: the rewrite declares it with `const`."""
    for child in block.named_children:
        if child.start_byte >= statement.start_byte:
            break
        if child.type != "lexical_declaration":
            continue
        declarators = [d for d in child.named_children if d.type == "variable_declarator"]
        if len(declarators) == 1:
            target = declarators[0].child_by_field_name("name")
            if target is not None and module.source(target) == name:
                if declarators[0].child_by_field_name("value") is not None:
                    raise Unsupported(f"`{name}` is initialised before the routing `if`")
                return [_statement_removal(module, child)]
    return []


def _session_id_removal(module: TsModule, handler: _Handler, block: Node) -> list[Edit]:
    """The handler's `const sessionId = req.headers[...]`, when nothing outside the rewritten
    `if` still reads it."""
    reads = {r.id for r in header_reads(module)}
    body = handler.function.child_by_field_name("body")
    edits = []
    if body is None:
        return edits
    for child in body.named_children + (block.named_children if block != body else []):
        if child.type != "lexical_declaration" or child.start_byte >= handler.statement.start_byte:
            continue
        declarators = [d for d in child.named_children if d.type == "variable_declarator"]
        if len(declarators) != 1:
            continue
        target = declarators[0].child_by_field_name("name")
        value = declarators[0].child_by_field_name("value")
        if target is None or value is None or target.type != "identifier":
            continue
        if not any(n.id in reads for n in module.descendants(value, "subscript_expression", "call_expression")):
            continue
        name = module.source(target)
        used = [
            n
            for n in module.descendants(handler.function, "identifier", "shorthand_property_identifier")
            if module.source(n) == name
            and n != target
            and not (handler.statement.start_byte <= n.start_byte < handler.statement.end_byte)
        ]
        if not used:
            edits.append(_statement_removal(module, child))
    return edits


def _statement_removal(module: TsModule, statement: Node) -> Edit:
    """Remove a statement on its own line(s) with its line break."""
    start, end = module.start(statement), module.end(statement)
    line_start = module.lines.line_start(start)
    newline = module.text.find("\n", end)
    line_end = len(module.text) if newline < 0 else newline + 1
    if not module.text[line_start:start].strip() and not module.text[end:line_end].strip():
        return Edit(line_start, line_end)
    return Edit(start, end)


# -- GET and DELETE ---------------------------------------------------------------------------
def _method_not_allowed_handler(module: TsModule, routing: Routing) -> list[Edit]:
    """A handler registered only for GET/DELETE that looks up a session: its body answers 405."""
    function = routing.function
    assert function is not None
    if not routing.methods or not routing.methods <= {"GET", "DELETE"}:
        raise Unsupported(f"{routing.label} is not a GET/DELETE route handler")
    _only_registered(module, function)
    response = _parameter(module, function, 1)
    body = function.child_by_field_name("body")
    if response is None or body is None or body.type != "statement_block":
        raise Unsupported(f"{routing.label} has no plain response parameter and block body")
    return [Edit(module.start(body), module.end(body), _405_block(module, function, body, response))]


def _only_registered(module: TsModule, function: Node) -> None:
    """A named handler used for anything but route registrations is left alone."""
    parent = function.parent
    if parent is None or parent.type != "variable_declarator" and function.type != "function_declaration":
        return  # an inline route handler
    name_node = function.child_by_field_name("name") if function.type == "function_declaration" else None
    if name_node is None and parent is not None:
        name_node = parent.child_by_field_name("name")
    if name_node is None:
        return
    name = module.source(name_node)
    for ident in module.walk("identifier"):
        if ident == name_node or module.source(ident) != name:
            continue
        args = ident.parent
        call = args.parent if args is not None and args.type == "arguments" else None
        function_node = call.child_by_field_name("function") if call is not None else None
        prop = function_node.child_by_field_name("property") if function_node is not None else None
        if prop is None or module.source(prop).lower() not in ("get", "delete"):
            raise Unsupported(f"`{name}` is used for more than GET/DELETE routes (line {module.span(ident).line})")


def _method_branches(module: TsModule, handler: _Handler, routing: Routing) -> list[Edit]:
    """node:http style: `if (req.method === "GET") { ...lookup... }` inside the one handler."""
    edits = []
    leftover = [
        lookup
        for lookup in routing.lookups
        if not (handler.statement.start_byte <= lookup.start_byte < handler.statement.end_byte)
    ]
    done: set[int] = set()
    for lookup in leftover:
        branch = _method_branch(module, lookup, handler.function)
        if branch is None:
            raise Unsupported(f"a session lookup at line {module.span(lookup).line} is outside the routing `if`")
        if branch.id not in done:
            done.add(branch.id)
            edits.append(Edit(module.start(branch), module.end(branch), _405_block(module, handler.function, branch, handler.response)))
    return edits


def _method_branch(module: TsModule, node: Node, function: Node) -> Node | None:
    parent = node.parent
    while parent is not None and parent != function:
        if parent.type == "if_statement":
            condition = parent.child_by_field_name("condition")
            consequence = parent.child_by_field_name("consequence")
            methods = {string_value(module, s) for s in module.descendants(condition, "string")} if condition else set()
            if (
                condition is not None
                and ".method" in module.source(condition)
                and methods
                and methods <= {"GET", "DELETE"}
                and consequence is not None
                and consequence.type == "statement_block"
                and consequence.start_byte <= node.start_byte < consequence.end_byte
            ):
                return consequence
        parent = parent.parent
    return None


def _405_block(module: TsModule, function: Node, body: Node, response: str) -> str:
    indent = _indent(module, body)
    inner = _indent(module, body.named_children[0]) if body.named_children else indent + "    "
    express = ".status(" in module.source(function)
    if express:
        call = f"{response}.status(405).set('Allow', 'POST').json({_405_BODY});"
    else:
        call = (
            f"{response}.writeHead(405, {{ 'Content-Type': 'application/json', Allow: 'POST' }})"
            f".end(JSON.stringify({_405_BODY}));"
        )
    return f"{{\n{inner}{call}\n{indent}}}"


# -- text helpers -----------------------------------------------------------------------------
def _indent(module: TsModule, node: Node) -> str:
    """The indentation of the line a node starts on."""
    line_start = module.lines.line_start(module.start(node))
    text = module.text[line_start : module.start(node)]
    return text[: len(text) - len(text.lstrip())]


def _reindent(text: str, old: str, new: str) -> str:
    """Move a statement's continuation lines from indentation `old` to `new`."""
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        out.append(new + line[len(old) :] if line.startswith(old) else line)
    return "\n".join(out)


def _unused_imports(before: TsModule, after: TsModule) -> list[Edit]:
    """Named imports the rewrite left without a use: removed, so linters stay quiet."""
    edits: list[Edit] = []
    used_before = _identifier_counts(before)
    used_after = _identifier_counts(after)
    for statement in before.walk("import_statement"):
        specs = [s for s in before.descendants(statement, "import_specifier")]
        clause_names = [s for s in statement.named_children if s.type == "import_clause"]
        if not specs or not clause_names:
            continue
        unused = []
        for spec in specs:
            alias = spec.child_by_field_name("alias") or spec.child_by_field_name("name")
            if alias is None:
                continue
            name = before.source(alias)
            if used_before.get(name, 0) > 0 and used_after.get(name, 0) == 0:
                unused.append(spec)
        if not unused:
            continue
        default = [c for c in clause_names[0].named_children if c.type in ("identifier", "namespace_import")]
        if len(unused) == len(specs) and not default:
            edits.append(_statement_removal(before, statement))
        elif len(unused) < len(specs):
            for spec in unused:
                edits.extend(remove_list_item(before, spec))
    return edits


def _identifier_counts(module: TsModule) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in ("identifier", "type_identifier", "shorthand_property_identifier"):
        for node in module.walk(kind):
            parent = node.parent
            if parent is not None and parent.type in ("import_specifier", "namespace_import", "import_clause"):
                continue
            counts[module.source(node)] = counts.get(module.source(node), 0) + 1
    return counts

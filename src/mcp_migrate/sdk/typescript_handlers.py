"""Where a TypeScript/JavaScript module handles MCP requests, and which names hold the request's
context (`extra` in SDK v1, `ctx` in v2) or values taken from it.

Handlers: the callbacks of `server.tool()` / `registerTool()` / `resource()` /
`registerResource()` / `prompt()` / `registerPrompt()` on an SDK `McpServer`, and of
`setRequestHandler(<SDK request schema>, ...)` on a low-level `Server`; plus the same-file
helpers they call (a few levels deep, plain functions and `this.` methods), with the parameters
that receive the context. HTTP route handlers are not request handlers here: they are MCP105's
business.

The context is found by the SDK's calling convention, not by its name: `(args, extra)` for a
tool or prompt with a schema, `(extra)` without one, `(uri, extra)` / `(uri, variables, extra)`
for resources, `(request, extra)` for `setRequestHandler`; a parameter named or typed as the
context wins. Destructuring (`{ sessionId }`, `const { sendRequest } = extra`) and aliases
(`const sid = extra.sessionId`) are followed, so rules ask `context_path()` what a name holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..lang.typescript import (
    Node,
    TsModule,
    call_arguments,
    enclosing_function,
    object_properties,
    string_value,
    unwrap,
)
from .typescript import SERVER_CLASSES, from_sdk

REGISTRATIONS = {
    "tool": "tool",
    "registerTool": "tool",
    "resource": "resource",
    "registerResource": "resource",
    "prompt": "prompt",
    "registerPrompt": "prompt",
}
# Low-level request schemas and the methods they handle. SetLevel and Ping are left out: their
# handlers are MCP205's finding as a whole.
REQUEST_SCHEMAS = {
    "CallToolRequestSchema": "tools/call",
    "ListToolsRequestSchema": "tools/list",
    "ReadResourceRequestSchema": "resources/read",
    "ListResourcesRequestSchema": "resources/list",
    "ListResourceTemplatesRequestSchema": "resources/templates/list",
    "SubscribeRequestSchema": "resources/subscribe",
    "UnsubscribeRequestSchema": "resources/unsubscribe",
    "GetPromptRequestSchema": "prompts/get",
    "ListPromptsRequestSchema": "prompts/list",
    "CompleteRequestSchema": "completion/complete",
    "GetTaskRequestSchema": "tasks/get",
    "GetTaskPayloadRequestSchema": "tasks/result",
    "ListTasksRequestSchema": "tasks/list",
    "CancelTaskRequestSchema": "tasks/cancel",
}
_CONTEXT_NAMES = frozenset({"extra", "ctx", "context"})
_CONTEXT_TYPES = ("RequestHandlerExtra", "ServerContext", "Context")
# `server.tool(name, annotations, cb)`: an object of only these keys is annotations, not a schema.
_ANNOTATION_KEYS = frozenset({"title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"})
_FUNCTIONS = ("arrow_function", "function_expression", "function_declaration", "method_definition")
_HELPER_DEPTH = 3

Path = tuple[str, ...]


@dataclass
class TsScope:
    function: Node
    kind: str  # tool, resource, prompt, request (a low-level handler) or helper
    label: str  # "tool `remember`", "`saveFact` (called by tool `remember`)"
    via: str  # the handler whose request this runs in: "tool `remember`"
    # local name -> what it holds: () the context itself, ("sessionId",) `extra.sessionId`, ...
    context: dict[str, Path] = field(default_factory=dict)
    # destructuring patterns that take a field of the context: (pattern node, path taken)
    patterns: list[tuple[Node, Path]] = field(default_factory=list)


def request_scopes(module: TsModule) -> list[TsScope]:
    return module.memo(_request_scopes, "ts.request_scopes")


def scope_of(module: TsModule, node: Node) -> TsScope | None:
    """The request scope whose function (the innermost enclosing one) holds `node`; callbacks
    inside a handler (`items.map(x => ...)`) run in its request too."""
    by_id = module.memo(lambda m: {s.function.id: s for s in request_scopes(m)}, "ts.scope_index")
    function = enclosing_function(node)
    while function is not None:
        found = by_id.get(function.id)
        if found is not None:
            return found
        if function.parent is not None and function.parent.type == "arguments":
            function = enclosing_function(function)
            continue
        return None
    return None


def registration(module: TsModule, call: Node) -> tuple[str, str | None] | None:
    """(kind, name) when `call` registers a handler on an SDK server: `server.registerTool("x",
    ...)` -> ("tool", "x"), `setRequestHandler(CallToolRequestSchema, ...)` -> ("request",
    "tools/call")."""
    function = call.child_by_field_name("function")
    if function is None or function.type != "member_expression":
        return None
    prop = function.child_by_field_name("property")
    method = module.source(prop) if prop is not None else ""
    args = call_arguments(call)
    if method in REGISTRATIONS and len(args) >= 2 and _registers_on_server(module, function, method, args[-1]):
        return REGISTRATIONS[method], string_value(module, args[0])
    if method == "setRequestHandler" and len(args) == 2:
        schema = module.imported(args[0])
        if from_sdk(schema, frozenset(REQUEST_SCHEMAS)):
            assert schema is not None
            return "request", REQUEST_SCHEMAS[schema[1]]
    return None


def _request_scopes(module: TsModule) -> list[TsScope]:
    scopes: dict[int, TsScope] = {}
    for call in module.walk("call_expression"):
        found = registration(module, call)
        if found is None:
            continue
        kind, name = found
        callback = _function_of(module, call_arguments(call)[-1])
        if callback is None or callback.id in scopes:
            continue
        label = f"the `{name}` handler" if kind == "request" else f"{kind} `{name}`" if name else kind
        scope = TsScope(callback, kind, label, label)
        param = _handler_context(module, call, kind, callback)
        if param is not None:
            _bind(module, scope, param, ())
        scopes[callback.id] = scope
    frontier = list(scopes.values())
    for _ in range(_HELPER_DEPTH):
        found_helpers = []
        for scope in frontier:
            _context_locals(module, scope)
            for call in module.descendants(scope.function, "call_expression"):
                target = _callee(module, call)
                if target is None or target.id == scope.function.id:
                    continue
                helper = scopes.get(target.id)
                if helper is None:
                    callee = call.child_by_field_name("function")
                    name = module.source(callee) if callee is not None else "?"
                    helper = TsScope(target, "helper", f"`{name}` (called by {scope.via})", scope.via)
                    for param in _params(target):
                        if _names_context(module, param):
                            _bind(module, helper, param, ())
                    scopes[target.id] = helper
                    found_helpers.append(helper)
                _context_arguments(module, scope, call, helper)
        frontier = found_helpers
    for scope in scopes.values():  # again: a helper may have learnt its context after its first pass
        _context_locals(module, scope)
    return sorted(scopes.values(), key=lambda s: s.function.start_byte)


# -- servers ----------------------------------------------------------------------------------
def _registers_on_server(module: TsModule, function: Node, method: str, callback: Node) -> bool:
    """The receiver is an SDK server; or, in a file that imports the SDK, a receiver made in
    another file (an untyped parameter, an import) that `registerTool` names unmistakably, or
    that `.tool()` reaches through a name like `server` / `mcp`. A local object of another
    class (`agent.tool(...)`) is never one."""
    receiver = unwrap(function.child_by_field_name("object"))
    if is_mcp_server(module, receiver):
        return True
    if (
        receiver is None
        or _function_of(module, callback) is None
        or not imports_sdk(module)
        or _known_local(module, receiver)
    ):
        return False
    if method.startswith("register"):
        return True
    last = receiver.child_by_field_name("property") if receiver.type == "member_expression" else receiver
    name = module.source(last).lower() if last is not None else ""
    return "server" in name or "mcp" in name


def _known_local(module: TsModule, receiver: Node) -> bool:
    """A value this file builds (or types) itself and that is not an SDK server; unknown are
    untyped parameters, imports and what imported factories return."""
    if receiver.type == "member_expression":
        obj = receiver.child_by_field_name("object")
        return obj is None or obj.type != "this" or enclosing_class(receiver) is None
    if receiver.type != "identifier":
        return True
    value = module.resolve(receiver)
    if value is not None and value.type in ("call_expression", "await_expression"):
        return _local_call(module, value)
    if value is not None and value.type != "identifier":
        return True  # `new Agent()`, an object literal, ...
    declaration = module.declaration(receiver)
    if declaration is None:
        return module.source(receiver) not in module.imports  # else a global
    if declaration.type == "variable_declarator":
        return declaration.child_by_field_name("type") is not None
    if declaration.type == "formal_parameters":
        return _annotated(module, declaration, module.source(receiver))
    return declaration.type != "identifier"  # `server => ...`: untyped


def _awaited(value: Node) -> Node | None:
    """`await x` -> x."""
    return unwrap(value.named_children[0]) if value.type == "await_expression" else value


def _local_call(module: TsModule, value: Node) -> bool:
    call = _awaited(value)
    callee = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
    return callee is not None and callee.type == "identifier" and module.source(callee) in _named_functions(module)


def _annotated(module: TsModule, declaration: Node, name: str) -> bool:
    """A parameter with a type annotation (other than `any`): the file says what it is."""
    for param in declaration.named_children:
        pattern = param.child_by_field_name("pattern")
        if pattern is not None and module.source(pattern) == name:
            annotation = param.child_by_field_name("type")
            return annotation is not None and module.source(annotation).lstrip(": ").strip() != "any"
    return False


def is_mcp_server(module: TsModule, node: Node | None) -> bool:
    """An SDK `McpServer`/`Server`: built with `new` here (or by a local factory that says so),
    a parameter, variable or field typed as one, or `this.server` of a class that builds one."""
    node = unwrap(node)
    if node is None:
        return False
    value = module.resolve(node)
    if value is not None and value.type == "new_expression":
        return _is_server_class(module, value.child_by_field_name("constructor"))
    if value is not None and value.type in ("call_expression", "await_expression"):
        return _factory_returns_server(module, value)
    if node.type == "identifier":
        return _typed_as_server(module, node)
    if node.type == "member_expression":
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        if obj is not None and obj.type == "this" and prop is not None:
            return _class_field_is_server(module, node, module.source(prop))
    return False


def _is_server_class(module: TsModule, constructor: Node | None) -> bool:
    return from_sdk(module.imported(constructor), SERVER_CLASSES)


def _names_server_type(module: TsModule, annotation: Node | None) -> bool:
    if annotation is None:
        return False
    return any(
        from_sdk(module.import_origin(module.source(t)), SERVER_CLASSES)
        for t in module.descendants(annotation, "type_identifier")
    )


def _typed_as_server(module: TsModule, identifier: Node) -> bool:
    """`function register(server: McpServer)`, `let server: McpServer`: the annotation of the
    declaration names the SDK class."""
    declaration = module.declaration(identifier)
    if declaration is None:
        return False
    name = module.source(identifier)
    if declaration.type == "variable_declarator":
        return _names_server_type(module, declaration.child_by_field_name("type"))
    if declaration.type in ("formal_parameters",):
        for param in declaration.named_children:
            pattern = param.child_by_field_name("pattern")
            if pattern is not None and module.source(pattern) == name:
                return _names_server_type(module, param.child_by_field_name("type"))
    return False


def _factory_returns_server(module: TsModule, value: Node) -> bool:
    """`const server = createServer()` where the local `createServer` is declared to return an
    SDK server, or returns a `new McpServer(...)`."""
    call = _awaited(value)
    if call is None or call.type != "call_expression":
        return False
    callee = call.child_by_field_name("function")
    if callee is None or callee.type != "identifier":
        return False
    function = _named_functions(module).get(module.source(callee))
    if function is None:
        return False
    if _names_server_type(module, function.child_by_field_name("return_type")):
        return True
    for statement in module.descendants(function, "return_statement"):
        returned = unwrap(statement.named_children[0]) if statement.named_children else None
        if returned is not None and enclosing_function(statement) == function and returned.type == "new_expression":
            return _is_server_class(module, returned.child_by_field_name("constructor"))
    return False


def enclosing_class(node: Node) -> Node | None:
    cls = node.parent
    while cls is not None and cls.type not in ("class_declaration", "class", "abstract_class_declaration"):
        cls = cls.parent
    return cls


def class_fields(module: TsModule, cls: Node) -> Iterator[tuple[str, Node, Node | None, bool]]:
    """(name, definition, initial value, static) of a class's fields: declared ones and those
    first assigned `this.x = ...` in the constructor."""
    body = cls.child_by_field_name("body")
    declared = set()
    for member in body.named_children if body is not None else []:
        if member.type == "public_field_definition":
            key = member.child_by_field_name("name")
            if key is None:
                continue
            static = any(c.type == "static" for c in member.children)
            declared.add(module.source(key))
            yield module.source(key), member, unwrap(member.child_by_field_name("value")), static
        elif member.type == "method_definition" and module.name(member.child_by_field_name("name")) == "constructor":
            for assignment in module.descendants(member, "assignment_expression"):
                left = assignment.child_by_field_name("left")
                if left is None or left.type != "member_expression":
                    continue
                obj, prop = left.child_by_field_name("object"), left.child_by_field_name("property")
                if obj is not None and obj.type == "this" and prop is not None and module.source(prop) not in declared:
                    declared.add(module.source(prop))
                    yield module.source(prop), assignment, unwrap(assignment.child_by_field_name("right")), False


def _class_field_is_server(module: TsModule, node: Node, name: str) -> bool:
    cls = enclosing_class(node)
    if cls is None:
        return False
    for field_name, definition, value, _static in class_fields(module, cls):
        if field_name != name:
            continue
        if value is not None and value.type == "new_expression":
            return _is_server_class(module, value.child_by_field_name("constructor"))
        if definition.type == "public_field_definition" and _names_server_type(
            module, definition.child_by_field_name("type")
        ):
            return True
    for assignment in module.descendants(cls, "assignment_expression"):  # assigned outside the constructor
        left = assignment.child_by_field_name("left")
        value = unwrap(assignment.child_by_field_name("right"))
        if (
            left is not None
            and module.source(left) == f"this.{name}"
            and value is not None
            and value.type == "new_expression"
        ):
            return _is_server_class(module, value.child_by_field_name("constructor"))
    return False


# -- functions and parameters -----------------------------------------------------------------
def _function_of(module: TsModule, written: Node) -> Node | None:
    """The function a registration's callback argument names."""
    node = unwrap(written)
    if node is None:
        return None
    if node.type in _FUNCTIONS:
        return node
    if node.type == "identifier":
        return _named_functions(module).get(module.source(node))
    if node.type == "call_expression":
        callee = node.child_by_field_name("function")
        prop = (
            callee.child_by_field_name("property")
            if callee is not None and callee.type == "member_expression"
            else None
        )
        if callee is not None and prop is not None and module.source(prop) == "bind":  # `this.handle.bind(this)`
            return _method_of(module, callee.child_by_field_name("object"))
        args = call_arguments(node)  # `withAuth(async (args, extra) => ...)`: the wrapped handler runs in the request
        return _function_of(module, args[-1]) if args else None
    if node.type == "member_expression":  # `this.handle`
        return _method_of(module, node)
    return None


def _named_functions(module: TsModule) -> dict[str, Node]:
    def compute(m: TsModule) -> dict[str, Node]:
        found: dict[str, Node] = {}
        for declaration in m.walk("function_declaration"):
            name = declaration.child_by_field_name("name")
            if name is not None:
                found[m.source(name)] = declaration
        for declarator in m.walk("variable_declarator"):
            name, value = declarator.child_by_field_name("name"), unwrap(declarator.child_by_field_name("value"))
            if name is not None and value is not None and value.type in ("arrow_function", "function_expression"):
                found.setdefault(m.source(name), value)
        return found

    return module.memo(compute, "ts.named_functions")


def _method_of(module: TsModule, node: Node | None) -> Node | None:
    """`this.name` -> the method `name` of the enclosing class."""
    node = unwrap(node)
    if node is None or node.type != "member_expression":
        return None
    obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
    cls = enclosing_class(node)
    if obj is None or obj.type != "this" or prop is None or cls is None:
        return None
    body = cls.child_by_field_name("body")
    for member in body.named_children if body is not None else []:
        if member.type == "method_definition" and module.name(member.child_by_field_name("name")) == module.source(
            prop
        ):
            return member
    return None


def _callee(module: TsModule, call: Node) -> Node | None:
    """The same-file function a call runs: `helper(...)` or `this.helper(...)`."""
    callee = call.child_by_field_name("function")
    if callee is None:
        return None
    if callee.type == "identifier":
        return _named_functions(module).get(module.source(callee))
    return _method_of(module, callee)


def _params(function: Node) -> list[Node]:
    params = function.child_by_field_name("parameters")
    if params is None:
        single = function.child_by_field_name("parameter")  # `extra => ...`
        return [single] if single is not None else []
    return [p for p in params.named_children if p.type != "comment"]


def _pattern(param: Node) -> Node | None:
    """The binding of a parameter: `extra`, `{ sessionId }`, without type or default."""
    node = param if param.type in ("identifier", "object_pattern") else param.child_by_field_name("pattern")
    if node is not None and node.type == "assignment_pattern":
        node = node.child_by_field_name("left")
    return node


def _names_context(module: TsModule, param: Node) -> bool:
    """A parameter typed as the SDK's handler context (`extra: RequestHandlerExtra<...>`)."""
    annotation = param.child_by_field_name("type") if param.type not in ("identifier", "object_pattern") else None
    return annotation is not None and any(t in module.source(annotation) for t in _CONTEXT_TYPES)


def _handler_context(module: TsModule, call: Node, kind: str, callback: Node) -> Node | None:
    """The parameter that receives the context, by the SDK's calling convention."""
    params = _params(callback)
    for param in params:
        pattern = _pattern(param)
        if _names_context(module, param) or (
            pattern is not None and pattern.type == "identifier" and module.source(pattern) in _CONTEXT_NAMES
        ):
            return param
    args = call_arguments(call)
    if kind == "request":
        index: int | None = 1
    elif kind == "resource":
        template = module.resolve(args[1]) if len(args) > 1 else None
        index = 2 if template is not None and template.type == "new_expression" else 1
    else:
        schema = _takes_arguments(module, call, kind)
        index = None if schema is None else int(schema)
        if index is None and len(params) == 2:
            index = 1
    return params[index] if index is not None and index < len(params) else None


def _takes_arguments(module: TsModule, call: Node, kind: str) -> bool | None:
    """Whether a tool/prompt callback gets `(args, extra)` (it has a schema) or only `(extra)`;
    None when the registration's options are not visible here."""
    function = call.child_by_field_name("function")
    prop = function.child_by_field_name("property") if function is not None else None
    method = module.source(prop) if prop is not None else ""
    args = call_arguments(call)
    if method in ("registerTool", "registerPrompt"):
        config = module.resolve(args[1]) if len(args) == 3 else None
        if config is None or config.type != "object":
            return None
        keys = {key for key, _ in object_properties(module, config)}
        if None in keys:  # a spread: could hold anything
            return None
        return ("inputSchema" if method == "registerTool" else "argsSchema") in keys
    middle = args[1:-1]
    if middle and string_value(module, middle[0]) is not None:
        middle = middle[1:]  # the description
    if not middle:
        return False
    if kind == "prompt" or len(middle) > 1:
        return True
    value = module.resolve(middle[0])
    if value is None or value.type != "object":
        return None
    keys = {key for key, _ in object_properties(module, value)}
    return not (keys and None not in keys and keys <= _ANNOTATION_KEYS)


def _bind(module: TsModule, scope: TsScope, target: Node, path: Path) -> None:
    """Record what a parameter or declaration target takes from the context."""
    node = _pattern(target) if target.type not in ("identifier", "object_pattern") else target
    if node is None:
        return
    if node.type == "identifier":
        scope.context[module.source(node)] = path
    elif node.type == "object_pattern":
        for prop in node.named_children:
            if prop.type == "shorthand_property_identifier_pattern":
                name = module.source(prop)
                scope.context[name] = (*path, name)
                _take(scope, prop, (*path, name))
            elif prop.type == "object_assignment_pattern":  # `{ sessionId = "x" }`
                left = prop.child_by_field_name("left")
                if left is not None:
                    name = module.source(left)
                    scope.context[name] = (*path, name)
                    _take(scope, prop, (*path, name))
            elif prop.type == "pair_pattern":
                key, value = module.name(prop.child_by_field_name("key")), prop.child_by_field_name("value")
                if key is None or value is None:
                    continue
                _take(scope, prop, (*path, key))
                _bind(module, scope, value, (*path, key))
            elif prop.type == "rest_pattern" and prop.named_children:  # `{ signal, ...rest }`
                _bind(module, scope, prop.named_children[0], path)


def _take(scope: TsScope, pattern: Node, path: Path) -> None:
    if all(known.id != pattern.id for known, _ in scope.patterns):
        scope.patterns.append((pattern, path))


def _context_arguments(module: TsModule, caller: TsScope, call: Node, helper: TsScope) -> None:
    """`helper(extra)`, `helper(extra.requestInfo)`: the helper's parameter holds that much."""
    for arg, param in zip(call_arguments(call), _params(helper.function), strict=False):
        path = context_path(module, caller, arg)
        if path is not None:
            _bind(module, helper, param, path)


def _context_locals(module: TsModule, scope: TsScope) -> None:
    """`const { sessionId } = extra`, `const e = extra`, `const sid = extra.sessionId`."""
    for declarator in module.descendants(scope.function, "variable_declarator"):
        target = declarator.child_by_field_name("name")
        path = context_path(module, scope, declarator.child_by_field_name("value"))
        if target is not None and path is not None:
            _bind(module, scope, target, path)


def context_path(module: TsModule, scope: TsScope | None, node: Node | None) -> Path | None:
    """What `node` reads from the request context: `extra.requestInfo?.headers` ->
    ("requestInfo", "headers"); a name destructured from it -> its path; None when it is not
    the context."""
    node = unwrap(node)
    if node is None or scope is None:
        return None
    if node.type in ("identifier", "shorthand_property_identifier"):
        return scope.context.get(module.source(node))
    if node.type == "member_expression":
        base = context_path(module, scope, node.child_by_field_name("object"))
        prop = node.child_by_field_name("property")
        if base is None or prop is None:
            return None
        return (*base, module.source(prop))
    return None


def session_names(module: TsModule, scope: TsScope) -> set[str]:
    """Locals whose value comes from the session id: `const key = `cart:${extra.sessionId}``."""
    names = {name for name, path in scope.context.items() if path[:1] == ("sessionId",)}
    for _ in range(2):
        for declarator in module.descendants(scope.function, "variable_declarator"):
            target, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
            if target is not None and target.type == "identifier" and holds_session_id(module, scope, value, names):
                names.add(module.source(target))
    return names


def holds_session_id(module: TsModule, scope: TsScope, node: Node | None, names: set[str]) -> bool:
    """Whether an expression is built from the session id (a context read or a `names` local)."""
    if node is None:
        return False
    for child in module.descendants(node, "member_expression", "identifier"):
        if child.type == "identifier" and module.source(child) in names:
            return True
        if context_path(module, scope, child) == ("sessionId",):
            return True
    return False


def imports_sdk(module: TsModule) -> bool:
    """Whether the file imports (or requires) any MCP SDK package."""
    return any(origin.startswith("@modelcontextprotocol/") for origin, _ in module.imports.values())

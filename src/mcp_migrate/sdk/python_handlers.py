"""Where a Python module handles MCP requests, and what in it is the request's context.

Handlers are the functions an SDK calls per request: `@mcp.tool()` / `@mcp.resource()` /
`@mcp.prompt()` (or `mcp.tool(f)`, `mcp.add_tool(f)`) on mcp v1 `FastMCP`, mcp v2 `MCPServer`
and `fastmcp` (or a subclass the module defines); low-level `@server.call_tool()` (v1) and
`Server(on_call_tool=f)` (v2); plus the module's own functions they call (a few levels deep).
Any other function that takes the SDK's `Context` runs in some request too, and is a scope of
its own (with its helpers). In each, the context is a parameter typed
as a `Context` (any name, also `Context | None`), an untyped `ctx`/`context` of a handler, the
first parameter of a v2 low-level handler, the value of `get_context()`, or a low-level
server's `request_context`; locals assigned from it are followed (`s = ctx.session`), and so
are arguments that pass it (or a part of it) to a helper. Functions nested in a scope run in
its request and see its context.

`context_path()` names what an expression reads from the context, with `request_context`
folded away so every SDK's spelling meets: `ctx.request_context.session.create_message`
and `ctx.session.create_message` are both ("session", "create_message").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import libcst as cst

from ..lang.python import PythonModule, string_value
from .python import aliases
from .python_versions import FASTMCP_SERVER, HIGH_LEVEL_SERVER, LOWLEVEL_SERVER

CONTEXT_CLASSES = frozenset(
    {
        "mcp.server.fastmcp.Context",
        "mcp.server.fastmcp.server.Context",
        "mcp.server.mcpserver.Context",
        "mcp.server.mcpserver.context.Context",
        "fastmcp.Context",
        "fastmcp.server.Context",
        "fastmcp.server.context.Context",
        "mcp.server.context.Context",
        "mcp.server.ServerRequestContext",
        "mcp.server.context.ServerRequestContext",
        "mcp.shared.context.RequestContext",
    }
)
FASTMCP_CONTEXT = frozenset({"fastmcp.Context", "fastmcp.server.Context", "fastmcp.server.context.Context"})
GET_CONTEXT_FUNCTIONS = frozenset({"fastmcp.server.dependencies.get_context", "fastmcp.dependencies.get_context"})

_DECORATED = {"tool": "tool", "resource": "resource", "prompt": "prompt"}
_ADDED = {"add_tool": "tool", "add_resource": "resource", "add_prompt": "prompt"}
_LOWLEVEL_DECORATED = {
    "call_tool": "tool",
    "read_resource": "resource",
    "get_prompt": "prompt",
    "list_tools": "handler",
    "list_resources": "handler",
    "list_resource_templates": "handler",
    "list_prompts": "handler",
    "completion": "handler",
    "set_logging_level": "logging",
    "subscribe_resource": "handler",
    "unsubscribe_resource": "handler",
}
_LOWLEVEL_KEYWORDS = {
    "on_call_tool": "tool",
    "on_read_resource": "resource",
    "on_get_prompt": "prompt",
    "on_set_logging_level": "logging",
}
N = TypeVar("N", bound=cst.CSTNode)
_CONTEXT_NAMES = frozenset({"ctx", "context"})
HELPER_DEPTH = 3


@dataclass
class Scope:
    """A function that runs within a request, and the names in it that hold context parts."""

    function: cst.FunctionDef
    kind: str  # tool, resource, prompt, handler, logging, helper, or function (takes a Context)
    fastmcp: bool  # the `fastmcp` package's Context (its API differs from mcp's)
    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)  # local name -> context path
    via: str = ""  # for a helper: "tool `remember`", the handler whose request it runs in

    @property
    def name(self) -> str:
        return self.function.name.value

    @property
    def label(self) -> str:
        """How messages name it: "tool `remember`", "`_key` (called by tool `remember`)"."""
        if self.kind == "helper":
            return f"`{self.name}` (called by {self.via})"
        if self.kind == "function":
            return f"`{self.name}` (it takes the request's context)"
        return f"{self.kind} `{self.name}`"


def request_scopes(module: PythonModule) -> list[Scope]:
    """Handlers and the same-module helpers they call, each once, in source order."""
    return module.memo(_request_scopes, "py.request_scopes")


def scope_of(module: PythonModule, node: cst.CSTNode) -> Scope | None:
    """The request scope whose function (or a function nested in it) holds `node`."""
    by_function = module.memo(lambda m: {id(s.function): s for s in request_scopes(m)}, "py.scope_index")
    current = module.parent(node)
    while current is not None:
        if isinstance(current, cst.FunctionDef) and id(current) in by_function:
            return by_function[id(current)]
        if isinstance(current, cst.ClassDef):
            return None
        current = module.parent(current)
    return None


def _request_scopes(module: PythonModule) -> list[Scope]:
    scopes: dict[int, Scope] = {}
    roots = []
    for function, kind, fastmcp, positional in _handlers(module):
        if id(function) not in scopes:
            scope = scopes[id(function)] = Scope(function, kind, fastmcp)
            _context_params(module, scope, handler=True, first_is_context=positional)
            roots.append(scope)
    _add_helpers(module, scopes, roots)
    # A function that takes the SDK's Context runs in a request wherever it is called from
    # (a `utils.py` of the server, say): it is a scope of its own.
    roots = []
    for function in module.walk(cst.FunctionDef):
        if id(function) not in scopes:
            scope = Scope(function, "function", False)
            _context_params(module, scope, handler=False, first_is_context=False)
            if scope.paths:
                scopes[id(function)] = scope
                roots.append(scope)
    _add_helpers(module, scopes, roots)
    order = module.memo(lambda m: {id(f): i for i, f in enumerate(m.walk(cst.FunctionDef))}, "py.def_order")
    return sorted(scopes.values(), key=lambda s: order.get(id(s.function), 0))


def _add_helpers(module: PythonModule, scopes: dict[int, Scope], roots: list[Scope]) -> None:
    """Follow calls from `roots` into the module's own functions, `HELPER_DEPTH` levels deep."""
    for root in roots:
        _follow_locals(module, root)
    frontier = roots
    for _ in range(HELPER_DEPTH):
        found = []
        for scope in frontier:
            for call, target in _local_calls(module, scope.function):
                helper = scopes.get(id(target))
                if helper is None:
                    helper = scopes[id(target)] = Scope(target, "helper", scope.fastmcp, via=scope.via or scope.label)
                    _context_params(module, helper, handler=False, first_is_context=False)
                    found.append(helper)
                _context_arguments(module, scope, call, helper)
        for helper in found:
            _follow_locals(module, helper)
        frontier = found


def _handlers(module: PythonModule) -> list[tuple[cst.FunctionDef, str, bool, bool]]:
    """(function, kind, fastmcp, first parameter is the context) for each registered handler."""
    found: list[tuple[cst.FunctionDef, str, bool, bool]] = []
    for call in module.walk(cst.Call):
        names = built_classes(module, call)
        high = not names.isdisjoint(HIGH_LEVEL_SERVER)
        low = not names.isdisjoint(LOWLEVEL_SERVER)
        if not (high or low):
            continue
        fastmcp = not names.isdisjoint(FASTMCP_SERVER)
        if low:  # v2: Server("name", on_call_tool=handle), handlers take (ctx, params)
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value.startswith("on_"):
                    target = _function_named(module, arg.value)
                    if target is not None:
                        found.append((target, _LOWLEVEL_KEYWORDS.get(arg.keyword.value, "handler"), False, True))
        table = _LOWLEVEL_DECORATED if low else _DECORATED
        for receiver in aliases(module, call, depth=0, seen=set()):
            attribute = module.parent(receiver)
            if not isinstance(attribute, cst.Attribute) or attribute.value is not receiver:
                continue
            method = attribute.attr.value
            caller = module.parent(attribute)
            if not low and method in (*_ADDED, *_DECORATED) and isinstance(caller, cst.Call) and caller.args:
                target = _function_named(module, caller.args[0].value)  # mcp.add_tool(f), mcp.tool(f)
                if target is not None:
                    found.append((target, _ADDED.get(method) or _DECORATED[method], fastmcp, False))
                    continue
            kind = table.get(method)
            function = _decorated_function(module, attribute) if kind is not None else None
            if kind is not None and function is not None:
                found.append((function, kind, fastmcp, False))
    return found


def _decorated_function(module: PythonModule, attribute: cst.Attribute) -> cst.FunctionDef | None:
    """The def decorated by `@attribute` or `@attribute(...)`, or passed to `attribute(...)(f)`."""
    node: cst.CSTNode = attribute
    parent = module.parent(attribute)
    if isinstance(parent, cst.Call) and parent.func is attribute:
        node, parent = parent, module.parent(parent)
    if isinstance(parent, cst.Decorator) and node is parent.decorator:
        function = module.parent(parent)
        return function if isinstance(function, cst.FunctionDef) else None
    if isinstance(parent, cst.Call) and parent.func is node and parent.args:
        return _function_named(module, parent.args[0].value)
    return None


def _function_named(module: PythonModule, expr: cst.BaseExpression) -> cst.FunctionDef | None:
    """The def a name refers to."""
    if not isinstance(expr, cst.Name):
        return None
    return module.memo(_def_references, "py.def_references").get(id(expr))


def _def_references(module: PythonModule) -> dict[int, cst.FunctionDef]:
    """Every name that reads a def of the module (scope-aware: nested defs and shadowing count)."""
    found: dict[int, cst.FunctionDef] = {}
    for function in module.walk(cst.FunctionDef):
        for use in module.references(function):
            found[id(use)] = function
    return found


def _context_params(module: PythonModule, scope: Scope, handler: bool, first_is_context: bool) -> None:
    params = scope.function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    for param in every:
        annotation = _context_annotation(module, param.annotation.annotation) if param.annotation else None
        if annotation is not None:
            scope.paths[param.name.value] = ()
            if module.resolves_to(annotation, FASTMCP_CONTEXT):
                scope.fastmcp = True
        elif handler and param.name.value in _CONTEXT_NAMES and param.annotation is None:
            scope.paths[param.name.value] = ()
    positional = [*params.posonly_params, *params.params]
    if first_is_context and positional:
        scope.paths.setdefault(positional[0].name.value, ())


def _context_annotation(module: PythonModule, annotation: cst.BaseExpression) -> cst.BaseExpression | None:
    """The SDK context class an annotation names: `Context`, `Context[ServerSession, None]`,
    `Context | None`, `Optional[Context]`; a string annotation is not followed."""
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return _context_annotation(module, annotation.left) or _context_annotation(module, annotation.right)
    if isinstance(annotation, cst.Subscript):
        if module.resolves_to(annotation.value, frozenset({"typing.Optional"})) and annotation.slice:
            inner = annotation.slice[0].slice
            return _context_annotation(module, inner.value) if isinstance(inner, cst.Index) else None
        annotation = annotation.value
    if isinstance(annotation, (cst.Name, cst.Attribute)) and module.resolves_to(annotation, CONTEXT_CLASSES):
        return annotation
    return None


def _local_calls(module: PythonModule, function: cst.FunctionDef) -> list[tuple[cst.Call, cst.FunctionDef]]:
    calls = []
    for call in within(module, function, cst.Call):
        target = _function_named(module, call.func)
        if target is not None and target is not function and not _is_inside(module, target, function):
            calls.append((call, target))
    return calls


def _is_inside(module: PythonModule, node: cst.CSTNode, function: cst.FunctionDef) -> bool:
    current = module.parent(node)
    while current is not None:
        if current is function:
            return True
        current = module.parent(current)
    return False


def _context_arguments(module: PythonModule, caller: Scope, call: cst.Call, helper: Scope) -> None:
    """A helper parameter that receives the caller's context (or a part of it) holds it too."""
    params = [*helper.function.params.posonly_params, *helper.function.params.params]
    for index, arg in enumerate(call.args):
        path = context_path(module, caller, arg.value)
        if path is None:
            continue
        if arg.keyword is not None:
            helper.paths.setdefault(arg.keyword.value, path)
        elif arg.star == "" and index < len(params):
            helper.paths.setdefault(params[index].name.value, path)


def _follow_locals(module: PythonModule, scope: Scope) -> None:
    """`s = ctx.session`, `headers: Headers = ctx.request_context.request.headers`: in source order."""
    for node in within(module, scope.function, (cst.Assign, cst.AnnAssign)):
        if isinstance(node, cst.Assign) and len(node.targets) == 1:
            target: cst.BaseExpression = node.targets[0].target
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            target = node.target
        else:
            continue
        if isinstance(target, cst.Name) and node.value is not None:
            path = context_path(module, scope, node.value)
            if path is not None:
                scope.paths.setdefault(target.value, path)


def within(module: PythonModule, function: cst.FunctionDef, kind: type[N] | tuple[type[N], ...]) -> list[N]:
    """Nodes of a kind inside the function's body, nested functions included (they run in its
    request), classes defined in it excluded; in source order."""

    def group(m: PythonModule) -> dict[int, list[cst.CSTNode]]:
        owned: dict[int, list[cst.CSTNode]] = {}
        definitions: dict[int, cst.CSTNode | None] = m.memo(lambda _: {}, "py.definition_of")
        for node in m.walk(kind):
            current = _definition_of(m, node, definitions)
            while isinstance(current, cst.FunctionDef):
                owned.setdefault(id(current), []).append(node)
                current = _definition_of(m, current, definitions)
        return owned

    names = kind.__name__ if isinstance(kind, type) else ",".join(k.__name__ for k in kind)
    return module.memo(group, f"py.within.{names}").get(id(function), [])  # type: ignore[return-value]


_DEFINITIONS = frozenset({cst.FunctionDef, cst.ClassDef})  # concrete: a type test, not ABC isinstance


def _definition_of(module: PythonModule, node: cst.CSTNode, known: dict[int, cst.CSTNode | None]) -> cst.CSTNode | None:
    """The innermost def or class around `node`; `known` remembers it for every node passed."""
    passed: list[int] = []
    current = module.parent(node)
    while current is not None and type(current) not in _DEFINITIONS:
        if id(current) in known:
            current = known[id(current)]
            break
        passed.append(id(current))
        current = module.parent(current)
    for at in passed:
        known[at] = current
    return current


def context_path(module: PythonModule, scope: Scope | None, expr: cst.BaseExpression) -> tuple[str, ...] | None:
    """What `expr` reads from the request context, or None when it is not context at all."""
    if isinstance(expr, cst.Await):
        return context_path(module, scope, expr.expression)
    if isinstance(expr, cst.Name):
        if scope is not None and expr.value in scope.paths:
            return scope.paths[expr.value]
        return None
    if isinstance(expr, cst.Attribute):
        if expr.attr.value == "request_context" and _is_lowlevel_server(module, expr.value):
            return ()
        base = context_path(module, scope, expr.value)
        if base is None:
            return None
        return base if expr.attr.value == "request_context" else (*base, expr.attr.value)
    if isinstance(expr, cst.Call):
        if module.resolves_to(expr.func, GET_CONTEXT_FUNCTIONS):
            return ()
        attribute = _getattr_name(expr)  # getattr(ctx, "session", None) reads ctx.session
        if attribute is not None:
            base = context_path(module, scope, expr.args[0].value)
            return None if base is None else (*base, attribute)
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value == "get_context" and _is_server(module, func.value):
            return ()
    return None


def _getattr_name(call: cst.Call) -> str | None:
    """ "session" for `getattr(obj, "session")` / `getattr(obj, "session", None)` (the builtin)."""
    if not (isinstance(call.func, cst.Name) and call.func.value == "getattr") or not 2 <= len(call.args) <= 3:
        return None
    name = call.args[1].value
    if isinstance(name, cst.SimpleString) and name.value[:1] in "\"'" and name.value.isascii():
        return string_value(name)
    return None


SESSION_IDENTITY = (("session",), ("session_id",))


def session_derived(module: PythonModule, scope: Scope, expr: cst.BaseExpression) -> bool:
    """Whether a key expression carries the session's identity: `ctx.session`, `id(ctx.session)`,
    `(ctx.session_id, name)`, `f"{ctx.session_id}:x"`, or a local assigned one of these."""
    cache = module.memo(_by_function, "py.session_locals")
    names = cache.get(id(scope.function))
    if names is None:
        names = cache[id(scope.function)] = _session_locals(module, scope)
    for node in _expressions(expr):
        if context_path(module, scope, node) in SESSION_IDENTITY:
            return True
        if isinstance(node, cst.Name) and node.value in names:
            return True
    return False


def _by_function(_: PythonModule) -> dict[int, set[str]]:
    return {}


def _session_locals(module: PythonModule, scope: Scope) -> set[str]:
    names: set[str] = set()
    for assign in within(module, scope.function, cst.Assign):
        target = assign.targets[0].target if len(assign.targets) == 1 else None
        if isinstance(target, cst.Name) and any(
            context_path(module, scope, n) in SESSION_IDENTITY for n in _expressions(assign.value)
        ):
            names.add(target.value)
    return names


def _expressions(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """`expr` and every expression inside it."""
    found: list[cst.BaseExpression] = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, cst.BaseExpression):
                found.append(node)
            return not isinstance(node, (cst.Lambda, cst.FunctionDef))

    expr.visit(Collect())
    return found


def _is_server(module: PythonModule, expr: cst.BaseExpression) -> bool:
    """An expression that evaluates to an mcp/fastmcp server object built in this module."""
    return id(expr) in _receiver_ids(module, HIGH_LEVEL_SERVER)


def _is_lowlevel_server(module: PythonModule, expr: cst.BaseExpression) -> bool:
    return id(expr) in _receiver_ids(module, LOWLEVEL_SERVER)


def _receiver_ids(module: PythonModule, classes: frozenset[str]) -> set[int]:
    return module.memo(lambda m: {id(r) for r in receivers(m, classes)}, "py.receiver_ids." + ",".join(sorted(classes)))


def receivers(module: PythonModule, classes: frozenset[str]) -> list[cst.CSTNode]:
    """Expressions that evaluate to an object of one of `classes` built in this module."""

    def compute(m: PythonModule) -> list[cst.CSTNode]:
        found: list[cst.CSTNode] = []
        for call in m.walk(cst.Call):
            if not built_classes(m, call).isdisjoint(classes):
                found.extend(aliases(m, call, depth=0, seen=set()))
        return found

    return module.memo(compute, "py.receivers." + ",".join(sorted(classes)))


def built_classes(module: PythonModule, call: cst.Call) -> set[str]:
    """The SDK classes a call builds: `FastMCP(...)`, or `MyServer(...)` where the module
    defines `class MyServer(FastMCP)`."""
    wanted = HIGH_LEVEL_SERVER | LOWLEVEL_SERVER
    names = module.qualified_names(call.func, wanted)
    if not names and isinstance(call.func, cst.Name):
        names = module.memo(_subclasses, "py.server_subclasses").get(call.func.value, set())
    return names


def _subclasses(module: PythonModule) -> dict[str, set[str]]:
    """Module-level classes deriving from an SDK server class -> the SDK classes they extend."""
    found: dict[str, set[str]] = {}
    wanted = HIGH_LEVEL_SERVER | LOWLEVEL_SERVER
    for cls in (c for c in module.tree.body if isinstance(c, cst.ClassDef)):
        bases: set[str] = set()
        for base in cls.bases:
            local = found.get(base.value.value) if isinstance(base.value, cst.Name) else None
            bases |= local if local is not None else module.qualified_names(base.value, wanted) & wanted
        if bases:
            found[cls.name.value] = bases
    return found


def server_receivers(module: PythonModule) -> list[cst.CSTNode]:
    """Expressions that evaluate to an mcp v1/v2 or fastmcp server object."""
    return receivers(module, HIGH_LEVEL_SERVER)


def lowlevel_receivers(module: PythonModule) -> list[cst.CSTNode]:
    return receivers(module, LOWLEVEL_SERVER)

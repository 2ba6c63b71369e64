"""MCP201 for TypeScript/JavaScript: handler state keyed by the protocol session.

Reported: `extra.sessionId` / v2 `ctx.sessionId` read in a request handler or a helper it
passes the context to (also destructured: `{ sessionId }`), the `Mcp-Session-Id` header read
there (`extra.requestInfo.headers`), and task stores that bind tasks to the session (a
`TaskStore` implementation keyed by its `sessionId` argument, the SDK's `InMemoryTaskStore`).
A session id that only goes into a log line keys nothing and is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...lang import is_test_file
from ...lang.typescript import Node, TsModule, call_arguments, enclosing_function, string_value, unwrap
from ...model import Diagnostic
from ...sdk.typescript import from_sdk, stdio_only
from ...sdk.typescript_handlers import TsScope, context_path, enclosing_class, request_scopes, scope_of
from .._typescript import SESSION_HEADER, header_reads

_HANDLE = (
    "return an explicit handle from one tool and take it as an argument in the next (SEP-2567), or key a shared "
    "store by the authenticated principal (`extra.authInfo`); SDK v2: carry it in `requestState`"
)
_SESSION_ID = ("sessionId",)
_LOG_METHODS = frozenset(
    {"log", "info", "debug", "warn", "warning", "error", "trace", "fatal", "sendLoggingMessage", "sendNotification"}
)
# The SDK's task interfaces, and which argument of each method is the session id.
_TASK_INTERFACES = frozenset({"TaskStore", "TaskMessageQueue"})
_SESSION_ARGUMENT = {
    "createTask": 3,
    "getTask": 1,
    "storeTaskResult": 3,
    "getTaskResult": 1,
    "updateTaskStatus": 3,
    "listTasks": 1,
    "enqueue": 2,
    "dequeue": 1,
    "dequeueAll": 1,
}
_SESSION_BOUND_STORES = frozenset({"InMemoryTaskStore", "InMemoryTaskMessageQueue"})


def check(module: TsModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path) or stdio_only(module):
        return
    reported: set[int] = set()  # a helper nested in a handler is walked twice
    for scope in request_scopes(module):
        for node in module.descendants(scope.function, "member_expression"):
            if node.id in reported or context_path(module, scope, node) != _SESSION_ID:
                continue
            reported.add(node.id)
            if not _only_logged(module, scope, node):
                yield Diagnostic(
                    "MCP201",
                    module.span(node),
                    f"{scope.label} reads `{module.source(node)}`: without sessions it is undefined (2026-07-28 "
                    f"clients have none), so state keyed by it is lost or shared by everyone; {_HANDLE}",
                )
        for pattern, path in scope.patterns:
            if path != _SESSION_ID or pattern.id in reported:
                continue
            reported.add(pattern.id)
            if not _only_logged(module, scope, pattern):
                yield Diagnostic(
                    "MCP201",
                    module.span(pattern),
                    f"{scope.label} takes `sessionId` from the request context: without sessions it is undefined; "
                    f"{_HANDLE}",
                )
    for read in sorted(_header_reads(module), key=lambda n: n.start_byte):
        found = scope_of(module, read)
        if found is not None and read.id not in reported:
            reported.add(read.id)
            yield Diagnostic(
                "MCP201",
                module.span(read),
                f"{found.label} reads the `Mcp-Session-Id` header: stateless servers mint none and 2026-07-28 "
                f"clients send none; {_HANDLE}",
            )
    yield from _task_stores(module)


def _header_reads(module: TsModule) -> list[Node]:
    """HTTP-level reads (`req.headers[...]` in a per-request server) plus reads through the
    context: `extra.requestInfo?.headers["mcp-session-id"]`, v2 `ctx.http?.req.headers.get(...)`."""
    found = {n.id: n for n in header_reads(module)}
    for scope in request_scopes(module):
        for node in module.descendants(scope.function, "subscript_expression", "call_expression"):
            if node.type == "subscript_expression":
                key, headers = node.child_by_field_name("index"), node.child_by_field_name("object")
            else:
                function = node.child_by_field_name("function")
                prop = function.child_by_field_name("property") if function is not None else None
                if function is None or prop is None or module.source(prop) != "get":
                    continue
                args = call_arguments(node)
                key, headers = (args[0] if len(args) == 1 else None), function.child_by_field_name("object")
            name = string_value(module, key)
            path = context_path(module, scope, headers)
            if name is not None and name.lower() == SESSION_HEADER and path is not None and path[-1:] == ("headers",):
                found[node.id] = node
    return list(found.values())


def _in_log_call(module: TsModule, node: Node) -> bool:
    """Inside the arguments of `console.log(...)`, `logger.info(...)`, `sendLoggingMessage(...)`."""
    parent = node.parent
    while parent is not None and enclosing_function(node) == enclosing_function(parent):
        if parent.type == "arguments" and parent.parent is not None:
            function = unwrap(parent.parent.child_by_field_name("function"))
            if function is not None and function.type == "member_expression":
                function = function.child_by_field_name("property")
            if function is not None and module.source(function) in _LOG_METHODS:
                return True
        parent = parent.parent
    return False


def _only_logged(module: TsModule, scope: TsScope, node: Node) -> bool:
    """The session id goes into log lines only: read inside one, or bound to a local (or a
    destructured name) that only log lines use."""
    if _in_log_call(module, node):
        return True
    name = _bound_name(module, node)
    if name is None:
        return False
    uses = [
        n
        for n in module.descendants(scope.function, "identifier", "shorthand_property_identifier")
        if module.source(n) == name and n.start_byte >= node.end_byte
    ]
    return all(_in_log_call(module, use) for use in uses)


def _bound_name(module: TsModule, node: Node) -> str | None:
    """The local a session-id read lands in: `{ sessionId }`, `{ sessionId: sid }`,
    `const sid = extra.sessionId ?? "-"`."""
    if node.type == "shorthand_property_identifier_pattern":
        return module.source(node)
    if node.type == "object_assignment_pattern":
        left = node.child_by_field_name("left")
        return module.source(left) if left is not None else None
    if node.type == "pair_pattern":
        value = node.child_by_field_name("value")
        return module.source(value) if value is not None and value.type == "identifier" else None
    value = node
    while value.parent is not None and value.parent.type in (
        "binary_expression",
        "non_null_expression",
        "as_expression",
    ):
        value = value.parent
    parent = value.parent
    if parent is not None and parent.type == "variable_declarator" and parent.child_by_field_name("value") == value:
        target = parent.child_by_field_name("name")
        return module.source(target) if target is not None and target.type == "identifier" else None
    return None


def _task_stores(module: TsModule) -> Iterator[Diagnostic]:
    """Task stores that bind a task to the session that created it."""
    for new in module.walk("new_expression"):
        constructor = module.imported(new.child_by_field_name("constructor"))
        if from_sdk(constructor, _SESSION_BOUND_STORES):
            assert constructor is not None
            yield Diagnostic(
                "MCP201",
                module.span(new),
                f"the SDK's `{constructor[1]}` binds each task to the session that created it (and keeps it in "
                "this process): without sessions every caller shares every task, and another replica knows none; use "
                "a shared task store that binds tasks to the authenticated principal (`mcp-migrate scaffold tasks`)",
            )
    for heritage in module.walk("implements_clause"):
        if not any(
            from_sdk(module.import_origin(module.source(t)), _TASK_INTERFACES)
            for t in module.descendants(heritage, "type_identifier")
        ):
            continue
        cls = enclosing_class(heritage)
        read = _first_session_read(module, cls) if cls is not None else None
        if cls is not None and read is not None:
            name = cls.child_by_field_name("name")
            label = f"`{module.source(name)}`" if name is not None else "this task store"
            yield Diagnostic(
                "MCP201",
                module.span(read),
                f"{label} keys tasks by the protocol session (`{module.source(read)}`): without sessions it is "
                "undefined, so every caller shares every task; bind tasks to the authenticated principal instead",
            )


def _first_session_read(module: TsModule, cls: Node) -> Node | None:
    body = cls.child_by_field_name("body")
    first: Node | None = None
    for method in body.named_children if body is not None else []:
        position = _SESSION_ARGUMENT.get(module.name(method.child_by_field_name("name")) or "")
        params = method.child_by_field_name("parameters") if method.type == "method_definition" else None
        names = [p for p in params.named_children if p.type != "comment"] if params is not None else []
        if position is None or position >= len(names):
            continue
        pattern = names[position].child_by_field_name("pattern") or names[position]
        if pattern.type != "identifier":
            continue
        for use in module.descendants(method.child_by_field_name("body") or method, "identifier"):
            if module.source(use) == module.source(pattern):
                if first is None or use.start_byte < first.start_byte:
                    first = use
                break
    return first

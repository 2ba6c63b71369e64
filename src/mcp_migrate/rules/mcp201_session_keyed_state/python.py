"""MCP201 for Python: handler state keyed by the protocol session."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ...lang import is_test_file
from ...lang.python import PythonModule, bool_value, keyword, string_value
from ...model import Diagnostic
from ...sdk.python import stdio_only
from ...sdk.python_handlers import Scope, context_path, lowlevel_receivers, request_scopes, within

_HANDLE = (
    "return an explicit handle from one tool and take it as an argument in the next (SEP-2567), "
    "or key a shared store by the authenticated principal"
)
_KEY_METHODS = frozenset({"get", "setdefault", "pop", "__getitem__", "__contains__", "__setitem__"})
_STATE_METHODS = frozenset({"set_state", "get_state", "delete_state"})
_MIDDLEWARE = frozenset({"fastmcp.server.middleware.Middleware", "fastmcp.server.middleware.middleware.Middleware"})


def check(module: PythonModule) -> Iterator[Diagnostic]:
    scopes = request_scopes(module) if not is_test_file(module.path) else []
    if not scopes or (not lowlevel_receivers(module) and stdio_only(module)):
        return  # stdio: one client per process, the session is the process (as in TypeScript)
    for scope in scopes:
        yield from _session_ids(module, scope)
        yield from _session_keys(module, scope)
        yield from _state_calls(module, scope)
        yield from _header_reads(module, scope)


def _session_ids(module: PythonModule, scope: Scope) -> Iterator[Diagnostic]:
    for node in within(module, scope.function, cst.Attribute):
        if context_path(module, scope, node) == ("session_id",):
            yield Diagnostic(
                "MCP201",
                module.span(node),
                f"{scope.label} reads `{module.source(node)}`: without sessions it names no conversation "
                f"(on 2026-07-28 it is new on every request), so state keyed by it is lost; {_HANDLE}",
            )


def _session_keys(module: PythonModule, scope: Scope) -> Iterator[Diagnostic]:
    candidates: list[cst.BaseExpression] = [*within(module, scope.function, (cst.Attribute, cst.Name))]
    for node in candidates:
        if context_path(module, scope, node) != ("session",) or not _used_as_key(module, node):
            continue
        yield Diagnostic(
            "MCP201",
            module.span(node),
            f"{scope.label} keeps state keyed by the session object (`{module.source(node)}`): it lives in "
            f"this process and ends with the session, which a stateless server does not have; {_HANDLE}",
        )


def _used_as_key(module: PythonModule, node: cst.CSTNode) -> bool:
    """`store[s]`, `store[s, k]`, `store[(s, k)]`, `id(s)`, `store.get(s)`, `{s: ...}`, `s in store`."""
    parent = module.parent(node)
    if isinstance(parent, cst.Element) and isinstance(module.parent(parent), cst.Tuple):
        return _used_as_key(module, module.parent(parent))  # type: ignore[arg-type]
    if isinstance(parent, cst.Index):
        return True
    if isinstance(parent, cst.Arg):
        call = module.parent(parent)
        if not isinstance(call, cst.Call) or not call.args or call.args[0] is not parent:
            return False
        func = call.func
        if isinstance(func, cst.Name) and func.value in ("id", "hash"):
            return True
        return isinstance(func, cst.Attribute) and func.attr.value in _KEY_METHODS
    if isinstance(parent, cst.DictElement) and parent.key is node:
        return True
    if isinstance(parent, cst.Comparison) and parent.left is node:
        return any(isinstance(t.operator, (cst.In, cst.NotIn)) for t in parent.comparisons)
    return False


def _state_calls(module: PythonModule, scope: Scope) -> Iterator[Diagnostic]:
    rebuilt = module.memo(_request_only_keys, "mcp201.request_only_keys")
    for call in within(module, scope.function, cst.Call):
        path = context_path(module, scope, call.func) if isinstance(call.func, cst.Attribute) else None
        if path is None or len(path) != 1 or path[0] not in _STATE_METHODS:
            continue
        if path[0] == "set_state" and _request_scoped(call):
            continue
        key = string_value(call.args[0].value) if call.args else None
        if path[0] != "set_state" and key is not None and key in rebuilt:
            continue
        yield Diagnostic(
            "MCP201",
            module.span(call),
            f"{scope.label} calls `{module.source(call.func)}()`: fastmcp keeps this state per session, and "
            f"without one it never round-trips between requests; {_HANDLE}",
        )


def _request_scoped(call: cst.Call) -> bool:
    """fastmcp's `set_state(key, value, serializable=False)` lives for the current request only."""
    arg = keyword(call, "serializable")
    return arg is not None and bool_value(arg.value) is False


def _request_only_keys(module: PythonModule) -> set[str]:
    """State keys that need no session: set by a fastmcp middleware (it runs before every
    request's handler and sets them afresh), or only ever set request-scoped."""
    middleware: set[str] = set()
    request_only: set[str] = set()
    session: set[str] = set()
    for call in module.walk(cst.Call):
        if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "set_state" and call.args):
            continue
        key = string_value(call.args[0].value)
        if key is None:
            continue
        if _in_middleware(module, call):
            middleware.add(key)
        elif _request_scoped(call):
            request_only.add(key)
        else:
            session.add(key)
    return middleware | (request_only - session)


def _in_middleware(module: PythonModule, node: cst.CSTNode) -> bool:
    current = module.parent(node)
    while current is not None:
        if isinstance(current, cst.ClassDef):
            return any(module.resolves_to(base.value, _MIDDLEWARE) for base in current.bases)
        current = module.parent(current)
    return False


def _header_reads(module: PythonModule, scope: Scope) -> Iterator[Diagnostic]:
    for node in within(module, scope.function, cst.SimpleString):
        value = string_value(node)
        if value is None or value.lower() != "mcp-session-id":
            continue
        parent = module.parent(node)
        holder = module.parent(parent) if isinstance(parent, (cst.Index, cst.Arg)) else parent
        membership = isinstance(holder, cst.Comparison) and holder.left is node
        if isinstance(holder, (cst.SubscriptElement, cst.Call)) or membership:
            yield Diagnostic(
                "MCP201",
                module.span(node),
                f"{scope.label} reads the `Mcp-Session-Id` header: stateless servers mint none and 2026-07-28 "
                f"clients send none; {_HANDLE}",
            )

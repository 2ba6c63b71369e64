"""MCP204 for TypeScript/JavaScript: notifications sent to a session rather than to a request.

SDK v1 sends a server-level notification (no `relatedRequestId`) on the session's standalone
GET stream, which a stateless server does not have and 2026-07-28 removed. That covers the
explicit `send*ListChanged()` / `sendResourceUpdated()` / `sendLoggingMessage()`, and the
implicit `list_changed` of registering, enabling, disabling, updating or removing a tool,
resource or prompt while serving a request. Closing the standalone stream
(`extra.closeStandaloneSSEStream`, v2 `ctx.http.closeStandaloneSSE`) goes with it.
Request-scoped notifications (`extra.sendNotification(...)`: progress, log messages) are fine.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...lang import is_test_file
from ...lang.typescript import Node, TsModule, call_arguments
from ...model import Diagnostic
from ...sdk.typescript_handlers import TsScope, context_path, imports_sdk, registration, scope_of

_NOTIFICATIONS = frozenset(
    {
        "sendResourceListChanged",
        "sendToolListChanged",
        "sendPromptListChanged",
        "sendResourceUpdated",
        "notifyResourceUpdated",
    }
)
_HANDLE_METHODS = frozenset({"enable", "disable", "update", "remove"})  # RegisteredTool & co.
_STANDALONE_STREAM = {("closeStandaloneSSEStream",), ("http", "closeStandaloneSSE")}
_LISTEN = (
    "2026-07-28 removed it: subscribers listen with `subscriptions/listen`; SDK v2: publish on the `bus` given to "
    "`createMcpHandler` (shared across replicas)"
)


def check(module: TsModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path) or not imports_sdk(module):
        return
    for call in module.walk("call_expression"):
        method = _method(module, call)
        if method in _NOTIFICATIONS:
            yield Diagnostic(
                "MCP204",
                module.span(call),
                f"`{module.source(call.child_by_field_name('function') or call)}()` notifies the clients of "
                f"sessions on this replica over their standalone GET stream; {_LISTEN}",
            )
        elif method == "sendLoggingMessage":
            yield Diagnostic(
                "MCP204",
                module.span(call),
                "`sendLoggingMessage()` is not tied to a request: it goes to the session's standalone GET stream, "
                "which a stateless server does not have, so the message is dropped; log through the request "
                '(`extra.sendNotification({ method: "notifications/message", ... })`; SDK v2: `ctx.notification.log`)',
            )
        elif (scope := scope_of(module, call)) is not None:
            yield from _in_request(module, scope, call, method)


def _method(module: TsModule, call: Node) -> str | None:
    function = call.child_by_field_name("function")
    prop = (
        function.child_by_field_name("property")
        if function is not None and function.type == "member_expression"
        else None
    )
    return module.source(prop) if prop is not None else None


def _in_request(module: TsModule, scope: TsScope, call: Node, method: str | None) -> Iterator[Diagnostic]:
    """Changing the server's lists while serving a request, and closing the standalone stream."""
    function = call.child_by_field_name("function")
    if context_path(module, scope, function) in _STANDALONE_STREAM:
        yield Diagnostic(
            "MCP204",
            module.span(call),
            f"{scope.label} closes the standalone GET stream (`{module.source(function or call)}`), which exists "
            f"only with sessions; {_LISTEN}",
        )
        return
    registered = registration(module, call)
    if registered is not None and registered[0] != "request":
        yield Diagnostic(
            "MCP204",
            module.span(call),
            f"{scope.label} registers a {registered[0]} while serving a request: the SDK announces it with a "
            "`list_changed` notification on the session's standalone GET stream, and only this replica has it; "
            f"register everything at startup (and check the caller's permissions in the handler); {_LISTEN}",
        )
    elif method in _HANDLE_METHODS and function is not None and _registered_handle(module, function):
        yield Diagnostic(
            "MCP204",
            module.span(call),
            f"{scope.label} calls `{module.source(function)}()`: the SDK announces the change with a `list_changed` "
            "notification on the session's standalone GET stream, and the change stays on this replica; check the "
            f"caller's permissions inside the handler instead of toggling it; {_LISTEN}",
        )


def _registered_handle(module: TsModule, function: Node) -> bool:
    """`admin.enable()` where `admin = server.registerTool(...)` (a RegisteredTool, ...)."""
    value = module.resolve(function.child_by_field_name("object"))
    if value is None or value.type != "call_expression" or not call_arguments(value):
        return False
    found = registration(module, value)
    return found is not None and found[0] != "request"

"""MCP204 for Python: change notifications sent to a session instead of subscribers."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ...lang import is_test_file
from ...lang.python import PythonModule
from ...model import Diagnostic
from ...sdk.python_handlers import context_path, lowlevel_receivers, request_scopes, scope_of, server_receivers

# session method -> (mcp 2 Context method, subscription event of mcp.shared.subscriptions)
_SESSION_NOTIFICATIONS = {
    "send_resource_updated": ("notify_resource_updated(uri)", "ResourceUpdated(uri=...)"),
    "send_resource_list_changed": ("notify_resources_changed()", "ResourcesListChanged()"),
    "send_tool_list_changed": ("notify_tools_changed()", "ToolsListChanged()"),
    "send_prompt_list_changed": ("notify_prompts_changed()", "PromptsListChanged()"),
}
# request-scoped notifications, unless sent without the request they belong to: method -> (position of
# `related_request_id`, the Context method that relates it for you)
_UNRELATED = {
    "send_log_message": (3, "ctx.info()"),
    "send_progress_notification": (4, "ctx.report_progress()"),
}
_NOTIFICATION_CLASSES = {
    "ResourceUpdatedNotification": "send_resource_updated",
    "ResourceListChangedNotification": "send_resource_list_changed",
    "ToolListChangedNotification": "send_tool_list_changed",
    "PromptListChangedNotification": "send_prompt_list_changed",
}


def check(module: PythonModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path):
        return
    request_scopes(module)  # resolves contexts before scope_of() reads them
    for call in module.walk(cst.Call):
        func = call.func
        if not isinstance(func, cst.Attribute):
            continue
        method = func.attr.value
        if method == "send_notification" and call.args:  # fastmcp `ctx.send_notification(...)`, session's
            method = _NOTIFICATION_CLASSES.get(_class_name(module, call.args[0].value), "")
        if method in _SESSION_NOTIFICATIONS:
            yield Diagnostic("MCP204", module.span(call), _message(module, call, method))
            continue
        scope = scope_of(module, call)
        if method in _UNRELATED and _unrelated(module, call, method):
            yield Diagnostic(
                "MCP204",
                module.span(call),
                f"`{module.source(func)}()` without `related_request_id` goes to the session's standalone GET "
                f"stream, not to the request's response; 2026-07-28 has no such stream: pass "
                f"`related_request_id=ctx.request_id`, or use `{_UNRELATED[method][1]}`",
            )
        if scope is not None and context_path(module, scope, func) == ("close_standalone_sse_stream",):
            yield Diagnostic(
                "MCP204",
                module.span(call),
                f"`{module.source(func)}()` manages the standalone GET stream, which 2026-07-28 removed: "
                "there is nothing to close; clients that want notifications open `subscriptions/listen`",
            )


def _class_name(module: PythonModule, expr: cst.BaseExpression) -> str:
    """`types.ToolListChangedNotification(...)` (or a name assigned it) -> "ToolListChangedNotification"."""
    if isinstance(expr, cst.Name):
        expr = module.binding_value(expr) or expr
    func = expr.func if isinstance(expr, cst.Call) else expr
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _message(module: PythonModule, call: cst.Call, method: str) -> str:
    notify, event = _SESSION_NOTIFICATIONS[method]
    scope = scope_of(module, call)
    in_request = scope is not None and () in scope.paths.values()  # the context itself is at hand
    remedy = (
        f"in mcp 2 publish with `ctx.{notify}` (and give the server a shared bus across replicas)"
        if in_request
        else f"in mcp 2 publish `{event}` on the `SubscriptionBus` passed as `MCPServer(subscriptions=...)`, "
        "shared across replicas"
    )
    if isinstance(call.func, cst.Attribute) and call.func.attr.value == "send_notification":
        sent = _class_name(module, call.args[0].value)
        how = (
            f"sends `{sent}` to one client only, on a stream 2026-07-28 does not allow it on: change "
            "notifications go to `subscriptions/listen` subscribers"
        )
    else:
        how = (
            "notifies one session over its standalone GET stream, which 2026-07-28 removed: subscribers listen "
            "with `subscriptions/listen`"
        )
    return f"`{module.source(call.func)}()` {how}; {remedy}"


def _unrelated(module: PythonModule, call: cst.Call, method: str) -> bool:
    """A log or progress notification on an MCP session that names no request to ride on."""
    if any(a.keyword is not None and a.keyword.value == "related_request_id" for a in call.args):
        return False
    positional = [a for a in call.args if a.keyword is None]
    if len(positional) > _UNRELATED[method][0] or any(a.star for a in call.args):
        return False
    scope = scope_of(module, call)
    if scope is not None:
        return context_path(module, scope, call.func) == ("session", method)
    if isinstance(call.func, cst.Attribute) and _client_session(module, call.func.value):
        return False  # a proxy's session to the server it calls: the client side, not this server's
    return bool(server_receivers(module) or lowlevel_receivers(module))


_CLIENT_SESSION = frozenset({"mcp.ClientSession", "mcp.client.session.ClientSession"})


def _client_session(module: PythonModule, expr: cst.BaseExpression) -> bool:
    """`session` from `async with ClientSession(read, write) as session:`, `session =
    ClientSession(...)` or a parameter annotated `ClientSession`."""
    if not isinstance(expr, cst.Name):
        return False
    value = module.binding_value(expr)
    if isinstance(value, cst.Call) and module.resolves_to(value.func, _CLIENT_SESSION):
        return True
    param = module.parameter_of(expr)
    if param is not None and param.annotation is not None:
        return module.resolves_to(param.annotation.annotation, _CLIENT_SESSION)
    for item in module.walk(cst.WithItem):
        target = item.asname.name if item.asname is not None else None
        if (
            isinstance(target, cst.Name)
            and target.value == expr.value
            and isinstance(item.item, cst.Call)
            and module.resolves_to(item.item.func, _CLIENT_SESSION)
        ):
            return True
    return False

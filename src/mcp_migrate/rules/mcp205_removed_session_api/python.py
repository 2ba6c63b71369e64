"""MCP205 for Python: session-era APIs removed or deprecated by the stateless SDKs."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ...lang import is_test_file
from ...lang.python import PythonModule, string_value
from ...model import Diagnostic
from ...sdk.python import FASTMCP_SERVER
from ...sdk.python_handlers import (
    context_path,
    lowlevel_receivers,
    receivers,
    request_scopes,
    scope_of,
    server_receivers,
    within,
)
from ...sdk.python_versions import LOWLEVEL_SERVER

_LOG_LEVEL = (
    "`logging/setLevel` is deprecated as of 2026-07-28: a level set once per session has nowhere to live; each "
    "request carries its log level in `_meta`"
)
_PING = (
    "a custom `ping` handler answers for one replica only; without sessions there is nothing to keep alive, and "
    "liveness belongs to the HTTP health check (a readiness probe)"
)
_KEEPALIVE = (
    "keeps a session alive with server-to-client pings: 2026-07-28 removed `ping` and has no session or "
    "standalone stream to keep open (mcp 2 raises NoBackChannelError); drop it, and leave liveness to the HTTP "
    "health check (a readiness probe)"
)
_ON_INITIALIZE = (
    "runs on the `initialize` handshake only: 2026-07-28 clients send no `initialize` (each request carries its "
    "version and capabilities), so on their requests this never runs and whatever it sets up is missing; do the "
    "work per request (`on_request` / `on_call_tool`) or at start-up (the server's lifespan)"
)
_FASTMCP_MIDDLEWARE = frozenset(
    {"fastmcp.server.middleware.Middleware", "fastmcp.server.middleware.middleware.Middleware"}
)
_PING_MIDDLEWARE = frozenset(
    {"fastmcp.server.middleware.PingMiddleware", "fastmcp.server.middleware.ping.PingMiddleware"}
)


def check(module: PythonModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path):
        return
    for scope in request_scopes(module):
        if scope.fastmcp:
            continue  # fastmcp's Context keeps `client_id`
        for node in within(module, scope.function, cst.Attribute):
            if context_path(module, scope, node) == ("client_id",):
                yield Diagnostic(
                    "MCP205",
                    module.span(node),
                    f"`{module.source(node)}` was removed in mcp 2 (it came from the session's initialize); identify "
                    "the caller by the request's authentication instead",
                )
    fastmcp_receivers = {id(r) for r in receivers(module, FASTMCP_SERVER)}
    for receiver in server_receivers(module):
        attribute = module.parent(receiver)
        call = module.parent(attribute) if isinstance(attribute, cst.Attribute) else None
        if (
            isinstance(attribute, cst.Attribute)
            and attribute.attr.value == "get_context"
            and isinstance(call, cst.Call)
            and id(receiver) not in fastmcp_receivers
        ):
            yield Diagnostic(
                "MCP205",
                module.span(call),
                f"`{module.source(call)}` was removed in mcp 2: take `ctx: Context` as a parameter of the tool",
            )
    for receiver in lowlevel_receivers(module):
        attribute = module.parent(receiver)
        if isinstance(attribute, cst.Attribute) and attribute.attr.value == "set_logging_level":
            yield Diagnostic("MCP205", module.span(attribute), _LOG_LEVEL)
        handler = module.parent(attribute) if isinstance(attribute, cst.Attribute) else None
        if (  # mcp 2: server.add_request_handler("logging/setLevel", SetLevelRequestParams, handler)
            isinstance(attribute, cst.Attribute)
            and attribute.attr.value == "add_request_handler"
            and isinstance(handler, cst.Call)
            and handler.args
            and string_value(handler.args[0].value) == "logging/setLevel"
        ):
            yield Diagnostic("MCP205", module.span(handler), _LOG_LEVEL)
        if isinstance(attribute, cst.Attribute) and attribute.attr.value == "request_handlers":
            index = module.parent(attribute)
            if isinstance(index, cst.Subscript) and "PingRequest" in module.source(index):
                yield Diagnostic("MCP205", module.span(index), _PING)
    for cls in module.walk(cst.ClassDef):
        if not any(module.resolves_to(base.value, _FASTMCP_MIDDLEWARE) for base in cls.bases):
            continue
        for statement in cls.body.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "on_initialize":
                yield Diagnostic(
                    "MCP205", module.span(statement.name), f"`{cls.name.value}.on_initialize` {_ON_INITIALIZE}"
                )
    for call in module.walk(cst.Call):
        if module.resolves_to(call.func, _PING_MIDDLEWARE):
            yield Diagnostic("MCP205", module.span(call), f"`{module.source(call.func)}` {_KEEPALIVE}")
        elif (
            isinstance(call.func, cst.Attribute) and call.func.attr.value == "send_ping" and _server_side(module, call)
        ):
            yield Diagnostic("MCP205", module.span(call), f"`{module.source(call.func)}()` {_KEEPALIVE}")
        if not module.resolves_to(call.func, LOWLEVEL_SERVER):
            continue
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "on_set_logging_level":
                yield Diagnostic("MCP205", module.span(arg), _LOG_LEVEL)
            elif arg.keyword is not None and arg.keyword.value == "on_ping":
                yield Diagnostic("MCP205", module.span(arg), _PING)


def _server_side(module: PythonModule, call: cst.Call) -> bool:
    """A ping sent to a client: from a handler's session, or elsewhere in a module that builds a
    server (a client's `ClientSession.send_ping()` is not this rule's business)."""
    scope = scope_of(module, call)
    if scope is not None:
        return context_path(module, scope, call.func) == ("session", "send_ping")
    return bool(server_receivers(module) or lowlevel_receivers(module))

"""MCP205 for TypeScript/JavaScript: `logging/setLevel` and `ping` handlers, and pinging the
client as a keep-alive."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang import is_test_file
from ...lang.typescript import Node, TsModule, call_arguments, unwrap
from ...model import Diagnostic
from ...sdk.typescript_handlers import is_mcp_server

_MESSAGES = {
    "SetLevelRequestSchema": (
        "a `logging/setLevel` handler: the level is set once per session, which a stateless server does not have "
        "(deprecated as of 2026-07-28: each request carries its log level in `_meta`)"
    ),
    "PingRequestSchema": (
        "a custom `ping` handler answers for one replica only; without sessions there is nothing to keep alive, and "
        "liveness belongs to the HTTP health check (a readiness probe)"
    ),
}
_PING = (
    "`{call}()` pings the client over the session's stream as a keep-alive: 2026-07-28 removed `ping` and a "
    "stateless server has no stream to send it on; liveness belongs to the HTTP health check (a readiness probe)"
)


def check(module: TsModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path):
        return
    for call in module.walk("call_expression"):
        function = call.child_by_field_name("function")
        prop = function.child_by_field_name("property") if function is not None else None
        method = module.source(prop) if prop is not None else None
        if method == "setRequestHandler":
            args = call_arguments(call)
            schema = module.imported(args[0]) if args else None
            if schema is not None and schema[0].startswith("@modelcontextprotocol/") and schema[1] in _MESSAGES:
                yield Diagnostic("MCP205", module.span(call), _MESSAGES[schema[1]])
        elif method == "ping" and function is not None and _is_server(module, function.child_by_field_name("object")):
            yield Diagnostic("MCP205", module.span(call), _PING.format(call=module.source(function)))


def _is_server(module: TsModule, node: Node | None) -> bool:
    """An SDK server: `mcp.server` of an `McpServer`, or a `Server` itself."""
    node = unwrap(node)
    if node is not None and node.type == "member_expression":
        prop = node.child_by_field_name("property")
        if (
            prop is not None
            and module.source(prop) == "server"
            and is_mcp_server(module, node.child_by_field_name("object"))
        ):
            return True
    return is_mcp_server(module, node)

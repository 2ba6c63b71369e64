"""MCP203 for TypeScript/JavaScript: sampling, elicitation and roots requests to the client."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang import is_test_file
from ...lang.typescript import Node, TsModule, unwrap
from ...model import Diagnostic
from ...sdk.typescript_handlers import context_path, imports_sdk, is_mcp_server, request_scopes

_SERVER_REQUESTS = {"createMessage": "sampling", "elicitInput": "elicitation", "listRoots": "roots"}
# v1 `extra.sendRequest`; v2 `ctx.mcpReq.send` / `elicitInput` / `requestSampling`.
_CONTEXT_REQUESTS = {
    ("sendRequest",): "a response (a server-to-client request)",
    ("mcpReq", "send"): "a response (a server-to-client request)",
    ("mcpReq", "elicitInput"): "elicitation",
    ("mcpReq", "requestSampling"): "sampling",
}


def check(module: TsModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path) or not imports_sdk(module):
        return
    message = (
        "`{call}()` asks the client for {kind} over a back-channel that a stateless server does not have; on "
        "2026-07-28 return an `InputRequiredResult` (`inputRequests`) with a signed `requestState` and finish when "
        "the client retries with `inputResponses` (SDK v2: `createRequestStateCodec`)"
    )
    for call in module.walk("call_expression"):
        function = call.child_by_field_name("function")
        if function is None or function.type != "member_expression":
            continue
        prop = function.child_by_field_name("property")
        method = module.source(prop) if prop is not None else ""
        receiver = function.child_by_field_name("object")
        if method in _SERVER_REQUESTS and _is_server_receiver(module, receiver):
            yield Diagnostic(
                "MCP203", module.span(call), message.format(call=module.source(function), kind=_SERVER_REQUESTS[method])
            )
    reported: set[int] = set()  # a helper nested in a handler is walked twice
    for scope in request_scopes(module):
        for call in module.descendants(scope.function, "call_expression"):
            function = call.child_by_field_name("function")
            kind = _CONTEXT_REQUESTS.get(context_path(module, scope, function) or ())
            if kind is not None and function is not None and call.id not in reported:
                reported.add(call.id)
                yield Diagnostic("MCP203", module.span(call), message.format(call=module.source(function), kind=kind))


def _is_server_receiver(module: TsModule, receiver: Node | None) -> bool:
    """`server.server` (McpServer's low-level server), or an SDK server object itself."""
    node = unwrap(receiver)
    if node is None:
        return False
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        if prop is not None and module.source(prop) == "server":
            return True
    return is_mcp_server(module, node)

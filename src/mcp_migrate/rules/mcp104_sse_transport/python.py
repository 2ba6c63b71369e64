"""MCP104 for Python: the legacy HTTP+SSE transport."""

from __future__ import annotations

import os
from collections.abc import Iterator

import libcst as cst

from ...lang.python import PythonModule, bool_value, edit_arguments, keyword, replace_string, string_value
from ...model import Diagnostic, Edit, Fix, FixSafety
from ...sdk import python_project
from ...sdk.python import SSE, SSE_SERVER_TRANSPORT, Sdk, Serve, Server, servers
from ...sdk.python_versions import Placement, placement

CODE = "MCP104"
_WHY = "which routes every message by session id and cannot run behind round-robin"
_SSE_ONLY_OPTIONS = ("sse_path", "message_path", "mount_path")
_HTTP_NAME = {
    Sdk.MCP_V1: "streamable-http",
    Sdk.MCP_V2: "streamable-http",
    Sdk.MCP_V2_LOWLEVEL: "streamable-http",  # (no `run(transport=...)`: never reached)
    Sdk.FASTMCP: "http",
}


def check(module: PythonModule) -> Iterator[Diagnostic]:
    for server in servers(module):
        for serve in server.serves:
            if serve.transports is None or SSE not in serve.transports:
                continue
            if serve.transports != {SSE}:
                message = f"{server.sdk.value} can be served over legacy HTTP+SSE (a run-time choice), {_WHY}"
                yield Diagnostic(CODE, module.span(serve.call), message)
                continue
            message = f"{server.sdk.value} is served over legacy HTTP+SSE (`{serve.method}`), {_WHY}"
            yield Diagnostic(CODE, module.span(serve.call), message, _fix(module, server, serve))
    for call in module.walk(cst.Call):
        if module.resolves_to(call.func, SSE_SERVER_TRANSPORT) or _repository_subclass(module, call):
            message = (
                f"`SseServerTransport` is the legacy HTTP+SSE transport, {_WHY}; "
                "serve `StreamableHTTPSessionManager(app, stateless=True)` instead"
            )
            yield Diagnostic(CODE, module.span(call), message)


def _repository_subclass(module: PythonModule, call: cst.Call) -> bool:
    """`TracedSse(...)` where `class TracedSse(SseServerTransport)` is in the repository."""
    project = python_project.current()
    if project is None or module.path is None or not isinstance(call.func, cst.Name):
        return False
    bases = project.sdk_bases(os.path.abspath(module.path), call.func.value)
    return not bases.isdisjoint(SSE_SERVER_TRANSPORT)


def _fix(module: PythonModule, server: Server, serve: Serve) -> Fix | None:
    """Move `run(transport="sse")` to stateless Streamable HTTP, when nothing else is SSE-only."""
    arg = serve.transport_arg
    if arg is None or string_value(arg.value) is None:
        return None  # sse_app(), run_sse_async(): the caller mounts or awaits it, see the remedy
    if any(keyword(serve.call, option) is not None for option in _SSE_ONLY_OPTIONS):
        return None
    where = placement(server.candidates.lines, [serve.method])
    if where is None:
        return None  # the releases it may run on disagree on where `stateless_http` goes
    edits: list[Edit] = [replace_string(module, arg.value, _HTTP_NAME[server.sdk])]
    target = server.ctor if where is Placement.CONSTRUCTOR else serve.call
    if target is None:
        return None  # the constructor is in another module
    flag = keyword(target, "stateless_http")
    if flag is None:
        if any(a.star == "**" for a in target.args):
            return None
        edits += edit_arguments(module, target, append=["stateless_http=True"])
    elif bool_value(flag.value) is not True:
        if bool_value(flag.value) is None:
            return None
        edits.append(Edit(module.start(flag.value), module.end(flag.value), "True"))
    return Fix(
        FixSafety.UNSAFE,
        f"Serve stateless Streamable HTTP instead (transport {_HTTP_NAME[server.sdk]!r}); "
        "the endpoint moves from /sse and /messages/ to /mcp: update clients and proxies",
        tuple(edits),
    )

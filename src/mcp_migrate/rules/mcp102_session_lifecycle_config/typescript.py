"""MCP102 for TypeScript/JavaScript: session lifecycle hooks on a transport, and DELETE handlers
that end sessions."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.typescript import Node, TsModule
from ...model import Diagnostic
from ...sdk.typescript import SESSION_HOOKS
from .._typescript import Route, header_reads, route_handlers, session_only_settings, session_routing


def check(module: TsModule) -> Iterator[Diagnostic]:
    yield from session_only_settings(module, "MCP102", SESSION_HOOKS, "runs when a protocol session starts or ends")
    yield from _delete_handlers(module)


def _delete_handlers(module: TsModule) -> Iterator[Diagnostic]:
    """A DELETE route whose handler reads the session header terminates sessions. One that looks
    the session up in a map is MCP105's (its rewrite answers 405); the others are reported here."""
    routing = {r.function.id for r in session_routing(module) if r.function is not None}
    handlers = route_handlers(module)
    reported: set[int] = set()
    for read in header_reads(module):
        function = _delete_handler(read, handlers)
        if function is None or function.id in routing or function.id in reported:
            continue
        reported.add(function.id)
        paths = sorted({r.path for r in handlers[function.id] if r.path})
        where = f"DELETE {', '.join(paths)}" if paths else "DELETE"
        yield Diagnostic(
            "MCP102",
            module.span(read),
            f"the {where} handler ends protocol sessions (it reads `Mcp-Session-Id`): a stateless server has none "
            "to end; answer DELETE with 405 Method Not Allowed",
        )


def _delete_handler(node: Node, handlers: dict[int, list[Route]]) -> Node | None:
    parent = node.parent
    while parent is not None:
        routes = handlers.get(parent.id)
        if routes is not None:
            return parent if all(r.method == "delete" for r in routes) else None
        parent = parent.parent
    return None

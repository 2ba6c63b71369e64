"""MCP103 for TypeScript/JavaScript: event stores and retry intervals on a transport, and
handlers that read `Last-Event-ID` to resume a stream."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.typescript import TsModule
from ...model import Diagnostic
from ...sdk.typescript import RESUMABILITY, header_reads, sse_transports, streamable_transports
from .._typescript import session_only_settings

CODE = "MCP103"


def check(module: TsModule) -> Iterator[Diagnostic]:
    yield from session_only_settings(module, CODE, RESUMABILITY, "serves SSE stream resumability")
    # Only in a file that serves MCP: elsewhere `Last-Event-ID` may be any SSE endpoint's.
    if not streamable_transports(module) and not sse_transports(module):
        return
    for read in header_reads(module, "last-event-id"):
        yield Diagnostic(
            CODE,
            module.span(read),
            "reads `Last-Event-ID` to resume an SSE stream: 2026-07-28 removed resumability, so clients "
            "re-issue a broken request instead; ignore the header (work that must survive a broken "
            "connection belongs in a task)",
        )

"""MCP103 for TypeScript/JavaScript: event stores and retry intervals on a transport."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.typescript import TsModule
from ...model import Diagnostic
from ...sdk.typescript import RESUMABILITY
from .._typescript import session_only_settings


def check(module: TsModule) -> Iterator[Diagnostic]:
    yield from session_only_settings(module, "MCP103", RESUMABILITY, "serves SSE stream resumability")

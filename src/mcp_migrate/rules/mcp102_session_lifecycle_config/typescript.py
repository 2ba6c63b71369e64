"""MCP102 for TypeScript/JavaScript: session lifecycle hooks on a transport."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.typescript import TsModule
from ...model import Diagnostic
from ...sdk.typescript import SESSION_HOOKS
from .._typescript import session_only_settings


def check(module: TsModule) -> Iterator[Diagnostic]:
    yield from session_only_settings(module, "MCP102", SESSION_HOOKS, "runs when a protocol session starts or ends")

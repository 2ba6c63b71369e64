"""MCP102 for Python: session idle timeouts and session caps."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.python import PythonModule
from ...model import Diagnostic
from ...sdk.python import SESSION_KEYWORDS
from .._python import session_only_settings


def check(module: PythonModule) -> Iterator[Diagnostic]:
    yield from session_only_settings(module, "MCP102", SESSION_KEYWORDS, "manages protocol sessions")

"""MCP103 for Python: event stores and retry intervals for resumable SSE streams."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.python import PythonModule
from ...model import Diagnostic
from ...sdk.python import RESUMABILITY_KEYWORDS
from .._python import session_only_settings


def check(module: PythonModule) -> Iterator[Diagnostic]:
    yield from session_only_settings(
        module, "MCP103", RESUMABILITY_KEYWORDS, "configures SSE stream resumability, removed in 2026-07-28"
    )

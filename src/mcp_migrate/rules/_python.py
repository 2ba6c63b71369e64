"""Helpers shared by the Python checkers of several rules."""

from __future__ import annotations

from collections.abc import Iterator

from ..lang.python import PythonModule, edit_arguments
from ..model import Diagnostic, Fix, FixSafety
from ..sdk.python import Mode, SessionConfig, session_configs, session_only_arguments


def session_only_settings(
    module: PythonModule, code: str, names: tuple[str, ...], purpose: str
) -> Iterator[Diagnostic]:
    """Report keyword arguments that only matter while sessions are on (MCP102, MCP103).

    They are removed safely where the endpoint is already stateless or never served over
    HTTP; on a stateful HTTP endpoint the MCP101 fix removes them with the flag.
    """
    for config in session_configs(module):
        for arg in session_only_arguments(config.call, names):
            name = arg.keyword.value if arg.keyword else "?"
            message = f"`{name}` only {purpose}: dead configuration once sessions are off"
            fix = None
            if config.mode is Mode.STATELESS or _never_http(config):
                edits = edit_arguments(module, config.call, remove=[arg])
                fix = Fix(FixSafety.SAFE, f"Remove `{name}`", tuple(edits))
            elif config.mode is Mode.STATEFUL and config.serves_http:
                message += " (MCP101's fix removes it)"
            yield Diagnostic(code, module.span(arg), message, fix)


def _never_http(config: SessionConfig) -> bool:
    """A server whose every serving call in the module is known and is not HTTP."""
    server = config.server
    return server is not None and bool(server.serves) and not config.serves_http

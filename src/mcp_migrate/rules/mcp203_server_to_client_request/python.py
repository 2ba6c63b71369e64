"""MCP203 for Python: sampling, elicitation and roots requests from a handler."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ...lang import is_test_file
from ...lang.python import PythonModule
from ...model import Diagnostic
from ...sdk.python_handlers import context_path, request_scopes, within

_SAMPLING = "sampling"
_ELICITATION = "elicitation"
_ROOTS = "roots"
_REQUESTS = {
    ("session", "create_message"): _SAMPLING,
    ("sample",): _SAMPLING,
    ("sample_step",): _SAMPLING,
    ("session", "elicit"): _ELICITATION,
    ("session", "elicit_form"): _ELICITATION,
    ("session", "elicit_url"): _ELICITATION,
    ("elicit",): _ELICITATION,
    ("elicit_url",): _ELICITATION,
    ("session", "list_roots"): _ROOTS,
    ("list_roots",): _ROOTS,
    ("session", "send_request"): "a reply to a raw request",
}
_REMEDY = {
    _SAMPLING: "resolve it with `Resolve(...)` returning `Sample(...)` (mcp 2), or return an `InputRequiredResult`",
    _ELICITATION: "resolve it with `Resolve(...)` returning `Elicit(...)` (mcp 2), or return an `InputRequiredResult`",
    _ROOTS: "resolve it with `Resolve(...)` returning `ListRoots()` (mcp 2), or take the paths as tool arguments",
}


def check(module: PythonModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path):
        return
    for scope in request_scopes(module):
        for call in within(module, scope.function, cst.Call):
            if not isinstance(call.func, cst.Attribute):
                continue
            kind = _REQUESTS.get(context_path(module, scope, call.func) or ("",))
            if kind is None:
                continue
            remedy = _REMEDY.get(kind, "return an `InputRequiredResult` and continue when the client retries")
            yield Diagnostic(
                "MCP203",
                module.span(call),
                f"`{module.source(call.func)}()` asks the client for {kind} over a back-channel that stateless "
                f"servers do not have (mcp 2 raises NoBackChannelError); on 2026-07-28 use a multi round-trip "
                f"request: {remedy}, with `request_state` carrying what the tool needs to resume",
            )

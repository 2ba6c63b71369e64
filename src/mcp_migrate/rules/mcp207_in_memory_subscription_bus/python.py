"""MCP207 for Python: change notifications published on mcp 2.x's in-process bus."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ...lang import is_test_file
from ...lang.python import PythonModule, keyword
from ...model import Diagnostic
from ...sdk.python import servers, stdio_only
from ...sdk.python_handlers import context_path, request_scopes, scope_of
from ...sdk.python_versions import Sdk

_NOTIFY = frozenset(
    {"notify_tools_changed", "notify_prompts_changed", "notify_resources_changed", "notify_resource_updated"}
)
_IN_MEMORY = frozenset({"mcp.server.subscriptions.InMemorySubscriptionBus"})


def check(module: PythonModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path):
        return
    published = _notifications(module)
    if not published or stdio_only(module):
        return
    for server in servers(module):
        ctor = server.ctor
        if ctor is None or server.sdk is not Sdk.MCP_V2:
            continue
        if not any(line.subscription_bus for line in server.candidates.lines):
            continue
        bus = keyword(ctor, "subscriptions")
        value = bus.value if bus is not None else None
        if isinstance(value, cst.Name) and value.value != "None":
            value = module.binding_value(value) or value
        in_memory = (
            value is None
            or (isinstance(value, cst.Name) and value.value == "None")
            or (isinstance(value, cst.Call) and module.resolves_to(value.func, _IN_MEMORY))
        )
        if not in_memory:
            continue
        first = published[0]
        how = "an in-process bus" if bus is not None else "the default `InMemorySubscriptionBus` (no `subscriptions=`)"
        yield Diagnostic(
            "MCP207",
            module.span(ctor),
            f"{server.label} publishes change notifications (`{module.source(first.func)}()`, line "
            f"{module.span(first).line}{_more(published)}) on {how}: a `subscriptions/listen` stream held by another "
            "replica never hears of the change; pass `subscriptions=` a bus over shared pub/sub (Redis, NATS; "
            "`mcp-migrate scaffold server` writes one: shared_bus.py)",
        )


def _notifications(module: PythonModule) -> list[cst.Call]:
    request_scopes(module)  # resolves contexts before scope_of() reads them
    found = []
    for call in module.walk(cst.Call):
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _NOTIFY:
            scope = scope_of(module, call)
            if scope is not None and context_path(module, scope, func) == (func.attr.value,):
                found.append(call)
    return found


def _more(published: list[cst.Call]) -> str:
    return f", and {len(published) - 1} more" if len(published) > 1 else ""

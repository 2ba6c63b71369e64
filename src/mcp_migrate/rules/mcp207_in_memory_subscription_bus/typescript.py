"""MCP207 for TypeScript/JavaScript: SDK v2 change notifications on the handler's in-process bus."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang import is_test_file
from ...lang.typescript import Node, TsModule, call_arguments, object_properties, property_value
from ...model import Diagnostic
from ...sdk.typescript_handlers import imports_sdk

_PACKAGES = ("@modelcontextprotocol/server", "@modelcontextprotocol/core")
_NOTIFY = frozenset({"toolsChanged", "promptsChanged", "resourcesChanged", "resourceUpdated"})


def check(module: TsModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path) or not imports_sdk(module):
        return
    notified = [call for call in module.walk("call_expression") if _notifies(module, call)]
    if not notified:
        return
    first = notified[0]
    for call in module.walk("call_expression"):
        found = module.imported(call.child_by_field_name("function"))
        if found is None or found[0] not in _PACKAGES or found[1] != "createMcpHandler":
            continue
        if not _in_memory_bus(module, call):
            continue
        shown = module.source(first.child_by_field_name("function") or first)
        yield Diagnostic(
            "MCP207",
            module.span(call),
            f"the handler publishes change notifications (`{shown}()`, line {module.span(first).line}) on its "
            "in-process bus (`InMemoryServerEventBus`, the default without a `bus` option): "
            "a `subscriptions/listen` stream held by another replica never hears of the change; pass "
            "`createMcpHandler(factory, { bus })` a `ServerEventBus` over shared pub/sub (Redis, NATS)",
        )


def _notifies(module: TsModule, call: Node) -> bool:
    """`x.notify.toolsChanged()` and the like."""
    function = call.child_by_field_name("function")
    if function is None or function.type != "member_expression":
        return False
    receiver = function.child_by_field_name("object")
    method = function.child_by_field_name("property")
    if receiver is None or method is None or module.source(method) not in _NOTIFY:
        return False
    return (
        receiver.type == "member_expression"
        and module.source(receiver.child_by_field_name("property") or receiver) == "notify"
    )


def _in_memory_bus(module: TsModule, call: Node) -> bool:
    arguments = call_arguments(call)
    options = module.resolve(arguments[1]) if len(arguments) > 1 else None
    if options is None:
        return True
    if options.type != "object":
        return False  # built elsewhere: not known
    for name, prop in object_properties(module, options):
        if name is None:
            return False  # a spread may carry a bus
        if name == "bus":
            value = module.resolve(property_value(prop))
            if value is None or value.type != "new_expression":
                return False
            constructor = module.imported(value.child_by_field_name("constructor"))
            return constructor is not None and constructor[1] == "InMemoryServerEventBus"
    return True

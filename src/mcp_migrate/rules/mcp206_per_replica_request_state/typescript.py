"""MCP206 for TypeScript/JavaScript: SDK v2's request-state codec keyed per process.

`createRequestStateCodec({ key })` HMAC-signs the `requestState` of multi round-trip calls;
a retry that reaches another replica is verified there, so the key must be the same on every
replica: a key generated at start (`randomBytes(32)`, `crypto.getRandomValues(...)`,
`randomUUID()`) fails every retry that changes replica.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...lang import is_test_file
from ...lang.typescript import Node, TsModule, call_arguments, object_properties, property_value
from ...model import Diagnostic
from ...sdk.typescript_handlers import imports_sdk

_SERVER_PACKAGES = ("@modelcontextprotocol/server", "@modelcontextprotocol/core")
# Functions whose value differs from one process to the next (by name, wherever they come from:
# node:crypto, the Web Crypto global, uuid, nanoid).
_RANDOM = frozenset({"randomBytes", "getRandomValues", "randomUUID", "random", "v4", "uuidv4", "nanoid"})


def check(module: TsModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path) or not imports_sdk(module):
        return
    for call in module.walk("call_expression"):
        found = module.imported(call.child_by_field_name("function"))
        if found is None or found[0] not in _SERVER_PACKAGES or found[1] != "createRequestStateCodec":
            continue
        arguments = call_arguments(call)
        options = module.resolve(arguments[0]) if arguments else None
        if options is None or options.type != "object":
            continue
        for name, prop in object_properties(module, options):
            if name != "key":
                continue
            generated = _generated(module, property_value(prop))
            if generated is not None:
                yield Diagnostic(
                    "MCP206",
                    module.span(prop),
                    f"the request-state codec's key is generated at start (`{generated}`), so it differs on every "
                    "replica: a multi round-trip retry that reaches another replica fails verification; read the "
                    "key (32 bytes or more) from configuration every replica shares, e.g. "
                    "`process.env.MCP_REQUEST_STATE_KEY` from a Secret",
                )


def _generated(module: TsModule, value: Node | None) -> str | None:
    """The call that makes the key up, in `value` or in what its identifiers were assigned."""
    node = module.resolve(value)
    if node is None:
        return None
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "call_expression":
            function = current.child_by_field_name("function")
            name = (
                function.child_by_field_name("property")
                if function and function.type == "member_expression"
                else function
            )
            if name is not None and module.source(name) in _RANDOM:
                return " ".join(module.source(current).split())
        if current.type == "identifier" and current is not node:
            resolved = module.resolve(current)
            if resolved is not None and resolved is not current:
                stack.append(resolved)
                continue
        stack.extend(current.named_children)
    return None

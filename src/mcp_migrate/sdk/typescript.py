"""The TypeScript MCP SDKs as rules see them: which imports are which, and what a transport's
options mean.

v1 is `@modelcontextprotocol/sdk` (subpath imports such as `.../server/streamableHttp.js`);
v2 split it into `@modelcontextprotocol/server`, `/node`, `/express`, ... with the same
transport options. Cloudflare's `agents/mcp` wraps the same transport in `createMcpHandler`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..lang.typescript import Node, TsModule, call_arguments, object_properties, property_value, unwrap

SDK_SCOPE = "@modelcontextprotocol/"
CLOUDFLARE_AGENTS = ("agents/mcp",)

STREAMABLE_TRANSPORTS = frozenset(
    {"StreamableHTTPServerTransport", "NodeStreamableHTTPServerTransport", "WebStandardStreamableHTTPServerTransport"}
)
SSE_TRANSPORTS = frozenset({"SSEServerTransport"})
SERVER_CLASSES = frozenset({"McpServer", "Server"})

# Transport options that only mean something while sessions exist.
SESSION_HOOKS = ("onsessioninitialized", "onsessionclosed")
RESUMABILITY = ("eventStore", "retryInterval")


def from_sdk(found: tuple[str, str] | None, names: frozenset[str] | set[str]) -> bool:
    """True when an `imported()` result is one of `names` exported by an MCP SDK package."""
    if found is None or found[1] not in names:
        return False
    return found[0].startswith(SDK_SCOPE)


def from_agents(found: tuple[str, str] | None, name: str) -> bool:
    return found is not None and found[1] == name and found[0] in CLOUDFLARE_AGENTS


@dataclass(frozen=True)
class TransportOptions:
    """A streamable HTTP transport construction and where its options were written."""

    call: Node  # the `new X(...)` / `createMcpHandler(...)` expression
    kind: str  # the class or function name, for messages
    options: Node | None  # the object literal that holds the options (followed through a variable)
    inline: bool  # the object literal is the call's own argument, not a shared variable

    def properties(self, module: TsModule) -> dict[str, Node]:
        """Options by key, own properties over spread ones (last one wins, as at run time)."""
        return dict(_flattened(module, self.options, 0)) if self.options is not None else {}


def _flattened(module: TsModule, obj: Node, depth: int) -> Iterator[tuple[str, Node]]:
    for key, prop in object_properties(module, obj):
        if key is not None:
            yield key, prop
        elif prop.type == "spread_element" and depth < 3:
            spread = module.resolve(prop.named_children[0]) if prop.named_children else None
            if spread is not None and spread.type == "object":
                yield from _flattened(module, spread, depth + 1)


def streamable_transports(module: TsModule) -> list[TransportOptions]:
    """Every streamable HTTP transport (or handler that builds one) created in the file."""
    return module.memo(_streamable_transports, "ts.streamable_transports")


def _streamable_transports(module: TsModule) -> list[TransportOptions]:
    found = []
    for node in module.walk("new_expression"):
        imported = module.imported(node.child_by_field_name("constructor"))
        if from_sdk(imported, STREAMABLE_TRANSPORTS):
            assert imported is not None
            found.append(_options(module, node, imported[1], 0))
    for node in module.walk("call_expression"):
        imported = module.imported(node.child_by_field_name("function"))
        if from_agents(imported, "createMcpHandler"):
            found.append(_options(module, node, "createMcpHandler", 1))
    return found


def _options(module: TsModule, call: Node, kind: str, position: int) -> TransportOptions:
    args = call_arguments(call)
    if len(args) <= position:
        return TransportOptions(call, kind, None, True)
    written = unwrap(args[position])
    value = module.resolve(written)
    if value is not None and value.type == "object":
        return TransportOptions(call, kind, value, value == written)
    return TransportOptions(call, kind, None, True)


def generator_value(module: TsModule, prop: Node) -> Node | None:
    """The expression a `sessionIdGenerator` property sets (a shorthand's identifier followed)."""
    value = property_value(prop)
    if prop.type == "shorthand_property_identifier":
        return module.resolve(prop) or prop
    return unwrap(value)


def is_undefined(module: TsModule, node: Node | None) -> bool:
    node = unwrap(node)
    if node is None:
        return False
    if node.type == "undefined":
        return True
    if node.type == "unary_expression" and module.source(node).replace(" ", "") == "void0":
        return True
    return node.type == "identifier" and module.source(node) == "undefined"

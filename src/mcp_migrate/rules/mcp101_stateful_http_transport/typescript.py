"""MCP101 for TypeScript/JavaScript: streamable HTTP transports that mint session ids."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.typescript import TsModule
from ...model import Diagnostic, Fix, FixSafety
from ...sdk.typescript import from_agents
from .._typescript import session_routing, transports, turn_sessions_off


def check(module: TsModule) -> Iterator[Diagnostic]:
    routing = session_routing(module)
    for transport in transports(module):
        if not transport.stateful:
            continue
        assert transport.generator is not None
        kind = transport.options.kind
        message = f"`{kind}` mints an Mcp-Session-Id (`sessionIdGenerator` is set)"
        if transport.conditional:
            message = f"`{kind}` mints an Mcp-Session-Id unless its condition turns `sessionIdGenerator` off"
        fix = None
        if routing:
            line = module.span(routing[0].anchor).line
            message += (
                f"; not fixed alone: the file routes requests by session id (MCP105, line {line}), and turning "
                "the generator off alone would answer every request after initialize with 400"
            )
        else:
            safety = FixSafety.UNSAFE if transport.conditional else FixSafety.SAFE
            fix = Fix(safety, "Set `sessionIdGenerator: undefined` (stateless)", turn_sessions_off(module, transport))
        yield Diagnostic("MCP101", module.span(transport.generator), message, fix)
    yield from _cloudflare(module)


def _cloudflare(module: TsModule) -> Iterator[Diagnostic]:
    """Cloudflare Agents' sessionful entry points: reported with the stateless replacement."""
    for call in module.walk("call_expression"):
        if from_agents(module.imported(call.child_by_field_name("function")), "createLegacyMcpHandler"):
            yield Diagnostic(
                "MCP101",
                module.span(call),
                "`createLegacyMcpHandler` keeps legacy sessions in the Worker; serve with `createMcpHandler` "
                "from `agents/mcp/server` (stateless, answers legacy clients per request)",
            )
    for heritage in module.walk("class_heritage"):
        for value in heritage.named_children:
            target = value.named_children[0] if value.type == "extends_clause" and value.named_children else value
            if from_agents(module.imported(target), "McpAgent"):
                yield Diagnostic(
                    "MCP101",
                    module.span(target),
                    "`McpAgent` pins every session to one Durable Object; move per-session state into "
                    "explicit handles or storage and serve with `createMcpHandler` from `agents/mcp/server`",
                )

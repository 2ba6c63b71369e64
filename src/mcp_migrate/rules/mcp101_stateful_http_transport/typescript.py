"""MCP101 for TypeScript/JavaScript: streamable HTTP transports that mint session ids."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.typescript import TsModule
from ...model import Diagnostic, Fix, FixSafety
from ...sdk.typescript import created_per_request, from_agents
from .._typescript import Transport, session_routing, transports, turn_sessions_off

CODE = "MCP101"
_PINNED = "every client is pinned to the replica that holds its session"


def check(module: TsModule) -> Iterator[Diagnostic]:
    routing = session_routing(module)
    seen: set[int] = set()
    for transport in transports(module):
        if not transport.stateful:
            continue
        assert transport.generator is not None
        if transport.generator.id in seen:  # one options object shared by several transports
            continue
        seen.add(transport.generator.id)
        kind = transport.options.kind
        message = f"`{kind}` mints an Mcp-Session-Id (`sessionIdGenerator` is set): {_PINNED}"
        if transport.conditional:
            message = (
                f"`{kind}` mints an Mcp-Session-Id unless its condition turns `sessionIdGenerator` off: "
                f"by default {_PINNED}"
            )
        fix = None
        if routing:
            line = module.span(routing[0].anchor).line
            message += (
                f"; not fixed alone: the file routes requests by session id (MCP105, line {line}), and turning "
                "the generator off alone would answer every request after initialize with 400"
            )
        elif not created_per_request(module, transport.options):
            message += (
                "; not fixed: nothing shows the transport is created per request, and a stateless transport "
                "serves a single request (the SDK throws when one is reused): create the server and transport in "
                "the request handler, as the SDK's stateless example does"
            )
        else:
            safety, caveat = _safety(module, transport)
            description = "Set `sessionIdGenerator: undefined` (stateless)" + caveat
            fix = Fix(safety, description, turn_sessions_off(module, transport))
        yield Diagnostic(CODE, module.span(transport.generator), message, fix)
    yield from _cloudflare(module)


def _safety(module: TsModule, transport: Transport) -> tuple[FixSafety, str]:
    if transport.conditional:
        return FixSafety.UNSAFE, " (the condition's stateful branch goes away)"
    if transport.options.kind == "WorkerTransport" and "storage" in transport.options.properties(module):
        # Cloudflare's stateful pattern: the session id names the Durable Object the Worker
        # routes to, and the transport state is persisted there.
        return FixSafety.UNSAFE, " (the session id may also name the Durable Object the Worker routes to)"
    return FixSafety.SAFE, ""


def _cloudflare(module: TsModule) -> Iterator[Diagnostic]:
    """Cloudflare Agents' sessionful entry points: reported with the stateless replacement."""
    for call in module.walk("call_expression"):
        if from_agents(module.imported(call.child_by_field_name("function")), "createLegacyMcpHandler"):
            yield Diagnostic(
                CODE,
                module.span(call),
                "`createLegacyMcpHandler` keeps legacy sessions in the Worker; serve with `createMcpHandler` "
                "from `agents/mcp/server` (stateless, answers legacy clients per request)",
            )
    for heritage in module.walk("class_heritage"):
        for value in heritage.named_children:
            target = value.named_children[0] if value.type == "extends_clause" and value.named_children else value
            if from_agents(module.imported(target), "McpAgent"):
                yield Diagnostic(
                    CODE,
                    module.span(target),
                    "`McpAgent` pins every session to one Durable Object; move per-session state into "
                    "explicit handles or storage and serve with `createMcpHandler` from `agents/mcp/server`",
                )

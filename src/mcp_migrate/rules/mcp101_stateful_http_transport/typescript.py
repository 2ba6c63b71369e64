"""MCP101 for TypeScript/JavaScript: streamable HTTP transports that mint session ids."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.typescript import Node, TsModule, object_properties, property_value, string_value, unwrap
from ...model import Diagnostic, Edit, Fix, FixSafety
from ...sdk.typescript import (
    FASTMCP_HTTP,
    FASTMCP_STATELESS,
    FASTMCP_STATELESS_ENV,
    V2_SERVER_PACKAGES,
    created_per_request,
    from_agents,
    from_fastmcp,
)
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
        if _from_v2(module, transport):
            message += (
                "; with SDK v2, `createMcpHandler(factory)` serves 2025 clients per request "
                "(`legacy: 'stateless'`, the default) next to 2026-07-28 ones"
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
    yield from _fastmcp_framework(module)


def _from_v2(module: TsModule, transport: Transport) -> bool:
    call = transport.options.call
    found = module.imported(call.child_by_field_name("constructor")) if call.type == "new_expression" else None
    return found is not None and found[0] in V2_SERVER_PACKAGES


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


def _fastmcp_framework(module: TsModule) -> Iterator[Diagnostic]:
    """The TypeScript `fastmcp` framework: `server.start({ transportType: "httpStream" })`
    keeps a session per client unless `httpStream.stateless` is true."""
    for call in module.walk("call_expression"):
        function = call.child_by_field_name("function")
        if function is None or function.type != "member_expression":
            continue
        prop = function.child_by_field_name("property")
        if (
            prop is None
            or module.source(prop) != "start"
            or not _is_fastmcp(module, function.child_by_field_name("object"))
        ):
            continue
        args = call.child_by_field_name("arguments")
        options = unwrap(args.named_children[0]) if args is not None and args.named_children else None
        if options is None or options.type != "object":
            continue
        values = {k: property_value(v) for k, v in object_properties(module, options)}
        if string_value(module, values.get("transportType")) != FASTMCP_HTTP:
            continue
        http = unwrap(values.get(FASTMCP_HTTP))
        flag = (
            {k: property_value(v) for k, v in object_properties(module, http)}.get(FASTMCP_STATELESS)
            if http is not None and http.type == "object"
            else None
        )
        flag = unwrap(flag)
        if flag is not None and module.source(flag) != "false":
            continue  # `stateless: true`, or a value decided at run time
        message = (
            f"`{module.source(function)}()` serves `{FASTMCP_HTTP}` with a session per client (fastmcp keeps "
            f"sessions unless `{FASTMCP_HTTP}.{FASTMCP_STATELESS}` is true): {_PINNED}"
        )
        fix = None
        if flag is not None:
            fix = Fix(
                FixSafety.SAFE,
                f"Set `{FASTMCP_STATELESS}: true`",
                (Edit(module.start(flag), module.end(flag), "true"),),
            )
        elif http is not None and http.type == "object":
            fix = Fix(
                FixSafety.SAFE,
                f"Add `{FASTMCP_STATELESS}: true`",
                _add_property(module, http, f"{FASTMCP_STATELESS}: true"),
            )
        else:
            message += (
                f"; not fixed: there is no `{FASTMCP_HTTP}` object to add it to (its `port` is required): add "
                f"`{FASTMCP_HTTP}: {{ port, {FASTMCP_STATELESS}: true }}` or run with {FASTMCP_STATELESS_ENV}=true"
            )
        anchor = flag if flag is not None else values.get("transportType") or call
        yield Diagnostic(CODE, module.span(anchor), message, fix)


def _is_fastmcp(module: TsModule, receiver: Node | None) -> bool:
    value = module.resolve(receiver)
    if value is None or value.type != "new_expression":
        return False
    return from_fastmcp(module.imported(value.child_by_field_name("constructor")))


def _add_property(module: TsModule, obj: Node, text: str) -> tuple[Edit, ...]:
    """Append a property to an object literal, on a line of its own when the others are."""
    members = [c for c in obj.named_children if c.type != "comment"]
    if not members:
        return (Edit(module.start(obj) + 1, module.end(obj) - 1, f" {text} "),)
    last = members[-1]
    after = module.end(last)
    comma = module.text[after : module.end(obj)].lstrip().startswith(",")
    if "\n" in module.source(obj):
        line_start = module.lines.line_start(module.start(last))
        indent = module.text[line_start : module.start(last)]
        if comma:
            end = after + module.text[after:].index(",") + 1
            return (Edit(end, end, f"\n{indent}{text},"),)
        return (Edit(after, after, f",\n{indent}{text}"),)
    if comma:
        end = after + module.text[after:].index(",") + 1
        return (Edit(end, end, f" {text},"),)
    return (Edit(after, after, f", {text}"),)

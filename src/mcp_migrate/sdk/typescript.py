"""The TypeScript MCP SDKs as rules see them: which imports are which, and what a transport's
options mean.

v1 is `@modelcontextprotocol/sdk` (subpath imports such as `.../server/streamableHttp.js`);
v2 split it into `@modelcontextprotocol/server`, `/node`, `/express`, ... with the same
transport options, and froze the SSE transport in `@modelcontextprotocol/server-legacy/sse`.
Cloudflare's `agents/mcp` wraps the same transport in `WorkerTransport` and `createMcpHandler`
(its stateless successor, `agents/mcp/server`, takes no session options).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..lang.typescript import (
    Node,
    TsModule,
    call_arguments,
    enclosing_function,
    object_properties,
    property_value,
    string_value,
    unwrap,
)

SDK_SCOPE = "@modelcontextprotocol/"
# SDK v2's split packages that export server transports; `createMcpHandler` there is stateless.
V2_SERVER_PACKAGES = frozenset({"@modelcontextprotocol/server", "@modelcontextprotocol/node"})
CLOUDFLARE_AGENTS = ("agents/mcp",)

STREAMABLE_TRANSPORTS = frozenset(
    {"StreamableHTTPServerTransport", "NodeStreamableHTTPServerTransport", "WebStandardStreamableHTTPServerTransport"}
)
SSE_TRANSPORTS = frozenset({"SSEServerTransport"})
STDIO_TRANSPORTS = frozenset({"StdioServerTransport"})
AGENTS_TRANSPORTS = frozenset({"WorkerTransport"})  # agents/mcp: the SDK transport plus DO storage
SERVER_CLASSES = frozenset({"McpServer", "Server"})

# Transport options that only mean something while sessions exist.
SESSION_HOOKS = ("onsessioninitialized", "onsessionclosed")
RESUMABILITY = ("eventStore", "retryInterval")


# The TypeScript `fastmcp` framework (npm `fastmcp`, punkpeye/fastmcp; not the Python one):
# `server.start({ transportType: "httpStream", httpStream: { port, stateless } })` keeps a
# session per client unless `httpStream.stateless` is true (or `--stateless true` /
# FASTMCP_STATELESS=true at run time). Measured on fastmcp 4.20.16's types and start-up code.
FASTMCP_PACKAGE = "fastmcp"
FASTMCP_SERVER = "FastMCP"
FASTMCP_HTTP = "httpStream"
FASTMCP_STATELESS = "stateless"
FASTMCP_STATELESS_ENV = "FASTMCP_STATELESS"


def from_fastmcp(found: tuple[str, str] | None) -> bool:
    return found is not None and found == (FASTMCP_PACKAGE, FASTMCP_SERVER)


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
        if from_sdk(imported, STREAMABLE_TRANSPORTS) or (
            imported is not None and imported[1] in AGENTS_TRANSPORTS and from_agents(imported, imported[1])
        ):
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


def created_per_request(module: TsModule, options: TransportOptions) -> bool:
    """The transport is built for one request: in the function that hands it the request
    (`transport.handleRequest(...)`), in a route or fetch handler, or in a factory only such
    functions call. `createMcpHandler` builds its own transport per request."""
    if options.kind == "createMcpHandler":
        return True
    function = enclosing_function(options.call)
    if function is None:
        return False
    if _serves_requests(module, function):
        return True
    name = _function_name(module, function)
    if name is None:
        return False
    callers = [enclosing_function(call) for call in module.walk("call_expression") if _callee(module, call) == name]
    return bool(callers) and all(caller is not None and _serves_requests(module, caller) for caller in callers)


def _serves_requests(module: TsModule, function: Node) -> bool:
    return function.id in _request_functions(module) or _is_route_handler(module, function)


def _request_functions(module: TsModule) -> frozenset[int]:
    """Ids of the functions that call `<transport>.handleRequest(...)` themselves."""

    def compute(module: TsModule) -> frozenset[int]:
        found = set()
        for call in module.walk("call_expression"):
            if _callee(module, call) == "handleRequest":
                function = enclosing_function(call)
                if function is not None:
                    found.add(function.id)
        return frozenset(found)

    return module.memo(compute, "ts.request_functions")


_ROUTE_METHODS = frozenset({"get", "post", "put", "delete", "patch", "all", "use", "on", "createServer"})


def _is_route_handler(module: TsModule, function: Node) -> bool:
    """`app.post("/mcp", fn)`, `http.createServer(fn)`, `fetch(request) {...}` / `fetch: fn`."""
    parent = function.parent
    if function.type == "method_definition":
        return module.name(function.child_by_field_name("name")) == "fetch"
    if parent is not None and parent.type == "pair":
        return module.name(parent.child_by_field_name("key")) == "fetch"
    if parent is not None and parent.type == "arguments" and parent.parent is not None:
        return _callee(module, parent.parent) in _ROUTE_METHODS
    return False


def _callee(module: TsModule, call: Node) -> str | None:
    """`f(...)` -> f, `a.b.f(...)` -> f, `this.f(...)` -> f."""
    function = call.child_by_field_name("function")
    if function is None:
        return None
    if function.type == "identifier":
        return module.source(function)
    if function.type == "member_expression":
        prop = function.child_by_field_name("property")
        return module.source(prop) if prop is not None else None
    return None


def _function_name(module: TsModule, function: Node) -> str | None:
    name = function.child_by_field_name("name")
    if name is not None:
        return module.name(name)
    parent = function.parent
    if parent is not None and parent.type == "variable_declarator":
        return module.name(parent.child_by_field_name("name"))
    return None


def generator_value(module: TsModule, prop: Node) -> Node | None:
    """The expression a `sessionIdGenerator` property sets, variables (and a shorthand's
    variable) followed to their initialiser: `const gen = undefined` is no generator."""
    if prop.type == "method_definition":
        return prop
    return module.resolve(property_value(prop)) or prop


def is_undefined(module: TsModule, node: Node | None) -> bool:
    """`undefined`, `void 0`, or a variable initialised with one of them."""
    node = module.resolve(node)
    if node is None:
        return False
    if node.type == "undefined":
        return True
    if node.type == "unary_expression" and module.source(node).replace(" ", "") == "void0":
        return True
    return node.type == "identifier" and module.source(node) == "undefined"


def sse_transports(module: TsModule) -> list[Node]:
    """`new SSEServerTransport(endpoint, res)` of the SDK (v1 `server/sse.js`, v2's frozen copy
    in `server-legacy/sse`)."""
    return module.memo(_sse_transports, "ts.sse_transports")


def _sse_transports(module: TsModule) -> list[Node]:
    return [
        node
        for node in module.walk("new_expression")
        if from_sdk(module.imported(node.child_by_field_name("constructor")), SSE_TRANSPORTS)
    ]


def imports_from_sdk(module: TsModule, names: frozenset[str]) -> bool:
    """The file imports one of `names` from an MCP SDK package (a type-only import counts: a
    file that routes messages to transports made elsewhere still names their type)."""
    return any(from_sdk(module.import_origin(local), names) for local in module.imports)


# -- HTTP request idioms ----------------------------------------------------------------------
_HEADER_GETTERS = ("get", "header")  # Node's `getHeader` reads the outgoing message


def header_reads(module: TsModule, header: str) -> list[Node]:
    """Reads of a request header, matched case-insensitively: `req.headers["last-event-id"]`,
    `req.header(...)` / `req.get(...)` (Express), `request.headers.get(...)` (fetch),
    `c.req.header(...)` (Hono). Writes (`headers[h] = v`) and object keys are not reads."""
    wanted = header.lower()
    found = []
    for literal in module.walk("string"):
        value = string_value(module, literal)
        if value is None or value.lower() != wanted:
            continue
        parent = literal.parent
        if parent is None:
            continue
        if parent.type == "subscript_expression" and parent.child_by_field_name("index") == literal:
            if not _is_assignment_target(parent):
                found.append(parent)
        elif parent.type == "arguments" and len(parent.named_children) == 1:
            call = parent.parent
            function = call.child_by_field_name("function") if call is not None else None
            if call is not None and function is not None and function.type == "member_expression":
                prop = function.child_by_field_name("property")
                if prop is not None and module.source(prop) in _HEADER_GETTERS:
                    found.append(call)
    return found


def query_param_reads(module: TsModule, name: str) -> list[Node]:
    """Reads of a URL query parameter: `req.query.sessionId`, `req.query["sessionId"]`
    (Express), `url.searchParams.get("sessionId")` (URL), `c.req.query("sessionId")` (Hono)."""
    found = []
    for node in module.walk("member_expression"):
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        named = prop is not None and module.source(prop) == name
        if named and _is_query_object(module, obj) and not _is_assignment_target(node):
            found.append(node)
    for node in module.walk("subscript_expression"):
        index = node.child_by_field_name("index")
        named = string_value(module, index) == name
        if named and _is_query_object(module, node.child_by_field_name("object")) and not _is_assignment_target(node):
            found.append(node)
    for call in module.walk("call_expression"):
        function = call.child_by_field_name("function")
        args = call_arguments(call)
        if function is None or function.type != "member_expression" or len(args) != 1:
            continue
        if string_value(module, args[0]) != name:
            continue
        prop = function.child_by_field_name("property")
        obj = function.child_by_field_name("object")
        method = module.source(prop) if prop is not None else ""
        searched = method == "get" and obj is not None and _last_name(module, obj) == "searchParams"
        if searched or method == "query":  # URL, or Hono's c.req.query("sessionId")
            found.append(call)
    return sorted(found, key=lambda n: n.start_byte)


def _is_query_object(module: TsModule, node: Node | None) -> bool:
    node = unwrap(node)
    return node is not None and _last_name(module, node) == "query"


def _last_name(module: TsModule, node: Node) -> str | None:
    node = unwrap(node) or node
    if node.type == "identifier":
        return module.source(node)
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return module.source(prop) if prop is not None else None
    return None


def _is_assignment_target(node: Node) -> bool:
    parent = node.parent
    return (
        parent is not None
        and parent.type in ("assignment_expression", "augmented_assignment_expression")
        and parent.child_by_field_name("left") == node
    )


def stdio_only(module: TsModule) -> bool:
    """The file serves MCP over stdio and nothing else: one client per process, so state kept
    in the process is that client's own (no replicas to disagree)."""

    def compute(m: TsModule) -> bool:
        stdio = any(
            from_sdk(m.imported(node.child_by_field_name("constructor")), STDIO_TRANSPORTS)
            for node in m.walk("new_expression")
        )
        return stdio and not streamable_transports(m) and not sse_transports(m)

    return module.memo(compute, "ts.stdio_only")

"""Which release of which Python SDK a server runs on, and how that release spells sessions off.

Each `ApiLine` is a range of releases of one package that agree on the spelling, read from the
packages themselves (their signatures, checked by tests/sdk_versions against installed copies):

| line | `stateless_http=` on the constructor | serving calls that take it |
|---|---|---|
| mcp 1.x | honoured | none |
| mcp 2.x | TypeError | `run("streamable-http")`, `streamable_http_app()`, `run_streamable_http_async()` |
| fastmcp < 2.8 | honoured (a setting) | none |
| fastmcp 2.8 - 2.9 | honoured | `http_app()` |
| fastmcp 2.10 - 2.14 | honoured (deprecated) | `http_app()`, `run_http_async()`, `run(transport="http")` |
| fastmcp 3.x, 4.x | TypeError | `http_app()`, `run_http_async()`, `run(transport="http")` |

Rules never compare versions themselves: they ask `candidate_lines()` which lines a server can
be on (the class it imports, intersected with the project's pins) and `placement()` where the
flag goes on every one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.version import Version

    from .pins import Pin, ProjectPins

MCP_V1_SERVER = frozenset({"mcp.server.fastmcp.FastMCP", "mcp.server.fastmcp.server.FastMCP"})
MCP_V2_SERVER = frozenset(
    {"mcp.server.MCPServer", "mcp.server.mcpserver.MCPServer", "mcp.server.mcpserver.server.MCPServer"}
)
FASTMCP_SERVER = frozenset({"fastmcp.FastMCP", "fastmcp.server.FastMCP", "fastmcp.server.server.FastMCP"})
SSE_SERVER_TRANSPORT = frozenset({"mcp.server.sse.SseServerTransport"})
LOWLEVEL_SERVER = frozenset({"mcp.server.lowlevel.Server", "mcp.server.lowlevel.server.Server", "mcp.server.Server"})

_FASTMCP_HTTP_SERVES = frozenset({"http_app", "run_http_async", "run", "run_async"})


class Sdk(Enum):
    """The server API a class belongs to: what its serving methods are called."""

    MCP_V1 = "mcp v1 `FastMCP`"
    MCP_V2 = "mcp v2 `MCPServer`"
    FASTMCP = "fastmcp `FastMCP`"
    MCP_V2_LOWLEVEL = "mcp v2 low-level `Server`"


@dataclass(frozen=True)
class ApiLine:
    """The line's edges are plain release numbers: packaging (~80M instructions to import, a
    quarter of a pre-commit run) is loaded only when a project's pins are compared with them."""

    package: str
    first: str  # first release of the line
    after: str  # first release after it
    family: Sdk
    classes: frozenset[str]
    ctor_flag: bool  # `stateless_http=` on the constructor is accepted and honoured
    serve_flag: frozenset[str]  # serving methods that accept `stateless_http=` for HTTP
    # The constructor takes `request_state_security=RequestStateSecurity(keys=[...])` (else the
    # multi round-trip state is sealed with a key of the process) ...
    request_state_keys: bool = False
    # ... and `subscriptions=` (a SubscriptionBus; else an in-process one) for `subscriptions/listen`.
    subscription_bus: bool = False

    @property
    def label(self) -> str:
        return _range_label(self.package, self.first, self.after)

    @cached_property
    def low(self) -> Version:
        from packaging.version import Version

        return Version(self.first)

    @cached_property
    def high(self) -> Version:
        from packaging.version import Version

        return Version(self.after)

    def contains(self, version: Version) -> bool:
        return self.low <= version < self.high


LINES: tuple[ApiLine, ...] = (
    ApiLine("mcp", "1.0", "2.0", Sdk.MCP_V1, MCP_V1_SERVER, True, frozenset()),
    ApiLine(
        "mcp",
        "2.0",
        "3.0",
        Sdk.MCP_V2,
        MCP_V2_SERVER,
        False,
        frozenset({"run", "streamable_http_app", "run_streamable_http_async"}),
        request_state_keys=True,
        subscription_bus=True,
    ),
    # mcp 1.x's low-level Server has no HTTP method of its own (a StreamableHTTPSessionManager
    # serves it); 2.x's has `streamable_http_app()`.
    ApiLine(
        "mcp",
        "2.0",
        "3.0",
        Sdk.MCP_V2_LOWLEVEL,
        LOWLEVEL_SERVER,
        False,
        frozenset({"streamable_http_app"}),
    ),
    ApiLine("fastmcp", "0", "2.8", Sdk.FASTMCP, FASTMCP_SERVER, True, frozenset()),
    ApiLine("fastmcp", "2.8", "2.10", Sdk.FASTMCP, FASTMCP_SERVER, True, frozenset({"http_app"})),
    ApiLine("fastmcp", "2.10", "3.0", Sdk.FASTMCP, FASTMCP_SERVER, True, _FASTMCP_HTTP_SERVES),
    ApiLine("fastmcp", "3.0", "4.0", Sdk.FASTMCP, FASTMCP_SERVER, False, _FASTMCP_HTTP_SERVES),
    # fastmcp 4 is built on mcp 2: the same request-state policy; no `subscriptions/listen` bus of its own.
    ApiLine("fastmcp", "4.0", "5.0", Sdk.FASTMCP, FASTMCP_SERVER, False, _FASTMCP_HTTP_SERVES, request_state_keys=True),
)
SERVER_CLASSES = frozenset().union(*(line.classes for line in LINES))
# Class methods that build a server of their class (fastmcp's proxies and generated servers).
SERVER_FACTORIES = frozenset({"as_proxy", "from_openapi", "from_fastapi", "from_client"})

# The decorator-style server APIs (`@mcp.tool`), as opposed to the low-level `Server`.
HIGH_LEVEL_SERVER = MCP_V1_SERVER | MCP_V2_SERVER | FASTMCP_SERVER

# Releases on the package index when this table was written (newest of each line and the
# boundaries), so that a specifier such as `fastmcp>=2.3,<2.9` is matched to real releases.
_RELEASES = {
    "mcp": "1.0.0 1.9.4 1.12.4 1.23.0 1.26.0 1.30.0 2.0.0 2.1.1 2.2.0 2.3.0",
    "fastmcp": "0.4.1 1.0 2.0.0 2.3.5 2.7.1 2.8.0 2.8.1 2.9.2 2.10.0 2.10.6 2.12.5 2.13.3 2.14.0 2.14.7 "
    "3.0.0 3.2.0 3.4.3 3.4.11 4.0.0 4.1.6 4.2.3",
}


@dataclass(frozen=True)
class Candidates:
    """The lines a server can be on, and why."""

    lines: tuple[ApiLine, ...]
    assumed: str  # for messages: "fastmcp 3.4.3 in uv.lock", "mcp 1.x (no pin found)"
    pinned_out: bool = False  # the pins exclude every line the import names


def candidate_lines(qualified_names: set[str], pins: ProjectPins) -> Candidates:
    """The lines whose class the constructor names (several, when an import falls back to
    another) that the project's pins admit."""
    named = tuple(line for line in LINES if not line.classes.isdisjoint(qualified_names))
    admitted = []
    notes = []
    for package in dict.fromkeys(line.package for line in named):
        pin = pins.get(package)
        lines = [line for line in named if line.package == package]
        if pin is None:
            admitted += lines
            notes.append(f"{describe_lines(lines)} (no pin of `{package}` found)")
            continue
        kept = [line for line in lines if any(pin.admits(v) and line.contains(v) for v in _probes(line, pin))]
        admitted += kept
        if pin.versions:
            notes.append(f"{package} {', '.join(str(v) for v in sorted(pin.versions))} ({pin.describe()})")
        else:
            notes.append(f"{describe_lines(kept) or package} ({pin.describe()})")
    if not admitted:
        return Candidates(named, "; ".join(notes), pinned_out=True)
    return Candidates(tuple(admitted), "; ".join(notes))


def _probes(line: ApiLine, pin: Pin) -> list[Version]:
    """Versions to test a pin against: the locked ones, else the line's known releases and
    its edges (its first release and the last pre-release before the next line)."""
    if pin.versions:
        return sorted(pin.versions)
    from packaging.version import Version

    known = [Version(v) for v in _RELEASES.get(line.package, "").split()]
    return [v for v in known if line.contains(v)] + [line.low, Version(f"{line.after}.dev0")]


def describe_lines(lines: Sequence[ApiLine]) -> str:
    """Labels of the lines, adjacent lines of one package merged: "fastmcp < 3.0 or mcp 2.x"."""
    merged: list[list[ApiLine]] = []
    for line in lines:
        if merged and merged[-1][-1].package == line.package and merged[-1][-1].after == line.first:
            merged[-1].append(line)
        else:
            merged.append([line])
    return " or ".join(_range_label(run[0].package, run[0].first, run[-1].after) for run in merged)


def _range_label(package: str, first: str, after: str) -> str:
    """`mcp 2.x`, `fastmcp 3.x/4.x`, `fastmcp < 2.8`, `fastmcp 2.8 - <2.10`."""
    low, high = (tuple(int(part) for part in text.split(".")) for text in (first, after))
    whole = not any(low[1:]) and not any(high[1:])
    if whole and low[0] > 0:
        return f"{package} " + "/".join(f"{major}.x" for major in range(low[0], high[0]))
    if low[0] == 0:
        return f"{package} < {after}"
    return f"{package} {first} - <{after}"


STDIO, HTTP, SSE = "stdio", "streamable-http", "sse"
TRANSPORT_KIND = {"stdio": STDIO, "streamable-http": HTTP, "http": HTTP, "sse": SSE}


@dataclass(frozen=True)
class Method:
    """How one serving method picks its transport."""

    default: str | None  # the transport when none is passed (None: fixed by the method)
    fixed: str | None = None  # the transport the method always serves
    position: int = 0  # where `transport` sits when passed positionally


SERVE_METHODS: dict[Sdk, dict[str, Method]] = {
    Sdk.MCP_V1: {
        "run": Method(default=STDIO),
        "streamable_http_app": Method(None, fixed=HTTP),
        "run_streamable_http_async": Method(None, fixed=HTTP),
        "sse_app": Method(None, fixed=SSE),
        "run_sse_async": Method(None, fixed=SSE),
    },
    Sdk.FASTMCP: {
        "run": Method(default=STDIO),
        "run_async": Method(default=STDIO),
        "http_app": Method(default=HTTP, position=4),
        "run_http_async": Method(default=HTTP, position=1),
        "streamable_http_app": Method(None, fixed=HTTP),
        "sse_app": Method(None, fixed=SSE),
    },
}
SERVE_METHODS[Sdk.MCP_V2] = SERVE_METHODS[Sdk.MCP_V1]
SERVE_METHODS[Sdk.MCP_V2_LOWLEVEL] = {"streamable_http_app": Method(None, fixed=HTTP)}
# Transports whose serving call accepts (or silently ignores) `stateless_http=`: a flag added to
# `run(transport=X)` where X is chosen at run time is safe only if every choice is among them.
FLAG_ACCEPTED_ON: dict[Sdk, frozenset[str]] = {
    Sdk.MCP_V1: frozenset(),  # the constructor takes it
    Sdk.MCP_V2: frozenset({STDIO, HTTP}),
    Sdk.MCP_V2_LOWLEVEL: frozenset({HTTP}),
    Sdk.FASTMCP: frozenset({HTTP}),
}

# Every serving method by name, whatever the family (the families agree where names coincide).
ANY_SERVE_METHOD: dict[str, Method] = {name: m for table in SERVE_METHODS.values() for name, m in table.items()}


def serve_transports(method: str, passed: frozenset[str] | None, transport_given: bool) -> frozenset[str] | None:
    """What a serving call serves: the method's fixed transport, its default when none is
    passed, else the values passed (normalised: "http" is Streamable HTTP); None: unknown."""
    table = ANY_SERVE_METHOD.get(method)
    if table is None:
        return None
    if table.fixed is not None:
        return frozenset({table.fixed})
    if not transport_given:
        return frozenset({table.default or STDIO})
    return None if passed is None else frozenset(TRANSPORT_KIND.get(v, v) for v in passed)


class Placement(Enum):
    CONSTRUCTOR = "constructor"
    SERVING_CALL = "serving call"


def placement(lines: Sequence[ApiLine], serving_methods: Sequence[str]) -> Placement | None:
    """Where `stateless_http=True` goes so that every candidate line accepts and honours it:
    on the serving calls when every line takes it on all of them, else on the constructor
    when every line honours it there; None when no single spelling works on all of them."""
    if not lines:
        return None
    if serving_methods and all(set(serving_methods) <= line.serve_flag for line in lines):
        return Placement.SERVING_CALL
    if all(line.ctor_flag for line in lines):
        return Placement.CONSTRUCTOR
    return None


def ctor_flag_honoured(lines: Sequence[ApiLine]) -> bool:
    return bool(lines) and all(line.ctor_flag for line in lines)

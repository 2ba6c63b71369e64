"""What the Python MCP SDKs look like, and where a module builds and serves its servers.

Three server APIs serve Streamable HTTP with sessions unless told otherwise:
mcp v1 `FastMCP` (`stateless_http` on the constructor), mcp v2 `MCPServer` (`stateless_http`
on `run()` / `streamable_http_app()` / `run_streamable_http_async()`), and the `fastmcp`
package (`stateless_http` on `run()` / `http_app()` / `run_http_async()`). This module finds
each server object, follows it through assignments, module globals used in functions and
factory functions, and records every place it is served and how.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

import libcst as cst

from ..lang.python import PythonModule, argument, bool_value, keyword, method_call, string_value
from . import python_project
from .pins import ProjectPins, project_pins
from .python_project import RemoteServe, RemoteServer
from .python_versions import (
    FASTMCP_SERVER,
    HTTP,
    MCP_V1_SERVER,
    MCP_V2_SERVER,
    SERVE_METHODS,
    SERVER_CLASSES,
    SERVER_FACTORIES,
    SSE,
    SSE_SERVER_TRANSPORT,
    STDIO,
    TRANSPORT_KIND,
    Candidates,
    Method,
    Placement,
    Sdk,
    candidate_lines,
    ctor_flag_honoured,
    placement,
)

__all__ = [
    "FASTMCP_SERVER",
    "HTTP",
    "MCP_V1_SERVER",
    "MCP_V2_SERVER",
    "SERVER_CLASSES",
    "SSE",
    "SSE_SERVER_TRANSPORT",
    "STDIO",
    "Sdk",
]
SESSION_MANAGER = frozenset({"mcp.server.streamable_http_manager.StreamableHTTPSessionManager"})

# Keyword arguments that only configure sessions (MCP102) or stream resumability (MCP103).
SESSION_KEYWORDS = ("session_idle_timeout", "max_sessions")
RESUMABILITY_KEYWORDS = ("event_store", "retry_interval")

_OFF_WHEN_NONE = frozenset(RESUMABILITY_KEYWORDS)  # `event_store=None` switches resumability off


@dataclass
class Serve:
    """One place a server object is served."""

    call: cst.Call
    method: str
    transports: frozenset[str] | None  # None: chosen at run time and not knowable here
    transport_arg: cst.Arg | None

    def may_serve(self, kind: str) -> bool:
        return self.transports is None or kind in self.transports


@dataclass
class Server:
    sdk: Sdk
    ctor: cst.Call | None  # None: built in another module (`remote` says where)
    candidates: Candidates  # the SDK releases it can run on, from its import and the project's pins
    serves: list[Serve] = field(default_factory=list)
    settings_writes: list[cst.Assign] = field(default_factory=list)  # x.settings.stateless_http = ...
    remote: RemoteServer | None = None  # where it is built, when that is another module
    remote_serves: list[RemoteServe] = field(default_factory=list)  # serving calls other modules make

    @property
    def placement(self) -> Placement | None:
        """Where `stateless_http=True` goes on every release the server can run on (None: no
        single spelling works on all of them, so no fix is safe)."""
        methods = [serve.method for serve in self.serves if serve.may_serve(HTTP)]
        methods += [serve.method for serve in self.remote_serves if _may_be_http(serve)]
        return placement(self.candidates.lines, methods)

    @property
    def served_elsewhere_over_http(self) -> bool:
        return any(_may_be_http(serve) for serve in self.remote_serves)

    @property
    def label(self) -> str:
        return f"{self.sdk.value} on {self.candidates.assumed}"


def servers(module: PythonModule) -> list[Server]:
    """Every MCP server object built in the module, with its serving calls."""
    return module.memo(lambda m: list(_find_servers(m)), "servers")


def _find_servers(module: PythonModule) -> Iterator[Server]:
    pins: ProjectPins | None = None

    def candidates_of(names: set[str]) -> Candidates:
        nonlocal pins
        if pins is None:
            pins = project_pins(module.path)
            module.dependencies.update(pins.files)
        return candidate_lines(names, pins)

    project = python_project.current()
    path = os.path.abspath(module.path) if module.path is not None and project is not None else None
    for call in module.walk(cst.Call):
        names = module.qualified_names(_class_of(call.func), SERVER_CLASSES)
        bound = _module_level_name(module, call)
        if names.isdisjoint(SERVER_CLASSES):
            defined = project.servers.get((path, bound)) if project and path and bound else None
            if defined is None:  # nor a subclass of a server class defined in the repository
                continue
            names = set(defined.classes)
        candidates = candidates_of(names)
        sdk = candidates.lines[-1].family  # the newest: serving methods are named alike across a family
        server = Server(sdk, call, candidates)
        for receiver in aliases(module, call, depth=0, seen=set()):
            _record_use(module, server, receiver)
        if project and path and bound:
            server.remote_serves = project.serves_of(path, bound)
        elif project and path and (factory := _factory_returning(module, call)) is not None:
            server.remote_serves = project.serves_of(path, python_project.factory_key(factory))
        yield server
    if project is None or path is None:
        return
    factories = project.imported_factories.get(path, {})
    for call in module.walk(cst.Call) if factories else ():  # `mcp = create_server(...)`: another module's
        remote = factories.get(call.func.value) if isinstance(call.func, cst.Name) else None
        if remote is None:
            continue
        candidates = candidates_of(set(remote.classes))
        server = Server(candidates.lines[-1].family, None, candidates, remote=remote)
        for receiver in aliases(module, call, depth=0, seen=set()):
            _record_use(module, server, receiver)
        if server.serves:
            yield server
    for local, remote in project.imported_servers.get(path, {}).items():
        candidates = candidates_of(set(remote.classes))
        server = Server(candidates.lines[-1].family, None, candidates, remote=remote)
        for name in module.walk(cst.Name):  # reads of the imported name (`_record_use` wants `mcp.run(...)`)
            if name.value == local:
                _record_use(module, server, name)
        if server.serves:
            yield server


def _class_of(func: cst.BaseExpression) -> cst.BaseExpression:
    """The class a constructor call builds: `FastMCP` for `FastMCP(...)` and for the factory
    `FastMCP.as_proxy(...)`."""
    if isinstance(func, cst.Attribute) and func.attr.value in SERVER_FACTORIES:
        return func.value
    return func


def _module_level_name(module: PythonModule, call: cst.Call) -> str | None:
    """`mcp` for `mcp = FastMCP(...)` at module level: what other modules import."""
    parent = module.parent(call)
    target = None
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
    elif isinstance(parent, cst.AnnAssign):
        target = parent.target
    if not isinstance(target, cst.Name) or parent is None:
        return None
    statement = module.parent(parent)
    return target.value if statement is not None and isinstance(module.parent(statement), cst.Module) else None


def _factory_returning(module: PythonModule, call: cst.Call) -> str | None:
    """The module-level function that returns the server `call` builds (directly, or through the
    one name it assigns it to): what other modules call to get it."""
    function = _enclosing_function(module, call)
    if function is None or not isinstance(module.parent(function), cst.Module):
        return None
    parent = module.parent(call)
    names = set()
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
        names.add(parent.targets[0].target.value)
    for returned in module.walk(cst.Return):
        value = returned.value
        if _enclosing_function(module, returned) is not function or value is None:
            continue
        if value is call or (isinstance(value, cst.Name) and value.value in names):
            return function.name.value
    return None


def _may_be_http(serve: RemoteServe) -> bool:
    return serve.transports is None or HTTP in serve.transports


def aliases(module: PythonModule, node: cst.CSTNode, depth: int, seen: set[int]) -> Iterator[cst.CSTNode]:
    """Expressions that evaluate to the object `node` builds: names bound to it, their reads,
    and calls of a factory function that returns it."""
    if id(node) in seen or depth > 6:
        return
    seen.add(id(node))
    yield node
    parent = module.parent(node)
    target: cst.CSTNode | None = None
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
    elif isinstance(parent, cst.AnnAssign) and parent.value is node:
        target = parent.target
    if isinstance(target, cst.Name):
        for use in module.references(target):
            yield from aliases(module, use, depth + 1, seen)
    elif isinstance(parent, cst.Return):
        function = _enclosing_function(module, parent)
        if function is not None:
            for use in module.references(function):
                call = module.parent(use)
                if isinstance(call, cst.Call) and call.func is use:
                    yield from aliases(module, call, depth + 1, seen)


def _enclosing_function(module: PythonModule, node: cst.CSTNode) -> cst.FunctionDef | None:
    current = module.parent(node)
    while current is not None and not isinstance(current, cst.FunctionDef):
        current = module.parent(current)
    return current


def _record_use(module: PythonModule, server: Server, receiver: cst.CSTNode) -> None:
    found = method_call(module, receiver)
    if found is not None:
        name, call = found
        method = SERVE_METHODS[server.sdk].get(name)
        if method is not None:
            server.serves.append(_serve(module, call, name, method))
        return
    # receiver.settings.stateless_http = ...
    settings = module.parent(receiver)
    if isinstance(settings, cst.Attribute) and settings.attr.value == "settings":
        flag = module.parent(settings)
        if isinstance(flag, cst.Attribute) and flag.attr.value == "stateless_http":
            target = module.parent(flag)
            assign = module.parent(target) if isinstance(target, cst.AssignTarget) else None
            if isinstance(assign, cst.Assign):
                server.settings_writes.append(assign)


def _serve(module: PythonModule, call: cst.Call, name: str, method: Method) -> Serve:
    if method.fixed is not None:
        return Serve(call, name, frozenset({method.fixed}), None)
    arg = argument(call, "transport", method.position)
    value = arg.value if arg is not None else None
    if value is None and any(a.star == "**" for a in call.args):
        entries = module.keyword_entries(call)
        if entries is None:
            return Serve(call, name, None, None)  # `run(**options)` that cannot be followed
        value = entries.get("transport")
    if value is None:
        return Serve(call, name, frozenset({method.default or STDIO}), None)
    values = narrowed(module, call, value, possible_strings(module, value))
    kinds = None if values is None else frozenset(TRANSPORT_KIND.get(v, v) for v in values)
    return Serve(call, name, kinds, arg)


def narrowed(
    module: PythonModule, node: cst.CSTNode, expr: cst.BaseExpression, values: set[str] | None
) -> set[str] | None:
    """What `expr` can be at `node`, given the `if expr == "stdio":` branches around it.

    `if TRANSPORT == "stdio": mcp.run(transport=TRANSPORT)` serves stdio whatever TRANSPORT
    could be elsewhere; in its `else:` it is anything but "stdio"."""
    spelled = module.source(expr)
    child, current = node, module.parent(node)
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.Module)):
        if isinstance(current, cst.If) and child is not current.test:
            test = _equality(module, current.test, spelled)
            if test is not None:
                equal, literals = test
                inside = child is current.body
                if inside == equal:
                    values = literals if values is None else values & literals
                elif values is not None:
                    values = values - literals
        child, current = current, module.parent(current)
    return values


def _equality(module: PythonModule, test: cst.BaseExpression, spelled: str) -> tuple[bool, set[str]] | None:
    """(True, {"stdio"}) for `X == "stdio"` / `X in ("stdio",)`, (False, ...) for `!=` / `not in`."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    target = test.comparisons[0]
    if module.source(test.left) != spelled:
        return None
    operator = target.operator
    if isinstance(operator, (cst.Equal, cst.NotEqual)):
        literal = string_value(target.comparator)
        literals = None if literal is None else {literal}
    elif isinstance(operator, (cst.In, cst.NotIn)) and isinstance(target.comparator, (cst.Tuple, cst.List, cst.Set)):
        found = {string_value(e.value) for e in target.comparator.elements}
        literals = None if None in found else {v for v in found if v is not None}
    else:
        return None
    if literals is None:
        return None
    return isinstance(operator, (cst.Equal, cst.In)), literals


def possible_strings(module: PythonModule, expr: cst.BaseExpression, depth: int = 0) -> set[str] | None:
    """The string values an expression can take, when the module says (literals, conditional
    expressions, names bound once, argparse options with `choices=`); None when unknowable."""
    if depth > 5:
        return None
    literal = string_value(expr)
    if literal is not None:
        return {literal}
    if isinstance(expr, cst.IfExp):
        body = possible_strings(module, expr.body, depth + 1)
        orelse = possible_strings(module, expr.orelse, depth + 1)
        return None if body is None or orelse is None else body | orelse
    if isinstance(expr, cst.Name):
        value = module.binding_value(expr)
        return None if value is None else possible_strings(module, value, depth + 1)
    if isinstance(expr, cst.Attribute):
        option = argparse_option(module, expr)
        if option is not None:
            choices = argument(option, "choices")
            if choices is not None and isinstance(choices.value, (cst.List, cst.Tuple, cst.Set)):
                values = {string_value(el.value) for el in choices.value.elements}
                if None not in values:
                    return {v for v in values if v is not None}
    return None


def argparse_option(module: PythonModule, expr: cst.Attribute) -> cst.Call | None:
    """The `parser.add_argument(...)` call that defines `args.<name>`, if there is one."""
    wanted = expr.attr.value
    for call in module.walk(cst.Call):
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "add_argument"):
            continue
        dest_arg = argument(call, "dest")
        dest = string_value(dest_arg.value) if dest_arg else None
        if dest is None:
            flags = [string_value(a.value) or "" for a in call.args if a.keyword is None]
            longs = [f for f in flags if f.startswith("--")]
            chosen = longs[0] if longs else (flags[0] if flags else "")
            dest = chosen.lstrip("-").replace("-", "_")
        if dest == wanted:
            return call
    return None


def stdio_only(module: PythonModule) -> bool:
    """Every server of the module, or (for a module without one, such as a tools module) of
    its project, is served, and only over stdio: one client per process, so process memory is
    that client's. A low-level `Server` or a server served where the index cannot see is not
    known to be stdio-only."""
    found = servers(module)
    if not found:
        project = python_project.current()
        return project is not None and module.path is not None and project.stdio_only(os.path.abspath(module.path))
    serves = [serve for server in found for serve in server.serves]
    remote = [serve for server in found for serve in server.remote_serves]
    return (
        all(server.serves or server.remote_serves for server in found)
        and all(s.transports == frozenset({STDIO}) for s in serves)
        and all(s.transports == frozenset({STDIO}) for s in remote)
    )


def http_serves(server: Server) -> list[Serve]:
    return [s for s in server.serves if s.may_serve(HTTP)]


# -- where sessions are switched on or off ----------------------------------------------------
class Mode(Enum):
    STATELESS = "stateless"
    STATEFUL = "stateful"  # sessions on, by default or by a literal False
    CONFIGURABLE = "configurable"  # set from a variable, option or environment variable
    UNKNOWN = "unknown"  # **kwargs could set it


@dataclass
class SessionConfig:
    """One call that decides whether a Streamable HTTP endpoint keeps sessions."""

    call: cst.Call  # the call that takes the flag
    flag: str  # "stateless_http", or "stateless" for StreamableHTTPSessionManager
    flag_arg: cst.Arg | None  # the argument that sets it, when the call spells it out
    mode: Mode
    serves_http: bool
    server: Server | None = None  # None for a bare StreamableHTTPSessionManager
    serve: Serve | None = None  # the serving call, where the SDK takes the flag there
    placed: bool = True  # every release the server can run on takes the flag on `call`
    flag_value: cst.BaseExpression | None = None  # what decides it (an argument, a `**` entry, an `if`)

    @property
    def label(self) -> str:
        if self.server is None:
            return "`StreamableHTTPSessionManager`"
        return self.server.label


def session_configs(module: PythonModule) -> list[SessionConfig]:
    return module.memo(lambda m: list(_session_configs(m)), "session-configs")


def _session_configs(module: PythonModule) -> Iterator[SessionConfig]:
    global_stateless = _global_fastmcp_stateless(module)
    for server in servers(module):
        where = server.placement
        honoured = ctor_flag_honoured(server.candidates.lines)
        if server.ctor is None:  # built in another module, which reports a constructor fix
            assert server.remote is not None
            if where is Placement.CONSTRUCTOR or (honoured and server.remote.ctor_flag is not None):
                continue
        else:
            ctor_mode, ctor_arg, ctor_value = _mode(module, server.ctor, "stateless_http")
            if where is Placement.CONSTRUCTOR or (ctor_arg is not None and honoured):
                if ctor_mode is Mode.STATEFUL:
                    ctor_mode, ctor_value = _settings_switch(module, server, ctor_mode, ctor_value)
                serves_http = bool(http_serves(server)) or server.served_elsewhere_over_http
                yield SessionConfig(
                    server.ctor,
                    "stateless_http",
                    ctor_arg,
                    ctor_mode,
                    serves_http,
                    server,
                    placed=True,
                    flag_value=ctor_value,
                )
                continue
        for serve in http_serves(server):
            mode, arg, value = _mode(module, serve.call, "stateless_http")
            if value is None and server.sdk is Sdk.FASTMCP:
                alias_mode, alias, alias_value = _mode(module, serve.call, "stateless")
                if alias_value is not None:
                    mode, arg, value = alias_mode, alias, alias_value
            if mode is Mode.STATEFUL and value is None and server.sdk is Sdk.FASTMCP and global_stateless:
                mode = Mode.STATELESS
            placed = where is Placement.SERVING_CALL
            yield SessionConfig(
                serve.call, "stateless_http", arg, mode, True, server, serve, placed=placed, flag_value=value
            )
    for call in module.walk(cst.Call):
        if module.resolves_to(call.func, SESSION_MANAGER):
            mode, arg, value = _mode(module, call, "stateless", position=3)
            yield SessionConfig(call, "stateless", arg, mode, True, flag_value=value)


def _mode(
    module: PythonModule, call: cst.Call, flag: str, position: int | None = None
) -> tuple[Mode, cst.Arg | None, cst.BaseExpression | None]:
    """How a call sets the flag: (mode, the argument, the expression that decides it). A flag
    passed inside `**options` is followed when the module spells the dict out."""
    arg = argument(call, flag, position)
    value = arg.value if arg is not None else None
    if value is None and any(a.star == "**" for a in call.args):
        entries = module.keyword_entries(call)
        if entries is None:
            return Mode.UNKNOWN, None, None
        value = entries.get(flag)
    if value is None:
        return Mode.STATEFUL, None, None
    flag_value = bool_value(value)
    if flag_value is None:
        return Mode.CONFIGURABLE, arg, value
    return (Mode.STATELESS if flag_value else Mode.STATEFUL), arg, value


def _settings_switch(
    module: PythonModule, server: Server, mode: Mode, value: cst.BaseExpression | None
) -> tuple[Mode, cst.BaseExpression | None]:
    """`<server>.settings.stateless_http = True`: stateless when it always runs; decided by the
    condition when it runs only under `if args.stateless:` (stateful unless that is set)."""
    turned_on = [w for w in server.settings_writes if _assigned_true(w)]
    if not turned_on:
        return mode, value
    unconditional = [w for w in turned_on if _condition(module, w) is None]
    if unconditional:
        return Mode.STATELESS, value
    conditions = {module.source(c): c for w in turned_on if (c := _condition(module, w)) is not None}
    if len(conditions) != 1:
        return Mode.UNKNOWN, None
    return Mode.CONFIGURABLE, next(iter(conditions.values()))


def _condition(module: PythonModule, node: cst.CSTNode) -> cst.BaseExpression | None:
    """The test of the `if` a statement runs under (None when it always runs)."""
    child, current = node, module.parent(node)
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.Module)):
        if isinstance(current, cst.If) and child is current.body:
            return current.test
        child, current = current, module.parent(current)
    return None


def _assigned_true(assign: cst.Assign) -> bool:
    return bool_value(assign.value) is True


def settings_flag_writes(module: PythonModule) -> list[cst.Assign]:
    """`<anything>.settings.stateless_http = <value>` statements, in source order."""
    found = []
    for assign in module.walk(cst.Assign):
        for target in assign.targets:
            node = target.target
            if (
                isinstance(node, cst.Attribute)
                and node.attr.value == "stateless_http"
                and isinstance(node.value, cst.Attribute)
                and node.value.attr.value == "settings"
            ):
                found.append(assign)
    return found


def _global_fastmcp_stateless(module: PythonModule) -> bool:
    for assign in settings_flag_writes(module):
        target = assign.targets[0].target
        assert isinstance(target, cst.Attribute) and isinstance(target.value, cst.Attribute)
        if module.resolves_to(target.value.value, {"fastmcp"}) and _assigned_true(assign):
            return True
    return False


def session_only_arguments(
    call: cst.Call, names: tuple[str, ...] = (*SESSION_KEYWORDS, *RESUMABILITY_KEYWORDS)
) -> list[cst.Arg]:
    """Keyword arguments of `call` that only configure sessions or stream resumability."""
    found = []
    for name in names:
        arg = keyword(call, name)
        if arg is None or (name in _OFF_WHEN_NONE and isinstance(arg.value, cst.Name) and arg.value.value == "None"):
            continue
        found.append(arg)
    return found

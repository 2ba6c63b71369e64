"""MCP servers across a repository's Python modules: the index phase of a run.

Before the rules run, the engine indexes every Python file that could take part (a cheap byte
gate, then stdlib `ast`; see lang/python_modules.py) and the rules ask this model what one
module cannot see by itself:
- a server object defined in another module (`from notes.server import mcp`, then
  `mcp.run(transport=args.transport)` in `main()`), and the classes it may be;
- the serving calls other modules make on a server this module defines;
- which module-level values of this module are passed as `stateless_http=` / `stateless=`
  elsewhere (`STATELESS_HTTP = get_env_bool("X", False)` in config.py): a stateful default is
  reported where it is defined.
Every answer names the files it came from, so the results cache re-checks a module when one of
them changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..lang.python_modules import FLAG_KEYWORDS, Call, ModuleFacts, ModuleGraph, module_facts
from ..model import Gate
from .pins import project_pins
from .python_versions import (
    ANY_SERVE_METHOD,
    SERVER_CLASSES,
    SERVER_FACTORIES,
    SSE_SERVER_TRANSPORT,
    STDIO,
    serve_transports,
)

# SDK classes whose repository subclasses stand for them.
_SDK_CLASSES = SERVER_CLASSES | SSE_SERVER_TRANSPORT

# Files that can take part: they name a server class or an SSE transport subclass (`Sse`, case
# and all: upper-case SSE is in every CLASSES and ACCESS), hold or pass a session flag, or serve
# (a subclass's module names its base; a module that only builds a subclass instance and
# serves it nowhere is not indexed: nothing else could be learnt from it).
INDEX_GATE = Gate(
    rb"FastMCP|MCPServer|Sse|(?i:stateless)|\.run\(|_app\(|run_\w*async\(",
    (b"FastMCP", b"MCPServer", b"Sse", b"tateless", b"TATELESS", b".run(", b"_app(", b"async("),
)
_INDEX_PATTERN = re.compile(INDEX_GATE.pattern)
SERVING_METHODS = frozenset(ANY_SERVE_METHOD)
_SDK_PACKAGES = ("mcp", "fastmcp")


@dataclass(frozen=True)
class RemoteServer:
    """A server object assigned at module level in another file."""

    path: str
    name: str
    classes: frozenset[str]
    ctor_flag: bool | None  # a literal `stateless_http=` on its constructor (None: absent or not a literal)


@dataclass(frozen=True)
class RemoteServe:
    path: str
    line: int
    method: str
    transports: frozenset[str] | None  # normalised (STDIO, HTTP, SSE); None: unknown


@dataclass(frozen=True)
class FlagArgument:
    """`serve(port, stateless)` at `line`, where `serve` (in `target`) passes its parameter on
    as `stateless_http=`: `name` is what this module passes."""

    line: int
    name: str
    parameter: str
    target: str
    function: str


@dataclass
class Project:
    """What the rules ask, computed once in the parent process and small enough to hand to
    every worker (the module graph itself stays behind)."""

    servers: dict[tuple[str, str], RemoteServer] = field(default_factory=dict)
    serves: dict[tuple[str, str], list[RemoteServe]] = field(default_factory=dict)
    flag_uses: dict[str, dict[str, list[tuple[str, int]]]] = field(default_factory=dict)
    flag_arguments: dict[str, list[FlagArgument]] = field(default_factory=dict)  # caller file -> what it passes
    # path -> local name -> the server a function of another module returns (`create_server`)
    imported_factories: dict[str, dict[str, RemoteServer]] = field(default_factory=dict)
    imported_servers: dict[str, dict[str, RemoteServer]] = field(default_factory=dict)
    relevant_files: set[str] = field(default_factory=set)
    # path -> local name -> the SDK classes a repository subclass it names derives from
    subclasses: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    depends: dict[str, set[str]] = field(default_factory=dict)  # file -> the files its answers came from
    stdio_only_roots: set[str] = field(default_factory=set)  # projects whose every server runs over stdio only

    def serves_of(self, path: str, name: str) -> list[RemoteServe]:
        return self.serves.get((path, name), [])

    def flags_defined_in(self, path: str) -> dict[str, list[tuple[str, int]]]:
        """Names this module assigns that other modules pass as a session flag: name (or
        `instance.field` of an instance it assigns) -> uses."""
        return self.flag_uses.get(path, {})

    def flag_arguments_in(self, path: str) -> list[FlagArgument]:
        """Arguments this module passes to another module's function, which passes them on as
        a session flag."""
        return self.flag_arguments.get(path, [])

    def relevant(self, path: str) -> bool:
        """Whether the rules must see this file although it may not import an SDK itself."""
        return path in self.relevant_files

    def sdk_bases(self, path: str, local: str) -> frozenset[str]:
        """The SDK classes a name in `path` derives from when it names a repository subclass
        (defined there or imported), e.g. `class TracedSse(SseServerTransport)`."""
        return self.subclasses.get(path, {}).get(local, frozenset())

    def stdio_only(self, path: str) -> bool:
        """Every server of the file's project is served, and only over stdio (one client per
        process: its memory is that client's)."""
        root = project_pins(Path(path)).root
        return root is not None and str(root) in self.stdio_only_roots

    def dependencies(self, path: str) -> set[str]:
        """The other files whose content the answers about `path` came from."""
        return self.depends.get(path, set())


def index_file(path: str, raw: bytes) -> ModuleFacts | None:
    """The facts of one file, or None when it cannot take part (most files)."""
    reexports = path.endswith("__init__.py") and b"import" in raw  # `from .main import main_mcp`
    if not reexports and (
        not any(literal in raw for literal in INDEX_GATE.literals) or _INDEX_PATTERN.search(raw) is None
    ):
        return None  # substring tests first: the pattern alone costs 4x as much on a monorepo
    return index_forced(path, raw)


def index_forced(path: str, raw: bytes) -> ModuleFacts | None:
    """The facts of a module whatever the byte gate says (`wanted` asks for some it skips)."""
    facts = module_facts(path, raw)
    if facts is not None:  # kept in the results cache and sent between processes: only what `build` asks
        facts.calls = [call for call in facts.calls if _may_matter(call)]
    return facts


def wanted(modules: dict[str, ModuleFacts], python_files: Iterable[str]) -> set[str]:
    """Modules of the run the byte gate did not pass that an indexed module takes a name from
    where it matters: a served server (`from inv.server import server`, then
    `server.streamable_http_app()`), a session flag's value (`stateless=SHARED_NOTHING`) or its
    instance (`stateless=settings.stateless`), followed through what those modules assign
    (`settings = Settings()` in `config.py` -> the class in `models.py`) and re-export. Called
    again after they are indexed, until it asks for nothing new."""
    seeds: list[tuple[str, str]] = []
    modules_named: list[tuple[str, str, str]] = []  # `config` and `X` of `stateless=config.X[.y]`
    for path, facts in modules.items():
        for call in facts.calls:
            if call.method in SERVING_METHODS:
                seeds.append((path, call.head))
            seeds += [(path, passed) for keyword, passed in call.keywords if keyword in FLAG_KEYWORDS and passed]
            for keyword, passed in call.dotted:
                if keyword in FLAG_KEYWORDS:
                    head, _, rest = passed.partition(".")
                    seeds.append((path, head))
                    modules_named.append((path, head, rest.partition(".")[0]))
        seeds += [(path, callee) for callee, _call in facts.results_used]
    if not seeds:
        return set()
    graph = ModuleGraph(modules, python_files)
    found: set[str] = set()
    for path, head, name in modules_named:  # `config` may be a module: `X` is then followed in it
        module_path = graph.module_of(path, head)
        if module_path is not None and module_path != path:
            seeds.append((module_path, name))
    seen: set[tuple[str, str]] = set()
    while seeds:
        path, name = seeds.pop()
        if (path, name) in seen:
            continue
        seen.add((path, name))
        module = modules.get(path)
        if module is None:
            found.add(path)  # to be indexed; the next call follows the name inside it
        elif name in module.imports:
            target = graph.resolve(path, name)
            if target is not None:
                seeds.append(target)
        else:
            built = module.assigned.get(name)
            head = built.callee.partition(".")[0] if built is not None else ""
            if head in module.imports:  # `settings = Settings()`: where the class is
                seeds.append((path, head))
    return found


def _may_matter(call: Call) -> bool:
    """A call `build` looks at: a function call (a factory, a subclass, a flag passed on), a
    serving call, or one passing a session flag (`mcp.tool()` and `db.query(x)` are not)."""
    return (
        call.method is None
        or call.method in SERVING_METHODS
        or any(keyword in FLAG_KEYWORDS for keyword, _ in (*call.keywords, *call.dotted))
    )


def build(modules: dict[str, ModuleFacts]) -> Project:
    graph = ModuleGraph(modules)
    project = Project()
    server_classes = _server_classes(graph)
    for path, facts in modules.items():
        for name, value in facts.assigned.items():
            if value is not None:
                classes = _qualified(graph, path, facts, value.callee, server_classes) & SERVER_CLASSES
                if classes:
                    project.servers[(path, name)] = RemoteServer(path, name, frozenset(classes), value.stateless_http)
        for function, returned in facts.factories.items():
            classes = _qualified(graph, path, facts, returned.callee, server_classes) & SERVER_CLASSES
            if classes:
                key = factory_key(function)
                project.servers[(path, key)] = RemoteServer(path, key, frozenset(classes), returned.stateless_http)
        for local in {*facts.classes, *facts.imports}:
            if _is_repository_class(graph, path, facts, local, server_classes):
                bases = _qualified(graph, path, facts, local, server_classes)
                if bases:
                    project.subclasses.setdefault(path, {})[local] = frozenset(bases)
    _made_by_imported_factories(project, graph, modules)
    for path, facts in modules.items():
        for local in facts.imports:
            resolved = graph.definition(path, local)
            if resolved is not None and resolved in project.servers and resolved[0] != path:
                project.imported_servers.setdefault(path, {})[local] = project.servers[resolved]
            made = (resolved[0], factory_key(resolved[1])) if resolved is not None else None
            if made is not None and made in project.servers and made[0] != path:
                project.imported_factories.setdefault(path, {})[local] = project.servers[made]
        for call in facts.calls:
            if call.method in SERVING_METHODS:
                server = project.imported_servers.get(path, {}).get(call.head)
                if server is not None:
                    project.serves.setdefault((server.path, server.name), []).append(
                        RemoteServe(path, call.line, call.method, _transports(call, facts))
                    )
            for keyword, passed in call.keywords:
                if keyword in FLAG_KEYWORDS and passed is not None:
                    resolved = graph.definition(path, passed)
                    if resolved is not None and resolved[0] != path and resolved[1] in modules[resolved[0]].assigned:
                        uses = project.flag_uses.setdefault(resolved[0], {}).setdefault(resolved[1], [])
                        uses.append((path, call.line))
            for keyword, passed in call.dotted:  # `stateless=settings.stateless`
                head, _, attribute = passed.partition(".")
                if keyword not in FLAG_KEYWORDS:
                    continue
                resolved = graph.definition(path, head) if head in facts.imports else (path, head)
                if "." in attribute or resolved is None or resolved[1] not in modules[resolved[0]].assigned:
                    _module_attribute(project, graph, modules, path, passed, call.line)
                    continue
                if resolved[0] != path:  # an imported instance
                    uses = project.flag_uses.setdefault(resolved[0], {}).setdefault(f"{resolved[1]}.{attribute}", [])
                    uses.append((path, call.line))
                _class_of_instance(project, graph, modules, resolved, attribute, (path, call.line))
            if call.method is None:
                _flag_arguments(project, graph, modules, path, call)
        for callee, call in facts.results_used:  # `mcp = create_server(...)`, then `mcp.run(...)`
            resolved = graph.definition(path, callee)
            made = (resolved[0], factory_key(resolved[1])) if resolved is not None else None
            if made is not None and made[0] != path and made in project.servers and call.method in SERVING_METHODS:
                serve = RemoteServe(path, call.line, call.method, _transports(call, facts))
                project.serves.setdefault(made, []).append(serve)
    project.stdio_only_roots = _stdio_only_roots(project, modules)
    # Files the prefilter would drop: they hold a flag's default, serve an imported server, or
    # build a server from a repository subclass (no SDK import of their own needed).
    subclassed = {path for (path, _), server in project.servers.items() if _built_from_subclass(modules[path], server)}
    uses_subclass = {
        path
        for path, names in project.subclasses.items()
        if any(call.head in names for call in modules[path].calls if call.method is None)
    }
    project.relevant_files = {
        *project.flag_uses,
        *project.flag_arguments,
        *project.imported_servers,
        *project.imported_factories,
        *subclassed,
        *uses_subclass,
    }
    for path, arguments in project.flag_arguments.items():
        for argument in arguments:
            project.depends.setdefault(path, set()).add(argument.target)
            project.depends.setdefault(argument.target, set()).add(path)
    for path, remotes in [*project.imported_servers.items(), *project.imported_factories.items()]:
        project.depends.setdefault(path, set()).update(server.path for server in remotes.values())
    for (path, _), serves in project.serves.items():
        project.depends.setdefault(path, set()).update(serve.path for serve in serves)
    for path, names in project.flag_uses.items():
        for uses in names.values():
            for user, _ in uses:
                project.depends.setdefault(path, set()).add(user)
                project.depends.setdefault(user, set()).add(path)
    for path, found in project.depends.items():
        found.discard(path)
    return project


def _module_attribute(
    project: Project, graph: ModuleGraph, modules: dict[str, ModuleFacts], path: str, passed: str, line: int
) -> None:
    """`stateless=config.SHARED_NOTHING` or `stateless=config.settings.stateless` with `config` a
    module of the repository (`from app import config`, `import config`): the flag's default is
    decided there (or at the class of the instance it assigns)."""
    head, _, rest = passed.partition(".")
    module = graph.module_of(path, head)
    name, _, field = rest.partition(".")
    if module is None or module == path or name not in modules[module].assigned or "." in field:
        return
    project.flag_uses.setdefault(module, {}).setdefault(rest, []).append((path, line))
    if field:  # an instance: `settings = Settings()` there, the class perhaps in a third module
        _class_of_instance(project, graph, modules, (module, name), field, (path, line))


def _made_by_imported_factories(project: Project, graph: ModuleGraph, modules: dict[str, ModuleFacts]) -> None:
    """`mcp = create_server("notes")` at module level, the factory in another module: `mcp` is
    the factory's server (served elsewhere, it is reported as the factory's)."""
    for path, facts in modules.items():
        for name, value in facts.assigned.items():
            if value is None or (path, name) in project.servers or value.callee not in facts.imports:
                continue
            resolved = graph.definition(path, value.callee)
            made = (resolved[0], factory_key(resolved[1])) if resolved is not None else None
            if made is not None and made[0] != path and made in project.servers:
                project.servers[(path, name)] = project.servers[made]
                project.depends.setdefault(made[0], set()).add(path)


def _class_of_instance(
    project: Project,
    graph: ModuleGraph,
    modules: dict[str, ModuleFacts],
    instance: tuple[str, str],
    attribute: str,
    use: tuple[str, int],
) -> None:
    """`settings = Settings()` whose class another module defines: the field's default is
    decided there (`class Settings(BaseSettings): stateless: bool = False`), keyed `Settings:stateless`."""
    path, name = instance
    value = modules[path].assigned.get(name) if path in modules else None
    if value is None or not value.callee or "." in value.callee:
        return
    if attribute in value.keywords:
        return  # set where the instance is built
    defined = graph.definition(path, value.callee)
    if defined is None or defined[0] == path or defined[1] not in modules[defined[0]].classes:
        return
    uses = project.flag_uses.setdefault(defined[0], {}).setdefault(f"{defined[1]}:{attribute}", [])
    uses.append(use)
    if path != use[0]:  # an instance of a third module: the field's answer also comes from there
        project.depends.setdefault(defined[0], set()).add(path)


def factory_key(function: str) -> str:
    """How a server returned by a module-level function is named in `Project.servers`."""
    return f"{function}()"


def _flag_arguments(
    project: Project, graph: ModuleGraph, modules: dict[str, ModuleFacts], path: str, call: Call
) -> None:
    """`serve(port, stateless)` calling an imported function that passes `stateless` on as a
    session flag: the name passed here is where the flag's default is decided."""
    resolved = graph.definition(path, call.head)
    if resolved is None or resolved[0] == path:
        return
    target, function = resolved
    for parameter, position in modules[target].flag_params.get(function, {}).items():
        passed = dict(call.keywords).get(parameter)
        if passed is None and position < len(call.arguments):
            passed = call.arguments[position]
        if passed is not None and "." not in passed:
            argument = FlagArgument(call.line, passed, parameter, target, function)
            project.flag_arguments.setdefault(path, []).append(argument)


def _built_from_subclass(facts: ModuleFacts, server: RemoteServer) -> bool:
    value = facts.assigned.get(server.name)
    callee = value.callee if value is not None else ""
    imported = facts.imports.get(callee.partition(".")[0])
    return not (imported is not None and imported[2] == 0 and imported[0].partition(".")[0] in _SDK_PACKAGES)


def _stdio_only_roots(project: Project, modules: dict[str, ModuleFacts]) -> set[str]:
    """Project roots whose served servers are all served over stdio only (servers served
    nowhere are mounted into another or unused: they do not decide)."""
    verdict: dict[str, bool] = {}
    for (path, name), _server in project.servers.items():
        facts = modules[path]
        serves = [
            _transports(call, facts) for call in facts.calls if call.head == name and call.method in SERVING_METHODS
        ]
        serves += [serve.transports for serve in project.serves_of(path, name)]
        if not serves:
            continue  # mounted into another server, or not served: the served ones decide
        stdio = all(t == frozenset({STDIO}) for t in serves)
        root = project_pins(Path(path)).root
        if root is not None:
            verdict[str(root)] = verdict.get(str(root), True) and stdio
    return {root for root, stdio in verdict.items() if stdio}


def _transports(call: Call, facts: ModuleFacts) -> frozenset[str] | None:
    """What a serving call serves (see `serve_transports`): a literal transport, positional or
    by keyword, or an argparse option's choices; None when it cannot be known here."""
    assert call.method is not None
    literal = dict(call.literals).get("transport")
    option = dict(call.options).get("transport")
    if call.star_kwargs and literal is None and option is None:
        return None  # `run_async(**run_kwargs)`: the per-file analysis follows the dict
    given = bool(call.positional) or any(keyword == "transport" for keyword, _ in call.keywords)
    if literal is None and call.positional:
        literal = call.positional[0]
    passed = frozenset({literal}) if literal is not None else facts.choices.get(option) if option else None
    return serve_transports(call.method, passed, given)


def _server_classes(graph: ModuleGraph) -> set[str]:
    """The repository's subclasses of SDK classes (servers, the SSE transport), as `path:Class`
    keys."""
    found: set[str] = set()
    changed = True
    while changed:  # subclasses of subclasses, across modules
        changed = False
        for path, facts in graph.modules.items():
            for name, bases in facts.classes.items():
                key = f"{path}:{name}"
                if key not in found and any(_qualified(graph, path, facts, base, found) for base in bases):
                    found.add(key)
                    changed = True
    return found


def _is_repository_class(graph: ModuleGraph, path: str, facts: ModuleFacts, local: str, keys: set[str]) -> bool:
    if f"{path}:{local}" in keys:
        return True
    resolved = graph.definition(path, local) if local in facts.imports else None
    return resolved is not None and f"{resolved[0]}:{resolved[1]}" in keys


def _qualified(graph: ModuleGraph, path: str, facts: ModuleFacts, callee: str, local_classes: set[str]) -> set[str]:
    """The SDK server classes a callee names in `path` (a repository subclass stands for the
    SDK classes it derives from)."""
    if not callee:
        return set()
    owner, _, last = callee.rpartition(".")
    if owner and last in SERVER_FACTORIES:
        callee = owner  # FastMCP.as_proxy(...) builds a FastMCP
    head, _, rest = callee.partition(".")
    if f"{path}:{callee}" in local_classes:
        return _sdk_bases(graph, path, callee)
    imported = facts.imports.get(head)
    if imported is not None:
        module, attr, level = imported
        if level == 0:
            full = ".".join(p for p in (module, attr, rest) if p)
            if full in _SDK_CLASSES:
                return {full}
        resolved = graph.definition(path, head)
        if resolved is not None and not rest and f"{resolved[0]}:{resolved[1]}" in local_classes:
            return _sdk_bases(graph, resolved[0], resolved[1])
        return set()
    return {callee} if head in _SDK_PACKAGES and callee in _SDK_CLASSES else set()


def _sdk_bases(graph: ModuleGraph, path: str, name: str, depth: int = 0) -> set[str]:
    facts = graph.modules[path]
    found: set[str] = set()
    for base in facts.classes.get(name, []):
        head = base.partition(".")[0]
        imported = facts.imports.get(head)
        if imported is not None and imported[2] == 0:
            full = ".".join(p for p in (imported[0], imported[1], base.partition(".")[2]) if p)
            if full in _SDK_CLASSES:
                found.add(full)
                continue
        if depth < 4:
            if base in facts.classes:
                found |= _sdk_bases(graph, path, base, depth + 1)
            else:
                resolved = graph.definition(path, head)
                if resolved is not None and resolved[1] in graph.modules[resolved[0]].classes:
                    found |= _sdk_bases(graph, resolved[0], resolved[1], depth + 1)
    return found


# -- the project the rules of this process consult ---------------------------------------------
_CURRENT: Project | None = None


def activate(project: Project | None) -> None:
    global _CURRENT
    _CURRENT = project


def current() -> Project | None:
    """The project of the running check (None: a file checked on its own, e.g. in tests)."""
    return _CURRENT


def relevant(path: str) -> bool:
    return _CURRENT is not None and _CURRENT.relevant(path)


def dependencies(path: str) -> set[str]:
    return _CURRENT.dependencies(path) if _CURRENT is not None else set()

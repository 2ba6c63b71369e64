"""A repository's Python modules as a graph: who imports what from whom, with stdlib `ast`.

The per-file rules see one module; real servers are built in one module and run in another,
with the flag that decides statelessness defined in a third. This records, per module, only
what crossing a module boundary needs (its imports, its module-level assignments, the calls
made on imported names and the keywords they pass) and resolves an import to the file that
defines it: relative imports by folder, absolute ones by the longest path suffix that matches,
preferring the file nearest the importer (monorepos hold many `config.py`).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """`receiver.method(...)` or `function(...)` where the callee's head is an imported name."""

    head: str  # the local name the call starts from
    method: str | None  # `run` for `mcp.run(...)`; None for `mcp(...)`
    keywords: tuple[tuple[str, str | None], ...]  # (keyword, the local name passed, if a plain name)
    literals: tuple[tuple[str, str], ...]  # (keyword, string literal passed)
    options: tuple[tuple[str, str], ...]  # (keyword, option name) for `transport=args.transport`
    positional: tuple[str | None, ...]  # each positional argument: its string literal, or None
    line: int
    star_kwargs: bool = False  # `f(**options)`: any keyword may be passed
    arguments: tuple[str | None, ...] = ()  # each positional argument: the name (or `a.b`) passed, if one
    dotted: tuple[tuple[str, str], ...] = ()  # (keyword, `a.b`) for an attribute of a name passed by keyword


@dataclass(frozen=True)
class Built:
    """A value built by a call (`mcp = FastMCP("x", stateless_http=True)`), as much of it as the
    index uses: facts hold no syntax tree, so they are cheap to send between processes and can
    be kept in the results cache as JSON."""

    callee: str  # dotted (`FastMCP`, `FastMCP.as_proxy`); "" when the callee is not a name chain
    keywords: tuple[str, ...]  # the keywords passed
    stateless_http: bool | None  # a literal bool passed as `stateless_http=` (None: absent or not one)


@dataclass
class ModuleFacts:
    path: str
    imports: dict[str, tuple[str, str | None, int]] = field(default_factory=dict)  # local -> (module, attr, level)
    # module-level NAME = value (the last one): what built it, or None for a value that is not a call
    assigned: dict[str, Built | None] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    classes: dict[str, list[str]] = field(default_factory=dict)  # class name -> base expressions (dotted)
    choices: dict[str, frozenset[str]] = field(default_factory=dict)  # argparse option dest -> its choices
    # module-level function -> {parameter: position} for parameters without a default that the
    # function passes on as a session flag (`def serve(stateless): mcp.run(stateless_http=stateless)`)
    flag_params: dict[str, dict[str, int]] = field(default_factory=dict)
    # module-level function -> the constructor call it returns (`def create(): return FastMCP(...)`,
    # or a name it assigned one to)
    factories: dict[str, Built] = field(default_factory=dict)
    # (callee, call): a method called on what a call assigned in the same function or at module
    # level (`mcp = create_server(...)`, then `mcp.run(...)`)
    results_used: list[tuple[str, Call]] = field(default_factory=list)


# The keywords that switch sessions off on the SDKs' servers and session managers.
FLAG_KEYWORDS = frozenset({"stateless_http", "stateless"})


def module_facts(path: str, source: bytes) -> ModuleFacts | None:
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    facts = ModuleFacts(path)
    defined: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    made_by_call = False  # `x = f(...)` with `f` imported: what `_results_used` looks for
    for node in _walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.append(node)
        elif isinstance(node, ast.Assign):
            value = node.value
            made_by_call = made_by_call or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in facts.imports
            )
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    facts.imports[alias.asname or alias.name] = (node.module or "", alias.name, node.level)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname or "." not in alias.name:  # `import a.b` binds `a`, a package
                    facts.imports[alias.asname or alias.name] = (alias.name, None, 0)
        elif isinstance(node, ast.Call):
            call = _call(node, facts)
            if call is not None:
                facts.calls.append(call)
            _argparse_choices(node, facts)
        elif isinstance(node, ast.ClassDef):
            bases = [b.value if isinstance(b, ast.Subscript) else b for b in node.bases]  # FastMCP[Context]
            facts.classes[node.name] = [d for d in map(dotted, bases) if d]
    for scope in [tree, *defined] if made_by_call else ():
        _results_used(scope, facts)
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            passed, returned = _function_facts(statement)
            if passed:
                facts.flag_params[statement.name] = passed
            built = _built(returned) if returned is not None else None
            if built is not None:
                facts.factories[statement.name] = built
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                facts.assigned[target.id] = _built(statement.value)
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
            facts.assigned[statement.target.id] = _built(statement.value)
    return facts


def _built(value: ast.expr) -> Built | None:
    if not isinstance(value, ast.Call):
        return None
    flag = None
    for keyword in value.keywords:
        if keyword.arg == "stateless_http" and isinstance(keyword.value, ast.Constant):
            flag = keyword.value.value if isinstance(keyword.value.value, bool) else None
    return Built(dotted(value.func), tuple(k.arg for k in value.keywords if k.arg), flag)


# -- facts as JSON (the results cache keeps them; see cache.py) --------------------------------
def facts_to_json(facts: ModuleFacts) -> list[object]:
    """Everything but the path (the cache is per working directory: the path is the key)."""
    return [
        {local: list(origin) for local, origin in facts.imports.items()},
        {name: None if built is None else _built_json(built) for name, built in facts.assigned.items()},
        [_call_json(call) for call in facts.calls],
        facts.classes,
        {name: sorted(values) for name, values in facts.choices.items()},
        facts.flag_params,
        {name: _built_json(built) for name, built in facts.factories.items()},
        [[callee, _call_json(call)] for callee, call in facts.results_used],
    ]


def facts_from_json(path: str, data: list[Any]) -> ModuleFacts:
    """The inverse of `facts_to_json`; a malformed entry raises (TypeError, ValueError,
    KeyError or IndexError), which the cache treats as a miss."""
    imports, assigned, calls, classes, choices, flag_params, factories, results_used = data
    return ModuleFacts(
        path,
        {local: (module, attr, int(level)) for local, (module, attr, level) in imports.items()},
        {name: None if built is None else _built_from(built) for name, built in assigned.items()},
        [_call_from(call) for call in calls],
        {name: [str(base) for base in bases] for name, bases in classes.items()},
        {name: frozenset(values) for name, values in choices.items()},
        {name: {parameter: int(i) for parameter, i in params.items()} for name, params in flag_params.items()},
        {name: _built_from(built) for name, built in factories.items()},
        [(callee, _call_from(call)) for callee, call in results_used],
    )


def _built_json(built: Built) -> list[object]:
    return [built.callee, list(built.keywords), built.stateless_http]


def _built_from(data: list[Any]) -> Built:
    callee, keywords, flag = data
    return Built(str(callee), tuple(keywords), flag if isinstance(flag, bool) else None)


def _call_json(call: Call) -> list[object]:
    return [
        call.head,
        call.method,
        [list(k) for k in call.keywords],
        [list(k) for k in call.literals],
        [list(k) for k in call.options],
        list(call.positional),
        call.line,
        call.star_kwargs,
        list(call.arguments),
        [list(k) for k in call.dotted],
    ]


def _call_from(data: list[Any]) -> Call:
    head, method, keywords, literals, options, positional, line, star, arguments, attributes = data
    return Call(
        str(head),
        method,
        tuple((k, v) for k, v in keywords),
        tuple((k, v) for k, v in literals),
        tuple((k, v) for k, v in options),
        tuple(positional),
        int(line),
        bool(star),
        tuple(arguments),
        tuple((k, v) for k, v in attributes),
    )


def _add_children(node: ast.AST, nodes: list[ast.AST]) -> None:
    """`ast.iter_child_nodes`, appended to a list, without a generator per node."""
    for name in node._fields:
        value = getattr(node, name, None)
        if value.__class__ is list:
            nodes.extend([item for item in value if isinstance(item, ast.AST)])
        elif isinstance(value, ast.AST):
            nodes.append(value)


def _walk(tree: ast.AST) -> list[ast.AST]:
    """Every node in `ast.walk`'s breadth-first order, without its generator per node (the index
    phase walks every Python file that mentions an SDK)."""
    nodes = [tree]
    for node in nodes:  # grows while it is read: breadth first
        _add_children(node, nodes)
    return nodes


def _call(node: ast.Call, facts: ModuleFacts) -> Call | None:
    func = node.func
    method = None
    if isinstance(func, ast.Attribute):
        method, func = func.attr, func.value
    if not isinstance(func, ast.Name):
        return None
    keywords = tuple((k.arg, k.value.id if isinstance(k.value, ast.Name) else None) for k in node.keywords if k.arg)
    literals = tuple(
        (k.arg, k.value.value)
        for k in node.keywords
        if k.arg and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
    )
    options = tuple((k.arg, k.value.attr) for k in node.keywords if k.arg and isinstance(k.value, ast.Attribute))
    positional = tuple(a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args)
    star = any(k.arg is None for k in node.keywords)
    arguments = tuple(dotted(a) or None for a in node.args)
    attributes = tuple(
        (k.arg, name)
        for k in node.keywords
        if k.arg and isinstance(k.value, ast.Attribute) and (name := dotted(k.value))
    )
    return Call(func.id, method, keywords, literals, options, positional, node.lineno, star, arguments, attributes)


def _results_used(scope: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef, facts: ModuleFacts) -> None:
    """Methods called on names the scope (its own statements, not nested functions) assigned from
    a call of an imported name: `mcp = create_server(...)` then `mcp.run(...)`."""
    made: dict[str, str] = {}
    calls: list[ast.Call] = []
    nodes: list[ast.AST] = list(scope.body)
    for node in nodes:  # grows while it is read, like `_walk`, but stops at nested scopes
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue  # their own scope
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call):
            target, callee = node.targets[0], node.value.func
            if isinstance(target, ast.Name) and isinstance(callee, ast.Name) and callee.id in facts.imports:
                made[target.id] = callee.id
        elif isinstance(node, ast.Call):
            calls.append(node)
        _add_children(node, nodes)
    for node in calls:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in made:
            call = _call(node, facts)
            if call is not None:
                facts.results_used.append((made[func.value.id], call))


def _function_facts(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[dict[str, int], ast.Call | None]:
    """In one walk of a module-level function: its parameters without a default that it passes
    as a session flag, and the call it returns (directly, or through a name it assigned it to)."""
    params = [*function.args.posonlyargs, *function.args.args]
    defaults = len(function.args.defaults)
    undefaulted = {arg.arg: i for i, arg in enumerate(params) if i < len(params) - defaults}
    passed: dict[str, int] = {}
    assigned: dict[str, ast.Call] = {}
    returned: ast.Call | None = None
    for node in _walk(function):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg in FLAG_KEYWORDS and isinstance(value, ast.Name) and value.id in undefaulted:
                    passed[value.id] = undefaulted[value.id]
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call):
            target = node.targets[0]
            if isinstance(target, ast.Name):
                assigned[target.id] = node.value
        elif isinstance(node, ast.Return) and node.value is not None and returned is None:
            if isinstance(node.value, ast.Call):
                returned = node.value
            elif isinstance(node.value, ast.Name):
                returned = assigned.get(node.value.id)
    return passed, returned


def _argparse_choices(node: ast.Call, facts: ModuleFacts) -> None:
    """`parser.add_argument("--transport", choices=[...])`: the values `args.transport` can take."""
    if not (isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"):
        return
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    choices = keywords.get("choices")
    if not isinstance(choices, (ast.List, ast.Tuple, ast.Set)):
        return
    values = [e.value for e in choices.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if len(values) != len(choices.elts):
        return
    dest = keywords.get("dest")
    if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
        name = dest.value
    else:
        flags = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        longs = [f for f in flags if f.startswith("--")]
        name = (longs or flags or [""])[0].lstrip("-").replace("-", "_")
    facts.choices[name] = frozenset(values)


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


class ModuleGraph:
    """Every indexed module, and where an imported name is defined. `others` are files that are
    not indexed but may be imported from (the index's second stage asks which)."""

    def __init__(self, modules: dict[str, ModuleFacts], others: Iterable[str] = ()) -> None:
        self.modules = modules
        self._files = set(modules).union(others)
        self._by_stem: dict[str, list[str]] | None = None  # built on the first absolute import
        self._candidates: dict[str, list[str]] = {}

    def _with_suffix(self, module: str) -> list[str]:
        """The files an absolute import of `module` may name: those whose dotted path ends with it."""
        found = self._candidates.get(module)
        if found is None:
            if self._by_stem is None:
                self._by_stem = {}
                for path in self._files:
                    self._by_stem.setdefault(_stem(path), []).append(path)
            wanted = module.split(".")
            found = [
                path for path in self._by_stem.get(wanted[-1], ()) if _dotted_parts(path)[-len(wanted) :] == wanted
            ]
            self._candidates[module] = found
        return found

    def resolve(self, importer: str, local: str) -> tuple[str, str] | None:
        """(defining file, name there) for a name `importer` imports from another indexed module."""
        facts = self.modules.get(importer)
        found = facts.imports.get(local) if facts is not None else None
        if found is None:
            return None
        module, attr, level = found
        if attr is None:
            return None  # `import pkg as alias`: a module, not a name in one
        path = self._file_of(importer, module, level)
        return (path, attr) if path is not None else None

    def module_of(self, importer: str, local: str) -> str | None:
        """The file a local name stands for when it names a module: `from app import config`,
        `from . import config`, `import config`, `import app.config as config`."""
        facts = self.modules.get(importer)
        found = facts.imports.get(local) if facts is not None else None
        if found is None:
            return None
        module, attr, level = found
        return self._file_of(importer, ".".join(p for p in (module, attr) if p), level)

    def _file_of(self, importer: str, module: str, level: int) -> str | None:
        """The file `importer` means by `module`: relative imports by folder, absolute ones by
        the longest path suffix that matches, the file nearest the importer first."""
        if level:
            base = os.path.dirname(importer)
            for _ in range(level - 1):
                base = os.path.dirname(base)
            target = os.path.join(base, *module.split(".")) if module else base
            for candidate in (target + ".py", os.path.join(target, "__init__.py")):
                if candidate in self._files:
                    return candidate
            return None
        candidates = self._with_suffix(module)
        if not candidates:
            return None
        return max(candidates, key=lambda c: (len(os.path.commonpath([c, importer])), -len(c)))

    def definition(self, importer: str, local: str, depth: int = 0) -> tuple[str, str] | None:
        """Follow re-exports (`from .server import mcp` in a package `__init__`) to the module
        that assigns the name."""
        found = self.resolve(importer, local)
        if found is None or depth > 4:
            return found
        path, name = found
        facts = self.modules.get(path)
        if facts is None or name in facts.assigned or name in facts.classes:
            return found
        deeper = self.definition(path, name, depth + 1)
        return deeper or found


def _stem(path: str) -> str:
    """The last part of a module's dotted name: `config` for `.../config.py` and `.../config/__init__.py`."""
    head, name = os.path.split(path)
    return os.path.basename(head) if name == "__init__.py" else name[:-3] if name.endswith(".py") else name


def _dotted_parts(path: str) -> list[str]:
    stem = path[:-3] if path.endswith(".py") else path
    parts = [p for p in stem.replace(os.sep, "/").split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return parts

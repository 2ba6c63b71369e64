"""MCP202 for Python: module-level containers that request handlers write."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from ...lang import is_test_file
from ...lang.python import PythonModule
from ...model import Diagnostic
from ...sdk.python import stdio_only
from ...sdk.python_handlers import Scope, lowlevel_receivers, request_scopes, session_derived, within

_CONSTRUCTORS = frozenset(
    {
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.deque",
        "collections.ChainMap",
        "weakref.WeakKeyDictionary",
        "weakref.WeakValueDictionary",
        "weakref.WeakSet",
    }
)
_FIELD = frozenset({"dataclasses.field"})
_BUILTINS = frozenset({"dict", "list", "set", "bytearray"})
_MUTATORS = frozenset(
    {
        "append",
        "appendleft",
        "extend",
        "extendleft",
        "insert",
        "add",
        "update",
        "setdefault",
        "pop",
        "popitem",
        "popleft",
        "remove",
        "discard",
        "clear",
        "sort",
        "reverse",
        "rotate",
        "move_to_end",
        "subtract",
    }
)
_KEYED_MUTATORS = frozenset({"setdefault", "pop"})  # their first argument is a key


@dataclass
class _State:
    """Something shared by every request of the process: a container, a global, a singleton."""

    name: str  # "carts", "Store.items" for a class attribute, "workspace" for a singleton
    node: cst.CSTNode
    kind: str = "container"  # container, global, or singleton
    cls: str = ""  # a singleton's class
    writes: list[tuple[cst.CSTNode, Scope]] = field(default_factory=list)
    attributes: set[str] = field(default_factory=set)  # a singleton's attributes written


@dataclass
class _Class:
    """A class of the module: its instances' container attributes and the methods that write state."""

    containers: set[str]
    writers: dict[str, set[str]]  # method -> attributes it writes (directly or through self.m())


@dataclass
class _Write:
    node: cst.CSTNode  # where the handler writes
    base: cst.BaseExpression  # what it writes: `carts`, `Store.items`, `workspace.files`
    how: str  # mutate (item / method), rebind (`=`, `+=`), or call (`singleton.method()`)
    method: str = ""


def check(module: PythonModule) -> Iterator[Diagnostic]:
    scopes = request_scopes(module) if not is_test_file(module.path) else []
    if not scopes or (not lowlevel_receivers(module) and stdio_only(module)):
        return
    classes = _classes(module)
    states = _module_state(module, classes)
    for scope in scopes:
        local = _locals(module, scope.function)
        declared = {item.name.value for g in within(module, scope.function, cst.Global) for item in g.names}
        for write in _writes(module, scope):
            hit = _resolve(write, states, classes, local, declared)
            if hit is not None:
                state, attributes = hit
                state.writes.append((write.node, scope))
                state.attributes |= attributes
    for state in states.values():
        state.writes.sort(key=lambda w: _position(module, w[0]))
    for state in sorted(states.values(), key=lambda s: _position(module, s.writes[0][0] if s.writes else s.node)):
        if state.writes and not _per_process_by_design(state):
            yield _diagnostic(module, state)


# Caches and the bookkeeping that coordinates concurrent work inside one process (single-flight
# maps of in-flight calls, pending futures): another replica without them only repeats work.
_PER_PROCESS_BY_DESIGN = re.compile(r"(?i)cache|in_?flight|pending_calls")


def _per_process_by_design(state: _State) -> bool:
    """A cache by its name, or a singleton whose only written attributes are caches
    (`parser.cache[url] = page`)."""
    if _PER_PROCESS_BY_DESIGN.search(state.name):
        return True
    return bool(state.attributes) and all(_PER_PROCESS_BY_DESIGN.search(a) for a in state.attributes)


def _diagnostic(module: PythonModule, state: _State) -> Diagnostic:
    node, scope = state.writes[0]
    handlers = sorted({s.via or s.label for _, s in state.writes})
    more = f" (and {len(handlers) - 1} more)" if len(handlers) > 1 else ""
    what = f"module-level `{state.name}`"
    if state.kind == "singleton":
        what += f" (its {', '.join(f'`{a}`' for a in sorted(state.attributes))})"
    return Diagnostic(
        "MCP202",
        module.span(node),
        f"{what} is written by {scope.label}{more}: each replica has its own copy and it is gone on restart, "
        "so the next call, served elsewhere, does not see it; keep it in a shared store (Redis, a database) "
        "keyed by the authenticated principal or an explicit handle",
    )


def _position(module: PythonModule, node: cst.CSTNode) -> tuple[int, int]:
    span = module.span(node)
    return (span.line, span.column)


# -- what the module holds --------------------------------------------------------------------
def _is_container(module: PythonModule, value: cst.BaseExpression | None) -> bool:
    if isinstance(value, (cst.Dict, cst.List, cst.Set, cst.DictComp, cst.ListComp, cst.SetComp)):
        return True
    if isinstance(value, cst.Call):
        if (
            isinstance(value.func, cst.Name)
            and value.func.value in _BUILTINS
            and not module.qualified_names(value.func)
        ):
            return True
        if module.resolves_to(value.func, _FIELD):  # dataclass `field(default_factory=dict)`
            factory = next((a.value for a in value.args if a.keyword and a.keyword.value == "default_factory"), None)
            return factory is not None and _is_container(module, cst.Call(func=factory))
        return module.resolves_to(value.func, _CONSTRUCTORS)
    return False


def _assignments(body: cst.BaseSuite | cst.Module) -> Iterator[tuple[cst.Name, cst.BaseExpression | None]]:
    statements = body.body if isinstance(body, (cst.Module, cst.IndentedBlock)) else []
    for statement in statements:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        yield target.target, small.value
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                yield small.target, small.value


def _module_state(module: PythonModule, classes: dict[str, _Class]) -> dict[str, _State]:
    states: dict[str, _State] = {}
    for name, value in _assignments(module.tree):
        if _is_container(module, value):
            states[name.value] = _State(name.value, name)
        elif isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in classes:
            states[name.value] = _State(name.value, name, "singleton", value.func.value)
        elif value is not None:
            states[name.value] = _State(name.value, name, "global")  # counts only through `global`
    for cls in module.tree.body:
        if isinstance(cls, cst.ClassDef):
            for name, value in _assignments(cls.body):
                per_instance = isinstance(value, cst.Call) and module.resolves_to(value.func, _FIELD)
                if _is_container(module, value) and not per_instance:  # not a dataclass `field(...)`
                    qualified = f"{cls.name.value}.{name.value}"
                    states[qualified] = _State(qualified, name)
    return states


def _classes(module: PythonModule) -> dict[str, _Class]:
    """The module's classes, each with what it inherits from the module's other classes."""
    classes: dict[str, _Class] = {}
    for cls in (c for c in module.tree.body if isinstance(c, cst.ClassDef)):
        described = _describe(module, cls)
        for base in (b.value.value for b in cls.bases if isinstance(b.value, cst.Name)):
            inherited = classes.get(base)
            if inherited is not None:
                described.containers |= inherited.containers
                described.writers = {**inherited.writers, **described.writers}
        classes[cls.name.value] = described
    return classes


def _describe(module: PythonModule, cls: cst.ClassDef) -> _Class:
    """Which attributes of the class's instances are containers, and which methods write them."""
    containers = {name.value for name, value in _assignments(cls.body) if _is_container(module, value)}
    methods = [m for m in cls.body.body if isinstance(m, cst.FunctionDef)]
    for method in methods:
        assigned: list[tuple[cst.BaseExpression, cst.BaseExpression | None]] = [
            (t.target, a.value) for a in within(module, method, cst.Assign) for t in a.targets
        ]
        assigned += [(a.target, a.value) for a in within(module, method, cst.AnnAssign)]
        for target, value in assigned:
            attribute = _self_attribute(target)
            if attribute and _is_container(module, value):
                containers.add(attribute)
    writers: dict[str, set[str]] = {}
    calls: dict[str, set[str]] = {}
    for method in methods:
        written = writers.setdefault(method.name.value, set())
        for write in _function_writes(module, method):
            attribute = _self_attribute(write.base)
            if attribute == "" and write.how == "call":
                calls.setdefault(method.name.value, set()).add(write.method)
            elif attribute and (
                (write.how == "mutate" and attribute in containers) or isinstance(write.node, cst.AugAssign)
            ):  # `self.items.append(x)`, `self.count += 1`
                written.add(attribute)
    for _ in range(3):  # a method that calls a writing method writes too
        for name, callees in calls.items():
            for callee in callees:
                writers[name] |= writers.get(callee, set())
    return _Class(containers, {name: attrs for name, attrs in writers.items() if attrs})


def _self_attribute(expr: cst.BaseExpression) -> str | None:
    """`self.items` -> "items"; `self` -> "" (the instance itself); anything else -> None."""
    if isinstance(expr, cst.Name) and expr.value == "self":
        return ""
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
        return expr.attr.value
    return None


# -- what a handler writes --------------------------------------------------------------------
def _locals(module: PythonModule, function: cst.FunctionDef) -> set[str]:
    """The names a function binds: its parameters, and the targets of its own assignments,
    `for` loops and `with ... as` (not those of the functions and classes defined in it)."""
    params = function.params
    names = {p.name.value for p in (*params.params, *params.kwonly_params, *params.posonly_params)}
    return names | module.memo(_bound_by_function, "mcp202.locals").get(id(function), set())


def _bound_by_function(module: PythonModule) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    targets: list[tuple[cst.CSTNode, cst.BaseExpression]] = [(t, t.target) for t in module.walk(cst.AssignTarget)]
    targets += [(t, t.target) for t in module.walk(cst.AnnAssign)]
    targets += [(t, t.target) for t in module.walk(cst.For)]
    targets += [(t, t.asname.name) for t in module.walk(cst.WithItem) if t.asname is not None]
    for node, target in targets:
        owner = module.parent(node)
        while owner is not None and not isinstance(owner, (cst.FunctionDef, cst.ClassDef)):
            owner = module.parent(owner)
        if isinstance(owner, cst.FunctionDef):
            found.setdefault(id(owner), set()).update(_names(target))
    return found


def _names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for e in target.elements for n in _names(e.value)}
    return set()


def _targets(target: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """`a, b[k] = ...` -> `a`, `b[k]`."""
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _targets(element.value)
    else:
        yield target


def _strip(expr: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(expr, cst.Subscript):
        expr = expr.value
    return expr


def _function_writes(module: PythonModule, function: cst.FunctionDef) -> Iterator[_Write]:
    assigned: list[cst.BaseExpression] = [t.target for t in within(module, function, cst.AssignTarget)]
    assigned += [a.target for a in within(module, function, cst.AnnAssign) if a.value is not None]
    for target in (t for a in assigned for t in _targets(a)):
        how = "mutate" if isinstance(target, cst.Subscript) else "rebind"
        yield _Write(target, _strip(target), how)
    for aug in within(module, function, cst.AugAssign):
        yield _Write(aug, _strip(aug.target), "mutate" if isinstance(aug.target, cst.Subscript) else "rebind")
    for delete in within(module, function, cst.Del):
        for target in _targets(delete.target):
            yield _Write(target, _strip(target), "mutate")
    for call in within(module, function, cst.Call):
        func = call.func
        if isinstance(func, cst.Attribute):
            how = "mutate" if func.attr.value in _MUTATORS else "call"
            yield _Write(call, _strip(func.value), how, func.attr.value)


def _writes(module: PythonModule, scope: Scope) -> Iterator[_Write]:
    """The scope's writes, less those keyed by the session: `store[ctx.session] = ...` and
    `store.pop(id(ctx.session))` are MCP201's findings, not this one."""
    for write in _function_writes(module, scope.function):
        key: cst.BaseExpression | None = None
        node = write.node.target if isinstance(write.node, cst.AugAssign) else write.node
        if isinstance(node, cst.Subscript):
            key = node.slice[0].slice.value if isinstance(node.slice[0].slice, cst.Index) else None
        elif isinstance(node, cst.Call) and write.method in _KEYED_MUTATORS and node.args:
            key = node.args[0].value
        if key is not None and session_derived(module, scope, key):
            continue
        yield write


def _resolve(
    write: _Write, states: dict[str, _State], classes: dict[str, _Class], local: set[str], declared: set[str]
) -> tuple[_State, set[str]] | None:
    """The shared state a write lands in (and for a singleton, the attributes written)."""
    base = write.base
    if isinstance(base, cst.Name):
        state = states.get(base.value)
        if state is None or (base.value in local and base.value not in declared):
            return None
        if write.how == "rebind" and base.value not in declared:
            return None
        if state.kind == "container" and write.how in ("mutate", "rebind"):
            return state, set()
        if state.kind == "global" and write.how == "rebind":
            return state, set()
        if state.kind == "singleton" and write.how == "call":
            writer = _class_of(state, classes).writers.get(write.method)
            return (state, writer) if writer else None
        return None
    if isinstance(base, cst.Attribute) and isinstance(base.value, cst.Name) and write.how != "call":
        owner, attribute = base.value.value, base.attr.value
        state = states.get(f"{owner}.{attribute}")
        if state is not None:
            return state, set()
        state = states.get(owner)
        if state is None or state.kind != "singleton" or owner in local:
            return None
        if write.how == "rebind" or attribute in _class_of(state, classes).containers:
            return state, {attribute}
    return None


def _class_of(state: _State, classes: dict[str, _Class]) -> _Class:
    return classes.get(state.cls) or _Class(set(), {})

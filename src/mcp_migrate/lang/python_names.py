"""Name resolution for a Python module: what each name read refers to, and who reads each binding.

The answers are those of libcst's `ScopeProvider` (and of `QualifiedNameProvider` on top of it),
computed by one walk that follows the same order and the same rules, from the same tree, at a
fraction of the cost: libcst's provider needs an `ExpressionContextProvider` traversal first and
rebuilds every node it visits. The rules, as libcst has them:

- Scopes: the module, each function and lambda, each class, each comprehension, and annotation
  scopes for PEP 695 type parameters, with the builtins above the module. A class scope is not
  visible from the functions, classes and comprehensions nested in it (LEGB).
- Bindings: assignment, annotated and augmented assignment, walrus, `for`, comprehension,
  `with ... as`, `except ... as` targets (names, also inside tuples, lists and starred
  targets), parameters, `def`, `class`, imports (`import a.b` binds `a.b` and `a`), PEP 695
  type parameters and aliases; `global` and `nonlocal` send later bindings of a name to the
  module or the enclosing scope. Every other name (match patterns included) is a read.
- Order: each scope counts its completed binding statements; a read in the same scope as a
  binding refers to it only when the binding came first (or from any other scope). A read
  with nothing before it in its own scope falls back to the parent scope.
- A read at the head of a dotted chain (`a.b.c`) is the read of the longest dotted name an
  import bound (`import a.b`), if any.

Not followed: names inside string annotations (libcst parses those and records their reads
against the string, which no caller here looks at).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import libcst as cst

from .python_tree import TRIVIA, child_fields, structure

LOAD, STORE, DEL = 0, 1, 2
BUILTIN, MODULE, FUNCTION, CLASS, COMPREHENSION, ANNOTATION = range(6)

# Nodes whose completion counts as a binding statement in the scope current at that moment.
_COUNTED = (
    cst.AnnAssign,
    cst.AsName,
    cst.Assign,
    cst.AugAssign,
    cst.ClassDef,
    cst.CompFor,
    cst.FunctionDef,
    cst.Global,
    cst.Import,
    cst.ImportFrom,
    cst.NamedExpr,
    cst.Nonlocal,
    cst.Parameters,
    cst.WithItem,
    cst.TypeVar,
    cst.TypeAlias,
    cst.TypeVarTuple,
    cst.ParamSpec,
)
# Nodes that hold no name: whitespace and punctuation (TRIVIA), operators, literals.
_SKIPPED: tuple[type, ...] = (
    *TRIVIA,
    cst.BaseBinaryOp,
    cst.BaseBooleanOp,
    cst.BaseUnaryOp,
    cst.BaseCompOp,
    cst.BaseAugOp,
    cst.ImportStar,
    cst.ParamSlash,
    cst.ParamStar,
    cst.Asynchronous,
    cst.SimpleString,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.Ellipsis,
    cst.FormattedStringText,
)
# Fields whose names are written (or deleted) rather than read.
_CONTEXTS: dict[type[cst.CSTNode], dict[str, int]] = {
    cst.Assign: {"targets": STORE},
    cst.AnnAssign: {"target": STORE},
    cst.AugAssign: {"target": STORE},
    cst.NamedExpr: {"target": STORE},
    cst.AsName: {"name": STORE},
    cst.CompFor: {"target": STORE},
    cst.Del: {"target": DEL},
}
_KIND: dict[type[cst.CSTNode], int] = {}  # 1: skipped, 2: counted, 0: neither


def _kind(node_type: type[cst.CSTNode]) -> int:
    found = _KIND.get(node_type)
    if found is None:
        found = _KIND[node_type] = 1 if issubclass(node_type, _SKIPPED) else 2 if issubclass(node_type, _COUNTED) else 0
    return found


class Scope:
    __slots__ = ("bindings", "count", "kind", "module", "overrides", "parent", "prefix")
    prefix: str

    def __init__(self, kind: int, parent: Scope | None, name: str | None = None) -> None:
        self.kind = kind
        self.parent: Scope = parent if parent is not None else self
        self.module: Scope = self if kind in (BUILTIN, MODULE) else self.parent.module
        self.bindings: dict[str, list[Binding]] = {}
        self.overrides: dict[str, Scope] = {}  # global / nonlocal declarations
        self.count = 0
        # the qualified-name prefix libcst gives the scope's local bindings
        parts: list[str | None] = [self.parent.prefix] if kind not in (BUILTIN, MODULE) else []
        if kind == FUNCTION:
            parts += [name, "<locals>"]
        elif kind == CLASS:
            parts.append(name)
        elif kind == COMPREHENSION:
            parts.append("<comprehension>")
        self.prefix = ".".join(p for p in parts if p)

    def _visible_from(self, inner: Scope) -> bool:
        return self.kind != CLASS or (inner.parent is self and inner.kind == ANNOTATION)

    def _next_visible(self, inner: Scope, first: Scope | None = None) -> Scope:
        parent = first if first is not None else self.parent
        while not parent._visible_from(inner):
            parent = parent.parent
        return parent

    def target(self, name: str) -> Scope:
        """The scope a binding of `name` made here goes to."""
        override = self.overrides.get(name)
        if override is None:
            return self
        return self._next_visible(self, override).target(name)

    def __contains__(self, name: str) -> bool:
        if self.kind == BUILTIN:
            return hasattr(builtins, name)
        override = self.overrides.get(name)
        if override is not None:
            return name in override
        return name in self.bindings or name in self._next_visible(self)

    def resolve(self, name: str, inner: Scope) -> list[Binding]:
        """The bindings a read of `name` in scope `inner` may refer to, looked up from here."""
        found = self.bindings.get(name)
        if self.kind == BUILTIN:
            if found is None and hasattr(builtins, name):
                found = self.bindings[name] = [Binding(name, self, None, -1)]
            return found or []
        override = self.overrides.get(name)
        if override is not None:
            return self._next_visible(inner, override).resolve(name, inner)
        if found is not None:
            return found
        if self.kind == MODULE:
            return self.parent.resolve(name, self.parent)
        return self._next_visible(inner).resolve(name, inner)


class Binding:
    """A binding of a name: `node` is the Name written, the def, class, parameter or type
    parameter, or the import statement; None for a builtin. `index` orders it in its scope."""

    __slots__ = ("index", "name", "node", "reads", "scope")

    def __init__(self, name: str, scope: Scope, node: cst.CSTNode | None, index: int) -> None:
        self.name = name
        self.scope = scope
        self.node = node
        self.index = index
        self.reads: set[Read] = set()

    def record_reads(self, reads: list[Read]) -> None:
        earlier: list[Read] = []
        for read in reads:
            if read.scope is not self.scope or self.index < read.index:
                self.reads.add(read)
            else:
                earlier.append(read)
        if earlier and self.scope.parent is not self.scope:  # they read what this one shadows
            for shadowed in self.scope.parent.resolve(self.name, self.scope.parent):
                shadowed.record_reads(earlier)

    def qualified_names(self, full_name: str) -> set[str]:
        if self.node is None:
            return {f"builtins.{self.name}"}
        if isinstance(self.node, (cst.Import, cst.ImportFrom)):
            return _import_names(self.node, full_name)
        return {f"{self.scope.prefix}.{full_name}" if self.scope.prefix else full_name}


class Read:
    """A read of a name: `node` is the Name, or the Attribute of the dotted import it reads."""

    __slots__ = ("index", "name", "node", "referents", "scope")

    def __init__(self, node: cst.Name, scope: Scope, index: int) -> None:
        self.node: cst.Name | cst.Attribute = node
        self.scope = scope
        self.index = index
        self.name = node.value  # or the dotted name of the Attribute
        self.referents: set[Binding] = set()


class Names:
    """The scopes, bindings and reads of a module."""

    def __init__(self, module: cst.Module, children: dict[int, list[cst.CSTNode]] | None = None) -> None:
        """`children`: `structure()` of the module's nodes by id, when an Index already has it."""
        self._structure: Callable[[cst.CSTNode], list[cst.CSTNode]] = (
            structure if children is None else (lambda node: children[id(node)])
        )
        self.scope = Scope(MODULE, Scope(BUILTIN, None))
        self.scope_of: dict[int, Scope] = {}
        self.bindings_of: dict[int, list[Binding]] = {}  # id(node) -> the bindings it makes
        self.reads: list[tuple[Read, cst.Attribute | None]] = []
        self.read_of: dict[int, Read] = {}  # id(Name or Attribute) -> its read
        self._attributes: list[cst.Attribute | None] = [None]  # outermost attribute per call level
        self._dotted: set[str] = set()  # dotted names imports bound
        self._visit(module, LOAD)
        self._link()

    # -- queries --------------------------------------------------------------------------------
    def references(self, node: cst.CSTNode, name: str) -> list[cst.Name]:
        """The nodes that read the binding `node` makes of `name` (a write, def or class), when
        the binding lives in the scope it is written in (not under `global` / `nonlocal`)."""
        scope = self.scope_of.get(id(node))
        for binding in self.bindings_of.get(id(node), ()):
            if binding.name == name and binding.scope is scope:
                return [read.node for read in binding.reads if isinstance(read.node, cst.Name)]
        return []

    def referents(self, name: cst.Name) -> set[Binding] | None:
        """The bindings a read may refer to; None when `name` is not a read of its own."""
        read = self.read_of.get(id(name))
        return read.referents if read is not None and read.node is name else None

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """libcst's `QualifiedNameProvider` answer for `node`."""
        scope = self.scope_of.get(id(node))
        if scope is None:
            return set()
        read = self.read_of.get(id(node))
        if read is not None and read.node is node:
            return {q for b in read.referents for q in b.qualified_names(b.name)}
        return _qualified_by_spelling(scope, node)

    # -- the walk -------------------------------------------------------------------------------
    def _visit(self, node: cst.CSTNode, context: int) -> None:
        special = _SPECIAL.get(type(node))
        if special is not None:
            special(self, node, context)
        else:
            self._children(node, context)
        self.scope_of[id(node)] = self.scope
        if _kind(type(node)) == 2:
            self.scope.count += 1

    def _children(self, node: cst.CSTNode, context: int) -> None:
        contexts = _CONTEXTS.get(type(node))
        if contexts is None:
            for child in self._structure(node):
                if _kind(type(child)) != 1:
                    self._visit(child, context)
            return
        for field, value in ((f, getattr(node, f)) for f in child_fields(node)):
            inner = contexts.get(field, context)
            for child in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(child, cst.CSTNode) and _kind(type(child)) != 1:
                    self._visit(child, inner)

    def _bind(self, name: str, node: cst.CSTNode) -> None:
        scope = self.scope.target(name)
        binding = Binding(name, scope, node, scope.count)
        scope.bindings.setdefault(name, []).append(binding)
        self.bindings_of.setdefault(id(node), []).append(binding)
        if "." in name:  # only `import a.b` binds a dotted name
            self._dotted.add(name)

    def _visit_name(self, node: cst.Name, context: int) -> None:
        if context == STORE:
            self._bind(node.value, node)
        else:
            self.reads.append((Read(node, self.scope, self.scope.count), self._attributes[-1]))

    def _visit_attribute(self, node: cst.Attribute, context: int) -> None:
        outermost = self._attributes[-1] is None
        if outermost:
            self._attributes[-1] = node
        self._visit(node.value, LOAD)
        if outermost:
            self._attributes[-1] = None

    def _visit_subscript(self, node: cst.Subscript, context: int) -> None:
        self._children(node, LOAD)

    def _visit_call(self, node: cst.Call, context: int) -> None:
        self._attributes.append(None)
        first = node.args[0].value if node.args else None
        if first is not None and not isinstance(first, cst.SimpleString) and self._is_type_factory(node):
            self._visit(node.func, context)  # libcst skips the name argument of these
            for arg in node.args[1:]:
                self._visit(arg, context)
        else:
            self._children(node, context)
        self._attributes.pop()

    def _is_type_factory(self, node: cst.Call) -> bool:
        names = _qualified_by_spelling(self.scope, node)
        return "typing.NewType" in names or "typing.TypeVar" in names

    def _visit_arg(self, node: cst.Arg, context: int) -> None:
        self._visit(node.value, context)  # the keyword is neither a read nor a binding

    def _visit_import(self, node: cst.Import | cst.ImportFrom, context: int) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            self.scope_of[id(alias)] = self.scope
            if alias.asname is not None:
                if isinstance(alias.asname.name, cst.Name):
                    self._bind(alias.asname.name.value, node)
            else:
                for dotted, _ in _dotted_names(alias.name):
                    self._bind(dotted, node)

    def _visit_function(self, node: cst.FunctionDef, context: int) -> None:
        self._bind(node.name.value, node)
        self.scope_of[id(node.name)] = outer = self.scope
        if node.type_parameters is not None:
            self.scope = Scope(ANNOTATION, outer)
            self._visit(node.type_parameters, context)
        enclosing = self.scope
        self.scope = Scope(FUNCTION, enclosing, node.name.value)
        self._visit(node.params, context)
        self._visit(node.body, context)
        self.scope = enclosing
        for decorator in node.decorators:
            self._visit(decorator, context)
        if node.returns is not None:
            self._visit(node.returns, context)
        self.scope = outer

    def _visit_lambda(self, node: cst.Lambda, context: int) -> None:
        outer = self.scope
        self.scope = Scope(FUNCTION, outer)
        self._visit(node.params, context)
        self._visit(node.body, context)
        self.scope = outer

    def _visit_param(self, node: cst.Param, context: int) -> None:
        self._bind(node.name.value, node)
        self.scope_of[id(node.name)] = inner = self.scope
        self.scope = inner.parent  # defaults and annotations are evaluated outside
        for part in (node.default, node.annotation):
            if part is not None:
                self._visit(part, context)
        self.scope = inner

    def _visit_class(self, node: cst.ClassDef, context: int) -> None:
        self._bind(node.name.value, node)
        self.scope_of[id(node.name)] = outer = self.scope
        for decorator in node.decorators:
            self._visit(decorator, context)
        if node.type_parameters is not None:
            self.scope = Scope(ANNOTATION, outer)
            self._visit(node.type_parameters, context)
        for arg in (*node.bases, *node.keywords):
            self._visit(arg, context)
        self.scope = Scope(CLASS, self.scope, node.name.value)
        for statement in node.body.body:
            self._visit(statement, context)
        self.scope = outer

    def _visit_global(self, node: cst.Global | cst.Nonlocal, context: int) -> None:
        scope = self.scope
        if scope.kind in (MODULE, BUILTIN):
            return  # `global` there changes nothing; `nonlocal` there is a syntax error
        for item in node.names:
            scope.overrides[item.name.value] = scope.module if isinstance(node, cst.Global) else scope.parent

    def _visit_comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp, context: int
    ) -> None:
        comp_for = node.for_in
        self._visit(comp_for.iter, context)  # the first iterable is evaluated outside
        self.scope_of[id(comp_for)] = outer = self.scope
        self.scope = Scope(COMPREHENSION, outer)
        self._visit(comp_for.target, STORE)
        self.scope.count += 1
        for condition in comp_for.ifs:
            self._visit(condition, context)
        if comp_for.inner_for_in is not None:
            self._visit(comp_for.inner_for_in, context)
        if isinstance(node, cst.DictComp):
            self._visit(node.key, context)
            self._visit(node.value, context)
        else:
            self._visit(node.elt, context)
        self.scope = outer

    def _visit_for(self, node: cst.For, context: int) -> None:
        self._visit(node.target, STORE)
        self.scope.count += 1
        for part in (node.iter, node.body, node.orelse):
            if part is not None:
                self._visit(part, context)

    def _visit_type_alias(self, node: cst.TypeAlias, context: int) -> None:
        self._bind(node.name.value, node)
        outer = self.scope
        self.scope = Scope(ANNOTATION, outer)
        if node.type_parameters is not None:
            self._visit(node.type_parameters, context)
        self._visit(node.value, context)
        self.scope = outer

    def _visit_type_var(self, node: cst.TypeVar | cst.TypeVarTuple | cst.ParamSpec, context: int) -> None:
        self._bind(node.name.value, node)
        if isinstance(node, cst.TypeVar) and node.bound is not None:
            self._visit(node.bound, context)

    # -- linking reads and bindings -------------------------------------------------------------
    def _link(self) -> None:
        groups: dict[tuple[Scope, str], list[Read]] = {}
        for read, attribute in self.reads:
            if attribute is not None and self._dotted:
                for dotted, node in _dotted_names(attribute):
                    if dotted in self._dotted and dotted in read.scope and isinstance(node, cst.Attribute):
                        read.node, read.name = node, dotted
                        break
            name = read.name
            read.referents = _referents(read)
            self.read_of[id(read.node)] = read
            groups.setdefault((read.scope, name), []).append(read)
        for (scope, name), reads in groups.items():
            for binding in scope.resolve(name, scope):
                binding.record_reads(reads)


def _referents(read: Read) -> set[Binding]:
    scope = read.scope
    found = scope.resolve(read.name, scope)
    earlier = {b for b in found if b.scope is not scope or b.index < read.index}
    if not earlier and found and scope.parent is not scope:
        earlier = set(scope.parent.resolve(read.name, scope))
    return earlier


_SPECIAL: dict[type[cst.CSTNode], Callable[[Names, Any, int], None]] = {
    cst.Name: Names._visit_name,
    cst.Attribute: Names._visit_attribute,
    cst.Subscript: Names._visit_subscript,
    cst.Call: Names._visit_call,
    cst.Arg: Names._visit_arg,
    cst.Import: Names._visit_import,
    cst.ImportFrom: Names._visit_import,
    cst.FunctionDef: Names._visit_function,
    cst.Lambda: Names._visit_lambda,
    cst.Param: Names._visit_param,
    cst.ClassDef: Names._visit_class,
    cst.Global: Names._visit_global,
    cst.Nonlocal: Names._visit_global,
    cst.ListComp: Names._visit_comprehension,
    cst.SetComp: Names._visit_comprehension,
    cst.DictComp: Names._visit_comprehension,
    cst.GeneratorExp: Names._visit_comprehension,
    cst.For: Names._visit_for,
    cst.TypeAlias: Names._visit_type_alias,
    cst.TypeVar: Names._visit_type_var,
    cst.TypeVarTuple: Names._visit_type_var,
    cst.ParamSpec: Names._visit_type_var,
}


# -- spelling ----------------------------------------------------------------------------------
def full_name(node: cst.CSTNode) -> str | None:
    """libcst's `get_full_name_for_node`."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{full_name(node.value)}.{node.attr.value}"
    if isinstance(node, (cst.Call, cst.Subscript)):
        return full_name(node.func if isinstance(node, cst.Call) else node.value)
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        return full_name(node.name)
    if isinstance(node, cst.Decorator):
        return full_name(node.decorator)
    return None


def _dotted_names(node: cst.BaseExpression) -> list[tuple[str, cst.BaseExpression]]:
    """libcst's `_gen_dotted_names`: `a.b.c` -> a.b.c, a.b, a (each with its node)."""
    if isinstance(node, cst.Name):
        return [(node.value, node)]
    if not isinstance(node, cst.Attribute):
        return []
    value = node.value
    if isinstance(value, cst.Call):
        return _dotted_names(value.func) if isinstance(value.func, (cst.Attribute, cst.Name)) else []
    if not isinstance(value, (cst.Attribute, cst.Name)):
        return []
    inner = _dotted_names(value)
    return [(f"{inner[0][0]}.{node.attr.value}", node), *inner] if inner else []


def _qualified_by_spelling(scope: Scope, node: cst.CSTNode) -> set[str]:
    """libcst's `Scope.get_qualified_names_for` for a node that is not a read."""
    name = full_name(node)
    if name is None:
        return set()
    found: list[Binding] = []
    prefix: str | None = name
    while prefix:
        if prefix in scope:
            found = scope.resolve(prefix, scope)
            break
        cut = prefix.rfind(".")
        prefix = None if cut == -1 else prefix[:cut]
    for binding in found:
        if binding.node is not None and _is_binding_node(node, binding.node):
            return binding.qualified_names(name)
    return {q for b in found for q in b.qualified_names(name)}


def _is_binding_node(node: cst.CSTNode, binder: cst.CSTNode) -> bool:
    if node is binder:
        return True
    if isinstance(binder, (cst.Import, cst.ImportFrom)) and not isinstance(binder.names, cst.ImportStar):
        return any(a.name is node or (a.asname is not None and a.asname.name is node) for a in binder.names)
    return False


def _import_names(node: cst.Import | cst.ImportFrom, full: str) -> set[str]:
    """libcst's `ImportAssignment.get_qualified_names_for`."""
    module = ""
    if isinstance(node, cst.ImportFrom):
        if node.module is not None:
            module = full_name(node.module) or ""
        if node.relative:
            module = "." * len(node.relative) + module
    found: set[str] = set()
    if isinstance(node.names, cst.ImportStar):
        return found
    for alias in node.names:
        real = full_name(alias.name)
        if not real:
            continue
        parts = real.split(".")
        for real_name in (".".join(parts[:i]) for i in range(len(parts), 0, -1)):
            as_name = real_name
            if module and module.endswith("."):
                real_name = f"{module}{real_name}"
            elif module:
                real_name = f"{module}.{real_name}"
            if alias.asname is not None:
                evaluated = alias.evaluated_alias
                if evaluated is not None:
                    as_name = evaluated
            if full.startswith(as_name):
                remaining = full.split(as_name, 1)[1]
                if remaining and not remaining.startswith("."):
                    continue
                remaining = remaining.lstrip(".")
                found.add(f"{real_name}.{remaining}" if remaining else real_name)
                break
    return found

"""Python parsing with libcst: positions, qualified names, name resolution and argument-list edits.

Rules never match by spelling: `qualified_names()` resolves a name through the module's
imports, so `import mcp.server.fastmcp as f; f.FastMCP()` is FastMCP and a local class that
happens to be called FastMCP is not.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import libcst as cst

from ..errors import ParseError
from ..model import Edit, Span
from ..source import LineIndex, bracket_depth
from .python_names import Names
from .python_tree import Index, Positions, Range

N = TypeVar("N", bound=cst.CSTNode)
T = TypeVar("T")


# CPython refuses brackets nested deeper than this ("too many nested parentheses"); libcst's
# native parser accepts more and overflows its stack (a segfault, no message) near 1,100.
MAX_NESTING = 200


# A chain of 8,000 `1 + 1 + ...` takes libcst 24 s and then crashes the process; 3,000 take
# 1.6 s. Such depth needs tens of kilobytes, so only bigger files are measured (with CPython's
# own parser, which is fast and safe).
MAX_SYNTAX_DEPTH = 3000
_DEEP_ENOUGH_TO_CHECK = 12_000


def _syntax_depth(text: str) -> int:
    """The deepest nesting of CPython's syntax tree: 0 when CPython finds a syntax error (libcst
    then reports it itself), unbounded when CPython gives up on the depth (RecursionError)."""
    import ast

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return 0
    except (RecursionError, MemoryError):
        return sys.maxsize
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def parse(text: str) -> cst.Module:
    deepest = bracket_depth(text)
    if deepest > MAX_NESTING:
        raise ParseError(f"brackets nested {deepest} deep, more than CPython accepts ({MAX_NESTING}): not parsed")
    if len(text) > _DEEP_ENOUGH_TO_CHECK:
        depth = _syntax_depth(text)
        if depth > MAX_SYNTAX_DEPTH:
            shown = "too deep for CPython" if depth == sys.maxsize else f"{depth} deep"
            raise ParseError(
                f"an expression nested {shown} (libcst's parser takes quadratic time on it and then "
                f"overflows its stack; the limit is {MAX_SYNTAX_DEPTH}): not parsed"
            )
    try:
        with _parser_built_nodes():
            return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise ParseError(f"syntax error at line {exc.raw_line}, column {exc.raw_column + 1}: {exc.message}") from None
    except (RecursionError, ValueError) as exc:  # pathological nesting, bad encodings
        raise ParseError(f"cannot parse: {exc}") from None


@contextmanager
def _parser_built_nodes() -> Iterator[None]:
    """Skip libcst's per-node validation while its native parser builds a tree.

    Every CSTNode validates itself on construction (`CSTNode.__post_init__`), which is a third
    of parsing; nodes built by the parser from source are valid by construction (libcst's own
    PERF note there says validation belongs elsewhere). Nodes constructed anywhere else,
    including by fixes, are still validated: the hook is restored as soon as parsing ends.
    """
    base = cst.CSTNode
    validate = base.__dict__.get("__post_init__")
    if validate is None:  # a libcst that validates elsewhere: nothing to skip
        yield
        return
    base.__post_init__ = _trusted  # type: ignore[method-assign]
    try:
        yield
    finally:
        base.__post_init__ = validate  # type: ignore[method-assign]


def _trusted(self: cst.CSTNode) -> None:
    return None


class PythonModule:
    """One parsed file plus the metadata rules ask for, computed once and shared."""

    def __init__(self, text: str, newline: str = "\n", path: Path | None = None) -> None:
        self.text = text
        self.newline = newline
        self.path = path
        self.tree = parse(text)
        self.lines = LineIndex(text)
        self.dependencies: set[Path] = set()  # other files and folders an answer was read from
        self._memo: dict[str, Any] = {}

    def memo(self, compute: Callable[[PythonModule], T], key: str) -> T:
        """A per-file analysis shared by several rules, computed once."""
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]  # type: ignore[no-any-return]

    # -- metadata -------------------------------------------------------------------------
    # libcst's metadata providers are not used: each traverses the whole module through
    # visitors that rebuild every node. `_index` (python_tree.Index), `_names`
    # (python_names.Names) and `_positions` (python_tree.Positions) give the same answers.
    @cached_property
    def _index(self) -> Index:
        """Parents, nodes by type and source order, from one traversal."""
        return Index(self.tree)

    @cached_property
    def _names(self) -> Names:
        """Scopes, bindings and reads: what libcst's ScopeProvider computes."""
        return Names(self.tree, self._index.children)

    def unbound_names(self) -> dict[str, cst.CSTNode]:
        """Names read that nothing binds (no assignment, import, parameter or builtin)."""
        return {read.name: read.node for read, _ in self._names.reads if not read.referents}

    def unbound_after_fix(self, before: PythonModule) -> list[str]:
        """What a fix left unbound that the original file did not: the engine's check after
        every Python fix."""
        known = before.unbound_names()
        return [
            f"`{name}` (line {self.span(node).line}) is used but no longer bound"
            for name, node in self.unbound_names().items()
            if name not in known
        ]

    @cached_property
    def _positions(self) -> Positions:
        """What libcst's PositionProvider gives, placed one top-level statement at a time."""
        return Positions(self.tree, self.text, self._top_statement)

    def _top_statement(self, node: cst.CSTNode) -> cst.CSTNode | None:
        parents = self._index.parents
        current, parent = node, parents.get(id(node))
        while parent is not None and parent is not self.tree:
            current, parent = parent, parents.get(id(parent))
        return current if parent is self.tree and any(s is current for s in self.tree.body) else None

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._index.parents.get(id(node))

    def qualified_names(self, node: cst.CSTNode, wanted: frozenset[str] | set[str] | None = None) -> set[str]:
        """What a name or attribute chain refers to, through the module's imports.

        The module's absolute imports answer directly; only an imported name the module also
        binds itself (a class, def, assignment, loop or parameter of that name) needs the
        scope-aware answer (libcst's QualifiedNameProvider's, from `_names`).
        """
        dotted = _dotted(node) if isinstance(node, (cst.Name, cst.Attribute)) else ""
        head, _, rest = dotted.partition(".")
        targets = self._imports.get(head)
        if dotted and targets is None:
            return set()  # not imported: a local object, never an SDK's
        if targets is not None:
            candidates = {f"{target}.{rest}" if rest else target for target in targets}
            # Shadowed or not, a name whose import is not one we look for cannot become one.
            if head not in self._bound_locally or (wanted is not None and candidates.isdisjoint(wanted)):
                return candidates
        return self._names.qualified_names(node)

    @cached_property
    def _imports(self) -> dict[str, tuple[str, ...]]:
        """Local name -> dotted names, for every absolute import in the module. A name imported
        more than once (`try: from a import X` / `except ImportError: from b import X`) may be
        either at run time: every import of it counts."""
        found: dict[str, tuple[str, ...]] = {}

        def add(local: str, target: str) -> None:
            known = found.get(local, ())
            if target not in known:
                found[local] = (*known, target)

        for imp in self.walk(cst.Import):
            for alias in imp.names:
                name = _dotted(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    add(alias.asname.name.value, name)
                else:
                    head = name.partition(".")[0]
                    add(head, head)
        for node in self.walk(cst.ImportFrom):
            if node.module is None or node.relative or isinstance(node.names, cst.ImportStar):
                continue
            module = _dotted(node.module)
            for alias in node.names:
                local = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(local, cst.Name):
                    add(local.value, f"{module}.{_dotted(alias.name)}")
        return found

    @cached_property
    def _bound_locally(self) -> set[str]:
        """Names the module binds other than by import: they may shadow an import."""
        bound = {n.name.value for n in self.walk(cst.ClassDef)}
        bound.update(n.name.value for n in self.walk(cst.FunctionDef))
        bound.update(p.name.value for p in self.walk(cst.Param))
        targets: list[cst.BaseExpression] = [t.target for t in self.walk(cst.AssignTarget)]
        targets += [t.target for t in self.walk(cst.AnnAssign)]
        targets += [t.target for t in self.walk(cst.AugAssign)]
        targets += [t.target for t in self.walk(cst.For)]
        targets += [item.asname.name for item in self.walk(cst.WithItem) if item.asname is not None]
        targets += [h.name.name for h in self.walk(cst.ExceptHandler) if h.name is not None]
        for target in targets:
            if isinstance(target, cst.Name):
                bound.add(target.value)
            elif isinstance(target, (cst.Tuple, cst.List)):
                bound.update(e.value.value for e in target.elements if isinstance(e.value, cst.Name))
        return bound

    def resolves_to(self, node: cst.CSTNode, names: frozenset[str] | set[str]) -> bool:
        return not self.qualified_names(node, names).isdisjoint(names)

    def imports_any(self, prefixes: Sequence[str]) -> bool:
        """Whether the module imports a package (or submodule) named by one of `prefixes`."""
        for node in self.walk((cst.Import, cst.ImportFrom)):
            if isinstance(node, cst.Import):
                names = [_dotted(alias.name) for alias in node.names]
            elif isinstance(node, cst.ImportFrom) and node.module is not None and not node.relative:
                names = [_dotted(node.module)]
            else:
                continue
            if any(n == p or n.startswith(p + ".") for n in names for p in prefixes):
                return True
        return False

    # -- positions ------------------------------------------------------------------------
    def span(self, node: cst.CSTNode) -> Span:
        line, column, end_line, end_column = self._range(node)
        return Span(line, column + 1, end_line, end_column + 1)

    def start(self, node: cst.CSTNode) -> int:
        line, column, _, _ = self._range(node)
        return self.lines.offset(line, column)

    def end(self, node: cst.CSTNode) -> int:
        _, _, line, column = self._range(node)
        return self.lines.offset(line, column)

    def _range(self, node: cst.CSTNode) -> Range:
        return self._positions[node]

    def source(self, node: cst.CSTNode) -> str:
        return self.text[self.start(node) : self.end(node)]

    # -- traversal ------------------------------------------------------------------------
    def walk(self, kind: type[N] | tuple[type[N], ...]) -> Iterator[N]:
        """Every node of one concrete type (or of several), in source order."""
        kinds = kind if isinstance(kind, tuple) else (kind,)
        by_type = self._index.by_type
        if len(kinds) == 1:
            yield from by_type.get(kinds[0], ())  # type: ignore[misc]
            return
        order = self._index.order
        found = [node for k in kinds for node in by_type.get(k, ())]
        yield from sorted(found, key=lambda n: order[id(n)])  # type: ignore[misc]

    def references(self, binding: cst.Name | cst.FunctionDef | cst.ClassDef) -> list[cst.Name]:
        """Names that read what `binding` binds: an assignment target, a def or a class; in
        source order."""
        name = binding.value if isinstance(binding, cst.Name) else binding.name.value
        order = self._index.order
        return sorted(self._names.references(binding, name), key=lambda n: order[id(n)])

    def binding_value(self, name: cst.Name) -> cst.BaseExpression | None:
        """The value a name was assigned, when exactly one simple assignment binds it."""
        referents = self._names.referents(name)
        if referents is None or len(referents) != 1:
            return None
        node = next(iter(referents)).node
        holder = self.parent(node) if node is not None else None
        if isinstance(holder, cst.AssignTarget):
            assign = self.parent(holder)
            if isinstance(assign, cst.Assign) and len(assign.targets) == 1:
                return assign.value
        if isinstance(holder, cst.AnnAssign):
            return holder.value
        return None

    def default_value(self, name: cst.Name) -> cst.BaseExpression | None:
        """The value a name has unless a condition changes it: its one simple assignment, or,
        of several, the only one not inside an `if`/loop/`try`/`with` (`x = default` then
        `if option: x = other`)."""
        value = self.binding_value(name)
        if value is not None:
            return value
        referents = self._names.referents(name)
        if not referents:
            return None
        unconditional = []
        for binding in referents:
            holder = self.parent(binding.node) if binding.node is not None else None
            assign = self.parent(holder) if isinstance(holder, cst.AssignTarget) else None
            if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
                return None  # bound some other way (a loop, a parameter, an import)
            if not self._conditional(assign):
                unconditional.append(assign.value)
        return unconditional[0] if len(unconditional) == 1 else None

    def parameter_of(self, name: cst.Name) -> cst.Param | None:
        """The function parameter a read refers to, when that is its only binding."""
        referents = self._names.referents(name)
        if referents is None or len(referents) != 1:
            return None
        node = next(iter(referents)).node
        if isinstance(node, cst.Param):
            return node
        parent = self.parent(node) if node is not None else None
        return parent if isinstance(parent, cst.Param) else None

    def _conditional(self, node: cst.CSTNode) -> bool:
        current = self.parent(node)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Module)):
            if isinstance(current, (cst.If, cst.For, cst.While, cst.Try, cst.With, cst.IfExp)):
                return True
            current = self.parent(current)
        return False

    def keyword_entries(self, call: cst.Call) -> dict[str, cst.BaseExpression] | None:
        """What `f(**options)` passes, when `options` is a dict the module spells out: the
        string keys of its literal and of every `options["key"] = value` in the same function
        (the last one wins). None when any `**` argument cannot be followed."""
        entries: dict[str, cst.BaseExpression] = {}
        for arg in call.args:
            if arg.star != "**":
                continue
            if not isinstance(arg.value, cst.Name):
                return None
            literal = self.default_value(arg.value)
            if not isinstance(literal, cst.Dict):
                return None
            for element in literal.elements:
                key = string_value(element.key) if isinstance(element, cst.DictElement) else None
                if key is None or not isinstance(element, cst.DictElement):
                    return None
                entries[key] = element.value
            scope = self._function_of(call)
            for assign in self.walk(cst.Assign):
                target = assign.targets[0].target if len(assign.targets) == 1 else None
                if (
                    isinstance(target, cst.Subscript)
                    and isinstance(target.value, cst.Name)
                    and target.value.value == arg.value.value
                    and self._function_of(assign) is scope
                    and len(target.slice) == 1
                    and isinstance(target.slice[0].slice, cst.Index)
                ):
                    key = string_value(target.slice[0].slice.value)
                    if key is None:
                        return None
                    entries[key] = assign.value
        return entries

    def _function_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        current = self.parent(node)
        while current is not None and not isinstance(current, cst.FunctionDef):
            current = self.parent(current)
        return current

    # -- comments -------------------------------------------------------------------------
    @cached_property
    def comments(self) -> dict[int, tuple[int, str]]:
        """(column, text) of the comment on each line: real comments only, never strings."""
        found: dict[int, tuple[int, str]] = {}
        try:
            # Universal newlines: a lone CR ends a line for CPython, libcst and LineIndex alike
            # (a plain StringIO splits at LF only, and every later comment was a line off).
            for tok in tokenize.generate_tokens(io.StringIO(self.text, newline=None).readline):
                if tok.type == tokenize.COMMENT:
                    found[tok.start[0]] = (tok.start[1], tok.string)
        except (tokenize.TokenError, SyntaxError):
            pass
        return found


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


# -- small expression helpers ----------------------------------------------------------------
def string_value(node: cst.BaseExpression | None) -> str | None:
    """The value of a plain (non f-) string literal, else None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            value = node.evaluated_value
        except (SyntaxError, ValueError):  # libcst evaluates with `ast.literal_eval`: a NUL byte in it
            return None
        return value if isinstance(value, str) else None
    return None


def bool_value(node: cst.BaseExpression | None) -> bool | None:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def replace_string(module: PythonModule, node: cst.BaseExpression, value: str) -> Edit:
    """Replace a string literal's value, keeping its prefix and quote style."""
    source = module.source(node)
    body = len(source) - len(source.lstrip("rRbBuU"))
    quote = source[body : body + 3] if source[body : body + 3] in ('"""', "'''") else source[body]
    return Edit(module.start(node), module.end(node), f"{source[:body]}{quote}{value}{quote}")


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def imports_for(module: PythonModule, *targets: str) -> tuple[list[str], list[Edit]] | None:
    """The local names under which each target (`os`, or `package.module.Name`) is usable, and
    the edit that imports those the module does not have yet: top-level import lines, in the
    order given, after the last one. None when a name an import would bind is already bound to
    something else, or the module has no top-level import to go after."""
    names: list[str] = []
    lines: list[str] = []
    for target in targets:
        existing = [
            local
            for local, imported in module._imports.items()
            if imported == (target,) and local not in module._bound_locally
        ]
        if existing:
            names.append(existing[0])
            continue
        package, _, name = target.rpartition(".")
        local = name or target
        if local in module._imports or local in module._bound_locally:
            return None
        names.append(local)
        lines.append(f"import {target}" if not package else f"from {package} import {name}")
    if not lines:
        return names, []
    last = None
    for statement in module.tree.body:
        if isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body
        ):
            last = statement
    if last is None:
        return None
    end = module.end(last)
    if module.text.startswith(module.newline, end):
        end += len(module.newline)
    return names, [Edit(end, end, "".join(f"{line}{module.newline}" for line in lines))]


def argument(call: cst.Call, name: str, position: int | None = None) -> cst.Arg | None:
    """A keyword argument, or the positional one at `position` when given that way."""
    found = keyword(call, name)
    if found is None and position is not None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if len(positional) > position:
            found = positional[position]
    return found


def method_call(module: PythonModule, receiver: cst.CSTNode) -> tuple[str, cst.Call] | None:
    """For `receiver.method(...)`, the method name and the call node."""
    attr = module.parent(receiver)
    if isinstance(attr, cst.Attribute) and attr.value is receiver:
        call = module.parent(attr)
        if isinstance(call, cst.Call) and call.func is attr:
            return attr.attr.value, call
    return None


# -- argument-list edits ---------------------------------------------------------------------
_TRAILER = re.compile(r"[ \t]*,?[ \t]*(#[^\r\n]*)?(\r\n|\r|\n)")


def edit_arguments(
    module: PythonModule,
    call: cst.Call,
    *,
    remove: Sequence[cst.Arg] = (),
    replace: dict[int, str] | None = None,
    append: Sequence[str] = (),
) -> list[Edit]:
    """Edits that remove arguments, replace argument values and append `name=value` items.

    The call's formatting is kept: a one-line call stays one line; in a call with one
    argument per line, removed arguments take their whole line with them and appended ones
    get a line of their own with the same indentation and trailing-comma style.
    `replace` maps an argument's index to the new source of its value.
    """
    text = module.text
    args = list(call.args)
    removed = {id(a) for a in remove}
    kept = [a for a in args if id(a) not in removed]
    edits: list[Edit] = []
    open_end = text.index("(", module.end(call.func)) + 1
    close_start = module.end(call) - 1  # positions exclude parentheses around the call
    multiline = any(c in text[open_end:close_start] for c in "\r\n")

    for index, new_value in (replace or {}).items():
        value = args[index].value
        edits.append(Edit(module.start(value), module.end(value), new_value))

    if not kept:
        if args:  # everything goes: empty the parentheses
            edits = [Edit(open_end, close_start, ", ".join(append))]
            return edits
        if append:
            edits.append(Edit(open_end, open_end, ", ".join(append)))
        return edits

    # Removals: whole lines where every argument on them goes, else argument + one separator.
    tail = len(args)
    while tail > 0 and id(args[tail - 1]) in removed:
        tail -= 1
    with_lines: set[int] = set()
    if multiline:
        for group in _by_start_line(module, args):
            if all(id(a) in removed for a in group):
                line_span = _own_lines(module, group[0], group[-1])
                if line_span is not None:
                    edits.append(Edit(*line_span))
                    with_lines.update(id(a) for a in group)
    for position, arg in enumerate(args):
        if id(arg) not in removed or id(arg) in with_lines:
            continue
        if position < tail:
            edits.append(Edit(module.start(arg), module.start(args[position + 1])))
        else:  # part of a removed tail: cut from the end of the last kept argument
            edits.append(Edit(module.end(args[tail - 1]), module.end(arg)))
    edits = _merge_adjacent(edits)

    # Appends go after the last kept argument.
    if append:
        last = kept[-1]
        last_end = module.end(last)
        if not multiline:
            edits.append(Edit(last_end, last_end, "".join(f", {item}" for item in append)))
        else:
            indent = _indent_of(module, last)
            newline = module.newline
            line_span = _own_lines(module, last, last)
            has_comma = text[last_end:].lstrip(" \t").startswith(",")
            at = line_span[1] if line_span is not None else -1
            if line_span is not None and has_comma and not any(e.start < at < e.end for e in edits):
                edits.append(Edit(at, at, "".join(f"{indent}{item},{newline}" for item in append)))
            else:
                joined = "".join(f",{newline}{indent}{item}" for item in append)
                edits.append(Edit(last_end, last_end, joined))
    return edits


def _merge_adjacent(edits: list[Edit]) -> list[Edit]:
    """Deletions that touch become one, so appends never land between them."""
    merged: list[Edit] = []
    for edit in sorted(edits):
        if merged and merged[-1].end >= edit.start and not merged[-1].text and not edit.text:
            merged[-1] = Edit(merged[-1].start, max(merged[-1].end, edit.end))
        else:
            merged.append(edit)
    return merged


def _by_start_line(module: PythonModule, args: Sequence[cst.Arg]) -> list[list[cst.Arg]]:
    groups: dict[int, list[cst.Arg]] = {}
    for arg in args:
        groups.setdefault(module.span(arg).line, []).append(arg)
    return list(groups.values())


def _own_lines(module: PythonModule, first: cst.Arg, last: cst.Arg) -> tuple[int, int] | None:
    """(start, end) of the full lines from `first` to `last`, when nothing else shares them."""
    text = module.text
    start, end = module.start(first), module.end(last)
    line_start = module.lines.line_start(start)
    if text[line_start:start].strip():
        return None
    trailer = _TRAILER.match(text, end)
    if trailer is None:
        return None
    return line_start, trailer.end()


def _indent_of(module: PythonModule, arg: cst.Arg) -> str:
    start = module.start(arg)
    prefix = module.text[module.lines.line_start(start) : start]
    return prefix if not prefix.strip() else " " * len(prefix)

"""TypeScript and JavaScript parsing with tree-sitter: positions, imports, bindings and edits.

One module covers `.ts`, `.tsx` and the JavaScript suffixes; each dialect gets its own
grammar (a `<T>x` cast is TypeScript, `<T>x</T>` is JSX). Rules never match by spelling:
`imported()` resolves a name through the file's ES imports, `require` calls and, for a
relative module, that module's re-exports, so `import { StreamableHTTPServerTransport as T }`
is recognised and a local class that happens to share the name is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar

import tree_sitter
import tree_sitter_javascript
import tree_sitter_typescript

from ..errors import ParseError
from ..model import Edit, Span
from ..source import LineIndex

Node = tree_sitter.Node
T = TypeVar("T")

DIALECTS = ("typescript", "tsx", "javascript")
_FUNCTIONS = frozenset(
    {"arrow_function", "function_expression", "function_declaration", "method_definition", "generator_function"}
)
_RESOLVABLE_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".jsx")
_MAX_REEXPORT_DEPTH = 4


@cache
def _parser(dialect: str) -> tree_sitter.Parser:
    if dialect == "typescript":
        grammar = tree_sitter_typescript.language_typescript()
    elif dialect == "tsx":
        grammar = tree_sitter_typescript.language_tsx()
    else:
        grammar = tree_sitter_javascript.language()
    return tree_sitter.Parser(tree_sitter.Language(grammar))


def dialect_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".ts", ".mts", ".cts"):
        return "typescript"
    return "tsx" if suffix == ".tsx" else "javascript"


class TsModule:
    """One parsed file plus the indexes rules ask for, computed once and shared."""

    def __init__(self, text: str, newline: str = "\n", path: Path | None = None, dialect: str = "typescript") -> None:
        self.text = text
        self.newline = newline
        self.path = path
        self.dialect = dialect
        self.lines = LineIndex(text)
        self._bytes = text.encode("utf-8")
        self.tree = _parser(dialect).parse(self._bytes)
        self.root = self.tree.root_node
        if self.root.has_error:
            raise ParseError(self._first_error())
        self._memo: dict[str, Any] = {}

    def _first_error(self) -> str:
        for node in self._descendants(self.root):
            if node.is_error or node.is_missing:
                line, column = self.lines.position(self.start(node))
                what = f"missing {node.type}" if node.is_missing else "unexpected input"
                return f"syntax error at line {line}, column {column + 1}: {what}"
        return "syntax error"

    def memo(self, compute: Callable[[TsModule], T], key: str) -> T:
        """A per-file analysis shared by several rules, computed once."""
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]  # type: ignore[no-any-return]

    # -- positions ----------------------------------------------------------------------------
    @cached_property
    def _char_of_byte(self) -> list[int] | None:
        """tree-sitter counts bytes; edits and spans count characters. None: they agree."""
        if len(self._bytes) == len(self.text):
            return None
        table = [0] * (len(self._bytes) + 1)
        offset = 0
        for index, char in enumerate(self.text):
            width = len(char.encode("utf-8"))
            for k in range(width):
                table[offset + k] = index
            offset += width
        table[offset] = len(self.text)
        return table

    def _char(self, byte: int) -> int:
        table = self._char_of_byte
        return byte if table is None else table[byte]

    def start(self, node: Node) -> int:
        return self._char(node.start_byte)

    def end(self, node: Node) -> int:
        return self._char(node.end_byte)

    def source(self, node: Node) -> str:
        return self.text[self.start(node) : self.end(node)]

    def span(self, node: Node) -> Span:
        line, column = self.lines.position(self.start(node))
        end_line, end_column = self.lines.position(self.end(node))
        return Span(line, column + 1, end_line, end_column + 1)

    # -- traversal ----------------------------------------------------------------------------
    @staticmethod
    def _descendants(node: Node) -> Iterator[Node]:
        cursor = node.walk()
        while True:
            yield cursor.node  # type: ignore[misc]
            if cursor.goto_first_child():
                continue
            while not cursor.goto_next_sibling():
                if not cursor.goto_parent():
                    return

    @cached_property
    def _by_type(self) -> dict[str, list[Node]]:
        """Named nodes by type, in source order, from one traversal."""
        index: dict[str, list[Node]] = {}
        for node in self._descendants(self.root):
            if node.is_named:
                index.setdefault(node.type, []).append(node)
        return index

    def walk(self, *types: str) -> list[Node]:
        """Nodes of the given types in source order."""
        if len(types) == 1:
            return self._by_type.get(types[0], [])
        found = [n for t in types for n in self._by_type.get(t, [])]
        return sorted(found, key=lambda n: n.start_byte)

    def descendants(self, node: Node, *types: str) -> Iterator[Node]:
        for child in self._descendants(node):
            if child.type in types:
                yield child

    @cached_property
    def comments(self) -> dict[int, tuple[int, str]]:
        """{line: (0-based column, comment text)} for `//` and one-line `/* */` comments."""
        found: dict[int, tuple[int, str]] = {}
        for node in self.walk("comment"):
            line, column = self.lines.position(self.start(node))
            found[line] = (column, self.source(node).splitlines()[0])
        return found

    # -- names --------------------------------------------------------------------------------
    def name(self, node: Node | None) -> str | None:
        """The text of an identifier-like node, a string literal's value, or None."""
        if node is None:
            return None
        if node.type in ("identifier", "property_identifier", "shorthand_property_identifier", "type_identifier"):
            return self.source(node)
        return string_value(self, node)

    @cached_property
    def imports(self) -> dict[str, tuple[str, str]]:
        """Local name -> (module specifier, exported name); "*" for a whole-module binding."""
        return _bindings_of(self)

    def imported(self, node: Node | None) -> tuple[str, str] | None:
        """(module, export) that an identifier or `ns.member` expression refers to, through
        imports, `require` and relative modules' re-exports; None for anything local."""
        node = unwrap(node)
        if node is None:
            return None
        if node.type == "identifier":
            found = self.imports.get(self.source(node))
        elif node.type == "member_expression":
            base = self.imported(node.child_by_field_name("object"))
            prop = node.child_by_field_name("property")
            if base is None or prop is None or base[1] not in ("*", "default"):
                return None
            found = (base[0], self.source(prop))
        else:
            return None
        if found is None or self._shadowed(node):
            return None
        return self._follow(found, 0)

    def _follow(self, found: tuple[str, str], depth: int) -> tuple[str, str]:
        module, export = found
        if not module.startswith(".") or self.path is None or depth >= _MAX_REEXPORT_DEPTH or export == "*":
            return found
        target = _resolve_relative(self.path.parent, module)
        if target is None:
            return found
        exports = _exports_of(target)
        if export in exports:
            origin, name = exports[export]
            if origin.startswith("."):
                return (_relative_to(target, origin, self.path), name)  # keep following from there
            return (origin, name)
        for star in exports.get("*", ()):  # type: ignore[union-attr]
            if not star.startswith("."):
                return found  # an `export *` from a package: unknowable without that package
        return found

    def _shadowed(self, node: Node) -> bool:
        """True when the identifier is re-bound by a parameter or declaration in an enclosing function."""
        if node.type != "identifier":
            return False
        name = self.source(node)
        scope = enclosing_function(node)
        while scope is not None:
            params = scope.child_by_field_name("parameters") or scope.child_by_field_name("parameter")
            if params is not None and name in _pattern_names(self, params):
                return True
            body = scope.child_by_field_name("body")
            if body is not None and _declares(self, body, name):
                return True
            scope = enclosing_function(scope)
        return False

    def binding(self, identifier: Node) -> Node | None:
        """The value a `const`/`let`/`var` name was initialised with, in the nearest enclosing
        scope that declares it (statements only: a value reassigned later is not followed)."""
        name = self.source(identifier)
        scope: Node | None = enclosing_function(identifier)
        while True:
            container = self.root if scope is None else scope.child_by_field_name("body")
            if container is not None:
                for declarator in _declarators(container):
                    target = declarator.child_by_field_name("name")
                    if target is not None and target.type == "identifier" and self.source(target) == name:
                        return declarator.child_by_field_name("value")
            if scope is None:
                return None
            scope = enclosing_function(scope)

    def resolve(self, node: Node | None) -> Node | None:
        """Follow identifiers to their initialiser (a few steps) and strip `as`, `!` and parens."""
        node = unwrap(node)
        for _ in range(5):
            if node is None or node.type != "identifier":
                return node
            value = self.binding(node)
            if value is None:
                return node
            node = unwrap(value)
        return node


# -- helpers shared by rules ------------------------------------------------------------------
_WRAPPERS = frozenset(
    {"parenthesized_expression", "as_expression", "non_null_expression", "satisfies_expression", "type_assertion"}
)


def unwrap(node: Node | None) -> Node | None:
    """`(x)`, `x as T`, `x!`, `x satisfies T`, `<T>x` -> x."""
    while node is not None and node.type in _WRAPPERS:
        node = node.named_children[0] if node.type != "type_assertion" else node.named_children[-1]
    return node


def enclosing_function(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None and parent.type not in _FUNCTIONS:
        parent = parent.parent
    return parent


def string_value(module: TsModule, node: Node | None) -> str | None:
    """The value of a string literal or a template without substitutions."""
    node = unwrap(node)
    if node is None:
        return None
    if node.type == "string" or (node.type == "template_string" and not _has_substitution(node)):
        return module.source(node)[1:-1]
    return None


def _has_substitution(node: Node) -> bool:
    return any(child.type == "template_substitution" for child in node.children)


def object_properties(module: TsModule, obj: Node) -> Iterator[tuple[str | None, Node]]:
    """(key, property node) for `{a: 1, b, ...rest, [k]: v, m() {}}`; key None for spreads
    and computed keys."""
    for child in obj.named_children:
        if child.type == "pair":
            yield module.name(child.child_by_field_name("key")), child
        elif child.type == "shorthand_property_identifier":
            yield module.source(child), child
        elif child.type == "method_definition":
            yield module.name(child.child_by_field_name("name")), child
        elif child.type == "spread_element":
            yield None, child


def property_value(node: Node) -> Node | None:
    """The value of a `pair`, the identifier of a shorthand property, the method itself."""
    if node.type == "pair":
        return node.child_by_field_name("value")
    return node


def call_arguments(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    return [] if args is None else [a for a in args.named_children if a.type != "comment"]


def remove_list_item(module: TsModule, item: Node) -> tuple[Edit, ...]:
    """Remove one element of a comma-separated list (object members, arguments) with its
    comma, and its whole line when it stood alone there, so formatting stays as it was."""
    text = module.text
    start, end = module.start(item), module.end(item)
    after, before = item.next_sibling, item.prev_sibling
    line_start = module.lines.line_start(start)
    alone = not text[line_start:start].strip()
    if after is not None and after.type == ",":
        end = module.end(after)
        newline = text.find("\n", end)
        line_end = len(text) if newline < 0 else newline + 1
        if alone and not text[end:line_end].strip():
            return (Edit(line_start, line_end),)
        while end < len(text) and text[end] in " \t":
            end += 1
        return (Edit(start, end),)
    if before is not None and before.type == ",":
        if alone:  # the last member on its own line: its line, and the comma before it
            newline = text.find("\n", end)
            line_end = len(text) if newline < 0 else newline + 1
            if not text[end:line_end].strip():
                return (Edit(module.start(before), module.end(before)), Edit(line_start, line_end))
        return (Edit(module.start(before), end),)
    return (Edit(start, end),)


# -- imports ----------------------------------------------------------------------------------
def _bindings_of(module: TsModule) -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for statement in module.root.named_children:
        if statement.type == "import_statement":
            _es_import(module, statement, table)
        elif statement.type in ("lexical_declaration", "variable_declaration"):
            for declarator in statement.named_children:
                if declarator.type == "variable_declarator":
                    _require_binding(module, declarator, table)
    return table


def _es_import(module: TsModule, statement: Node, table: dict[str, tuple[str, str]]) -> None:
    source = string_value(module, statement.child_by_field_name("source"))
    if source is None:  # `import x = require("m")`
        for child in statement.named_children:
            if child.type == "import_require_clause":
                ident = child.named_children[0]
                required = string_value(module, child.child_by_field_name("source"))
                if required is not None:
                    table[module.source(ident)] = (required, "*")
        return
    for clause in statement.named_children:
        if clause.type != "import_clause":
            continue
        for part in clause.named_children:
            if part.type == "identifier":
                table[module.source(part)] = (source, "default")
            elif part.type == "namespace_import":
                table[module.source(part.named_children[0])] = (source, "*")
            elif part.type == "named_imports":
                for spec in part.named_children:
                    if spec.type != "import_specifier":
                        continue
                    name = module.name(spec.child_by_field_name("name"))
                    alias = spec.child_by_field_name("alias")
                    if name is not None:
                        table[module.source(alias) if alias else name] = (source, name)


def _required_module(module: TsModule, node: Node | None) -> str | None:
    """`require("m")` or `await import("m")` -> "m"."""
    node = unwrap(node)
    if node is not None and node.type == "await_expression":
        node = unwrap(node.named_children[0])
    if node is None or node.type != "call_expression":
        return None
    function = node.child_by_field_name("function")
    if function is None or function.type not in ("identifier", "import") or module.source(function) not in (
        "require",
        "import",
    ):
        return None
    args = call_arguments(node)
    return string_value(module, args[0]) if len(args) == 1 else None


def _require_binding(module: TsModule, declarator: Node, table: dict[str, tuple[str, str]]) -> None:
    target = declarator.child_by_field_name("name")
    value = unwrap(declarator.child_by_field_name("value"))
    if target is None or value is None:
        return
    required = _required_module(module, value)
    export = "*"
    if required is None and value.type == "member_expression":  # require("m").X
        required = _required_module(module, value.child_by_field_name("object"))
        prop = value.child_by_field_name("property")
        export = module.source(prop) if prop is not None else "*"
    if required is None:
        return
    if target.type == "identifier":
        table[module.source(target)] = (required, export)
    elif target.type == "object_pattern" and export == "*":
        for prop in target.named_children:
            if prop.type == "shorthand_property_identifier_pattern":
                table[module.source(prop)] = (required, module.source(prop))
            elif prop.type == "pair_pattern":
                key = module.name(prop.child_by_field_name("key"))
                alias = prop.child_by_field_name("value")
                if key is not None and alias is not None and alias.type == "identifier":
                    table[module.source(alias)] = (required, key)


def _resolve_relative(folder: Path, specifier: str) -> Path | None:
    base = folder / specifier
    stem = base.with_suffix("") if base.suffix in (".js", ".mjs", ".cjs", ".jsx") else base
    candidates = [base] if base.suffix in _RESOLVABLE_SUFFIXES else []
    candidates += [stem.with_name(stem.name + s) for s in _RESOLVABLE_SUFFIXES]
    candidates += [stem / f"index{s}" for s in _RESOLVABLE_SUFFIXES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _relative_to(target: Path, origin: str, importer: Path) -> str:
    """A specifier `origin` written in `target`, rewritten relative to `importer`'s folder."""
    resolved = (target.parent / origin).resolve()
    try:
        rel = resolved.relative_to(importer.parent.resolve())
        return "./" + rel.as_posix()
    except ValueError:
        return str(resolved)


@cache
def _exports_of(path: Path) -> dict[str, Any]:
    """What a module re-exports: {name: (module, name)} plus "*": [modules of `export *`].
    Only re-exports of imported names are followed; local definitions are not MCP SDK classes."""
    try:
        module = TsModule(path.read_text("utf-8"), path=path, dialect=dialect_of(path))
    except (OSError, UnicodeDecodeError, ParseError):
        return {}
    exports: dict[str, Any] = {"*": []}
    for statement in module.walk("export_statement"):
        if statement.parent is not module.root and statement.parent != module.root:
            continue
        source = string_value(module, statement.child_by_field_name("source"))
        clause = next((c for c in statement.named_children if c.type == "export_clause"), None)
        if clause is None:
            if source is not None and any(c.type == "*" for c in statement.children):
                exports["*"].append(source)
            continue
        for spec in clause.named_children:
            if spec.type != "export_specifier":
                continue
            name = module.name(spec.child_by_field_name("name"))
            alias = spec.child_by_field_name("alias")
            if name is None:
                continue
            exported = module.name(alias) if alias is not None else name
            if exported is None:
                continue
            if source is not None:
                exports[exported] = (source, name)
            elif name in module.imports:
                exports[exported] = module.imports[name]
    return exports


# -- scopes -----------------------------------------------------------------------------------
def _pattern_names(module: TsModule, node: Node) -> set[str]:
    names = set()
    for child in TsModule._descendants(node):
        if child.type in ("identifier", "shorthand_property_identifier_pattern"):
            parent = child.parent
            if parent is not None and parent.type == "pair_pattern" and parent.child_by_field_name("key") == child:
                continue
            names.add(module.source(child))
    if node.type == "identifier":
        names.add(module.source(node))
    return names


def _declarators(container: Node) -> Iterable[Node]:
    """Variable declarators directly in a block (not in nested functions)."""
    for statement in container.named_children:
        if statement.type in ("lexical_declaration", "variable_declaration"):
            yield from (d for d in statement.named_children if d.type == "variable_declarator")
        elif statement.type == "export_statement":
            for inner in statement.named_children:
                if inner.type in ("lexical_declaration", "variable_declaration"):
                    yield from (d for d in inner.named_children if d.type == "variable_declarator")


def _declares(module: TsModule, body: Node, name: str) -> bool:
    for declarator in _declarators(body):
        target = declarator.child_by_field_name("name")
        if target is not None and name in _pattern_names(module, target):
            return True
    return False


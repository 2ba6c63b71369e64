"""TypeScript and JavaScript parsing with tree-sitter: positions, imports, bindings and edits.

One module covers `.ts`, `.tsx` and the JavaScript suffixes; each dialect gets its own
grammar (a `<T>x` cast is TypeScript, `<T>x</T>` is JSX). Rules never match by spelling:
`imported()` resolves a name through the file's ES imports, `require` and `await import()`
(at any scope) and, for a relative module, that module's re-exports, so
`import { StreamableHTTPServerTransport as T }` is recognised and a local class, a parameter or
a block-scoped declaration that happens to share the name is not.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar

import tree_sitter
import tree_sitter_javascript
import tree_sitter_typescript

from ..errors import ParseError
from ..model import Edit, Span
from ..source import LineIndex, bracket_depth
from .tsconfig import PathAliases, aliases_for, resolve_alias

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

    def __init__(
        self,
        text: str,
        newline: str = "\n",
        path: Path | None = None,
        dialect: str = "typescript",
        partial: bool = False,
    ) -> None:
        """`partial`: keep a tree with syntax errors (`syntax_errors` lists them) instead of
        raising ParseError; rules then see the statements around the broken ones."""
        self.text = text
        self.newline = newline
        self.path = path
        # Files and folders read to follow relative re-exports: the answers depend on them too.
        self.dependencies: set[Path] = set()
        self._origins: dict[tuple[str, str], tuple[str, str]] = {}
        self.dialect = dialect
        self.lines = LineIndex(text)
        _check_nesting(text)
        self._bytes = text.encode("utf-8")
        self.tree = _parser(dialect).parse(self._bytes)
        self.root = self.tree.root_node
        self.syntax_errors: list[Node] = []
        if self.root.has_error:
            if not partial:
                raise ParseError(self._first_error())
            self.syntax_errors = [n for n in self._descendants(self.root) if n.is_error or n.is_missing]
        self._memo: dict[str, Any] = {}

    def _first_error(self) -> str:
        for node in self._descendants(self.root):
            if node.is_error or node.is_missing:
                return self.describe_error(node)
        return "syntax error"

    def describe_error(self, node: Node) -> str:
        line, column = self.lines.position(self.start(node))
        what = f"missing {node.type}" if node.is_missing else "unexpected input"
        return f"syntax error at line {line}, column {column + 1}: {what}"

    def broken_statements(self) -> list[Node]:
        """The top-level statements that hold a syntax error."""
        return [s for s in self.root.children if s.has_error or s.is_error or s.is_missing]

    def broken_statement(self, offset: int) -> bool:
        """The top-level statement holding `offset` contains a syntax error: what rules say
        about it cannot be trusted."""
        for statement in self.root.children:
            if statement.start_byte <= offset < max(statement.end_byte, statement.start_byte + 1):
                return statement.has_error or statement.is_error or statement.is_missing
        return False

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
        return self._index[0]

    @cached_property
    def _index(self) -> tuple[dict[str, list[Node]], dict[str, list[int]], dict[str, list[int]]]:
        """Named nodes by type in pre-order, with their start bytes and pre-order numbers."""
        nodes: dict[str, list[Node]] = {}
        starts: dict[str, list[int]] = {}
        orders: dict[str, list[int]] = {}
        for order, node in enumerate(self._descendants(self.root)):
            if node.is_named:
                kind = node.type
                same = nodes.get(kind)
                if same is None:
                    nodes[kind], starts[kind], orders[kind] = [node], [node.start_byte], [order]
                else:
                    same.append(node)
                    starts[kind].append(node.start_byte)
                    orders[kind].append(order)
        return nodes, starts, orders

    def walk(self, *types: str) -> list[Node]:
        """Nodes of the given types in source order."""
        if len(types) == 1:
            return self._by_type.get(types[0], [])
        found = [n for t in types for n in self._by_type.get(t, [])]
        return sorted(found, key=lambda n: n.start_byte)

    def descendants(self, node: Node, *types: str) -> Iterator[Node]:
        """`node` and the nodes below it of the given (named) types, in pre-order: looked up in
        the index by byte range instead of walking the subtree."""
        nodes, starts, orders = self._index
        start, end = node.start_byte, node.end_byte
        found: list[tuple[int, Node]] = []
        for kind in types:
            of_kind = nodes.get(kind)
            if of_kind is None:
                continue
            kind_starts, kind_orders = starts[kind], orders[kind]
            for i in range(bisect_left(kind_starts, start), len(of_kind)):
                if kind_starts[i] >= end and not (kind_starts[i] == end == start):
                    break
                candidate = of_kind[i]
                if candidate.end_byte > end:
                    continue  # an ancestor starting where `node` does
                if candidate.start_byte == start and candidate.end_byte == end and not _at_or_below(candidate, node):
                    continue  # an ancestor spanning exactly `node`
                found.append((kind_orders[i], candidate))
        if len(types) > 1:
            found.sort(key=lambda pair: pair[0])
        return iter([candidate for _, candidate in found])

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

    def specifier(self, written: str) -> str:
        """An import specifier as the compiler resolves it: tsconfig `paths` aliases become the
        package path under node_modules or a relative specifier (see lang/tsconfig.py)."""
        if self.path is None or written.startswith((".", "/")):
            return written
        aliases = self._aliases
        if aliases is None:
            return written
        return resolve_alias(written, self.path, aliases) or written

    @cached_property
    def _aliases(self) -> PathAliases | None:
        if self.path is None:
            return None
        aliases = aliases_for(self.path.parent)
        if aliases is not None:
            self.dependencies.update(aliases.files)
        return aliases

    def imported(self, node: Node | None) -> tuple[str, str] | None:
        """(module, export) that an identifier or `ns.member` expression refers to, through
        imports, `require` / `await import()` (at any scope) and relative modules' re-exports;
        None for anything local, including a name re-bound in an enclosing scope."""
        node = unwrap(node)
        if node is None:
            return None
        if node.type == "identifier":
            name = self.source(node)
            if name not in self._importable:
                return None
            declaration = self.declaration(node)
            if declaration is None:
                found = self.imports.get(name)
            elif declaration.type == "variable_declarator":
                table: dict[str, tuple[str, str]] = {}
                _require_binding(self, declaration, table)
                found = table.get(name)
            else:
                found = None
        elif node.type == "member_expression":
            base = self.imported(node.child_by_field_name("object"))
            prop = node.child_by_field_name("property")
            if base is None or prop is None or base[1] not in ("*", "default"):
                return None
            found = (base[0], self.source(prop))
        else:
            return None
        if found is None or self.path is None:
            return found
        return self._origin(found)

    def import_origin(self, local: str) -> tuple[str, str] | None:
        """(module, export) a module-level import binds `local` to, through relative re-exports."""
        found = self.imports.get(local)
        if found is None or self.path is None:
            return found
        return self._origin(found)

    def _origin(self, found: tuple[str, str]) -> tuple[str, str]:
        assert self.path is not None
        if not found[0].startswith("."):
            return found
        origin = self._origins.get(found)
        if origin is None:
            origin = self._origins[found] = _origin(self.path, found[0], found[1], 0, self.dependencies) or found
        return origin

    @cached_property
    def _importable(self) -> frozenset[str]:
        """Names some import, `require` or `await import()` binds somewhere in the file: any
        other name is local without looking at scopes."""
        table = dict(self.imports)
        for declarator in self.walk("variable_declarator"):
            _require_binding(self, declarator, table)
        return frozenset(table)

    def declaration(self, identifier: Node) -> Node | None:
        """The nearest declaration of a name as seen from `identifier`: a variable declarator,
        a parameter list, a class or function declaration, a catch clause, a loop head. None
        when only an import declares it (or nothing does: a global)."""
        return _declaration(self, self.source(identifier), identifier)

    def binding(self, identifier: Node) -> Node | None:
        """The value a `const`/`let`/`var` name was initialised with, in the nearest enclosing
        scope (function or block) that declares it. A value reassigned later is not followed."""
        declaration = self.declaration(identifier)
        if declaration is None or declaration.type != "variable_declarator":
            return None
        target = declaration.child_by_field_name("name")
        if target is None or target.type != "identifier" or self.source(target) != self.source(identifier):
            return None  # destructured: not the whole value
        return declaration.child_by_field_name("value")

    def resolve(self, node: Node | None) -> Node | None:
        """Follow identifiers (and shorthand properties, which name one) to their initialiser,
        a few steps, stripping `as`, `!`, `satisfies`, `<T>` casts and parens."""
        node = unwrap(node)
        for _ in range(5):
            if node is None or node.type not in ("identifier", "shorthand_property_identifier"):
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


# Deeper bracket nesting than any real program has: the analyses walk the tree recursively.
MAX_NESTING = 400


def _check_nesting(text: str) -> None:
    deepest = bracket_depth(text)
    if deepest > MAX_NESTING:
        raise ParseError(f"brackets nested {deepest} deep (more than {MAX_NESTING}): not analysed")


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
    return remove_list_items(module, [item])


def remove_list_items(module: TsModule, items: Iterable[Node]) -> tuple[Edit, ...]:
    """Remove several elements of comma-separated lists in one fix. Neighbours are removed as
    one run (its commas and lines together), so the edits never overlap: removing the last two
    members of `{a, b, c}` takes the comma after `a` once, not twice."""
    by_list: dict[int, tuple[Node, set[int]]] = {}
    for item in items:
        parent = item.parent
        if parent is not None:
            by_list.setdefault(parent.id, (parent, set()))[1].add(item.id)
    edits: list[Edit] = []
    for parent, chosen in by_list.values():
        run: list[Node] = []
        for member in [*(c for c in parent.named_children if c.type != "comment"), None]:
            if member is not None and member.id in chosen:
                run.append(member)
                continue
            if run:
                edits.extend(_remove_run(module, run[0], run[-1]))
                run = []
    return tuple(sorted(edits))


def _remove_run(module: TsModule, first: Node, last: Node) -> tuple[Edit, ...]:
    text = module.text
    start, end = module.start(first), module.end(last)
    after = last.next_sibling
    before = first.prev_sibling
    while before is not None and before.type == "comment":
        before = before.prev_sibling
    line_start = module.lines.line_start(start)
    alone = not text[line_start:start].strip()

    def line_end(offset: int) -> int:
        newline = text.find("\n", offset)
        return len(text) if newline < 0 else newline + 1

    if after is not None and after.type == ",":
        end = module.end(after)
        if alone and not text[end : line_end(end)].strip():
            return (Edit(line_start, line_end(end)),)
        while end < len(text) and text[end] in " \t":
            end += 1
        return (Edit(start, end),)
    if before is not None and before.type == ",":
        if alone and not text[end : line_end(end)].strip():
            # the last members on lines of their own: their lines, and the comma before them
            return (Edit(module.start(before), module.end(before)), Edit(line_start, line_end(end)))
        return (Edit(module.start(before), end),)
    if alone and not text[end : line_end(end)].strip():  # the only member, on its own line(s)
        return (Edit(line_start, line_end(end)),)
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
    if source is not None:
        source = module.specifier(source)
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
    if function is None or function.type not in ("identifier", "import"):
        return None
    if module.source(function) not in ("require", "import"):
        return None
    args = call_arguments(node)
    written = string_value(module, args[0]) if len(args) == 1 else None
    return module.specifier(written) if written is not None else None


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


def _resolve_relative(folder: Path, specifier: str, dependencies: set[Path]) -> Path | None:
    base = folder / specifier
    stem = base.with_suffix("") if base.suffix in (".js", ".mjs", ".cjs", ".jsx") else base
    dependencies.update((base.parent, stem))  # a file created in either changes the answer
    candidates = [base] if base.suffix in _RESOLVABLE_SUFFIXES else []
    candidates += [stem.with_name(stem.name + s) for s in _RESOLVABLE_SUFFIXES]
    candidates += [stem / f"index{s}" for s in _RESOLVABLE_SUFFIXES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _origin(importer: Path, specifier: str, export: str, depth: int, dependencies: set[Path]) -> tuple[str, str] | None:
    """The package module and name that `export` of `specifier` (written in `importer`) comes
    from, through relative modules' `export {..} from`, `export { imported }` and `export *`;
    None when unknown (a local definition, a file that is missing or does not parse)."""
    if not specifier.startswith("."):
        return (specifier, export)
    if depth >= _MAX_REEXPORT_DEPTH or export == "*":
        return None
    target = _resolve_relative(importer.parent, specifier, dependencies)
    if target is None:
        return None
    dependencies.add(target)
    exports = _exports_of(target)
    if export in exports:
        origin, name = exports[export]
        return _origin(target, origin, name, depth + 1, dependencies)
    packages = []
    for star in exports["*"]:
        if star.startswith("."):
            found = _origin(target, star, export, depth + 1, dependencies)
            if found is not None:
                return found
        else:
            packages.append(star)
    # `export *` from packages: which one holds the name is unknowable without them, but when
    # they are all one package (or one npm scope) that is where it comes from.
    if packages and len({_package_scope(p) for p in packages}) == 1:
        return (packages[0], export)
    return None


def _package_scope(specifier: str) -> str:
    """`@scope/pkg/sub.js` -> `@scope`, `pkg/sub` -> `pkg`."""
    return specifier.split("/", 1)[0]


def _at_or_below(candidate: Node, node: Node) -> bool:
    """Whether `candidate`, which spans exactly the bytes of `node`, is `node` or inside it."""
    current: Node | None = candidate
    while current is not None and current.start_byte == node.start_byte and current.end_byte == node.end_byte:
        if current == node:
            return True
        current = current.parent
    return False


def _exports_of(path: Path) -> dict[str, Any]:
    """What a module re-exports: {name: (module, name)} plus "*": [modules of `export *`].
    Only re-exports of imported names are followed; local definitions are not MCP SDK classes."""
    try:
        info = path.stat()
    except OSError:
        return {"*": []}
    return _exports_at(path, (info.st_size, info.st_mtime_ns, info.st_ctime_ns))


@cache
def _exports_at(path: Path, stamp: tuple[int, int, int]) -> dict[str, Any]:
    """`_exports_of` for the file as it is at `stamp` (a long-lived process sees edits)."""
    try:
        module = TsModule(path.read_text("utf-8"), path=path, dialect=dialect_of(path))
    except (OSError, UnicodeDecodeError, ParseError):
        return {"*": []}
    exports: dict[str, Any] = {"*": []}
    for statement in module.root.named_children:
        if statement.type != "export_statement":
            continue
        source = string_value(module, statement.child_by_field_name("source"))
        clause = next((c for c in statement.named_children if c.type == "export_clause"), None)
        if clause is None:
            namespace = next((c for c in statement.named_children if c.type == "namespace_export"), None)
            if source is not None and namespace is not None:  # `export * as sdk from "m"`
                exported_as = module.name(namespace.named_children[0]) if namespace.named_children else None
                if exported_as is not None:
                    exports[exported_as] = (source, "*")
            elif source is not None and any(c.type == "*" for c in statement.children):
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
_BLOCKS = frozenset({"program", "statement_block", "switch_case", "switch_default", "class_static_block"})
_NAMED_DECLARATIONS = frozenset(
    {
        "class_declaration",
        "abstract_class_declaration",
        "function_declaration",
        "generator_function_declaration",
        "enum_declaration",
    }
)


def _declaration(module: TsModule, name: str, node: Node) -> Node | None:
    """Walk out from `node` to the nearest scope that declares `name` (see TsModule.declaration)."""
    scope = node.parent
    while scope is not None:
        kind = scope.type
        if kind in _FUNCTIONS:
            params = scope.child_by_field_name("parameters") or scope.child_by_field_name("parameter")
            if params is not None and name in _pattern_names(module, params):
                return params
        elif kind in _BLOCKS:
            found = _declared_in_block(module, scope, name)
            if found is not None:
                return found
        elif kind == "catch_clause":
            param = scope.child_by_field_name("parameter")
            if param is not None and name in _pattern_names(module, param):
                return scope
        elif kind == "for_in_statement":
            left = scope.child_by_field_name("left")
            declares = any(c.type in ("const", "let", "var") for c in scope.children)
            if declares and left is not None and name in _pattern_names(module, left):
                return scope
        elif kind == "for_statement":
            init = scope.child_by_field_name("initializer")
            if init is not None and init.type in ("lexical_declaration", "variable_declaration"):
                for declarator in init.named_children:
                    if declarator.type == "variable_declarator" and _binds_name(module, declarator, name):
                        return declarator
        scope = scope.parent
    return None


def _declared_in_block(module: TsModule, block: Node, name: str) -> Node | None:
    for statement in block.named_children:
        if statement.type == "export_statement":
            inner = statement.child_by_field_name("declaration")
            if inner is None:
                continue
            statement = inner
        if statement.type in ("lexical_declaration", "variable_declaration"):
            for declarator in statement.named_children:
                if declarator.type == "variable_declarator" and _binds_name(module, declarator, name):
                    return declarator
        elif statement.type in _NAMED_DECLARATIONS and module.name(statement.child_by_field_name("name")) == name:
            return statement
    return None


def _binds_name(module: TsModule, declarator: Node, name: str) -> bool:
    target = declarator.child_by_field_name("name")
    return target is not None and name in _pattern_names(module, target)


def _pattern_names(module: TsModule, node: Node) -> set[str]:
    """Names a binding pattern (or parameter list) binds: not property keys, not defaults' or
    types' names."""
    names: set[str] = set()
    _collect_names(module, node, names)
    return names


def _collect_names(module: TsModule, node: Node, names: set[str]) -> None:
    kind = node.type
    if kind in ("identifier", "shorthand_property_identifier_pattern"):
        names.add(module.source(node))
    elif kind == "pair_pattern":
        value = node.child_by_field_name("value")
        if value is not None:
            _collect_names(module, value, names)
    elif kind in ("assignment_pattern", "object_assignment_pattern"):
        left = node.child_by_field_name("left")
        if left is not None:
            _collect_names(module, left, names)
    elif kind in ("required_parameter", "optional_parameter"):
        pattern = node.child_by_field_name("pattern")
        if pattern is not None:
            _collect_names(module, pattern, names)
    elif kind in ("formal_parameters", "object_pattern", "array_pattern", "rest_pattern"):
        for child in node.named_children:
            _collect_names(module, child, names)

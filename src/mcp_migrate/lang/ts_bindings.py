"""Which declaration every name of a TypeScript/JavaScript file refers to, and what a rewrite
did to them.

A rewrite that deletes a declaration but still emits a use of it (`server.close()` after the
branch that declared `server` went) type-checks nowhere and throws a `ReferenceError` at run
time; one that deletes the last use of a map, an import or a helper leaves dead code the
project's linter fails on. Both are seen by comparing the file's bindings before and after:
`rewrite_report` gives the names the rewrite left unbound and the declarations it freed (used
before, used by nothing after). Scopes follow the language: blocks for `let`/`const`/`class`,
functions for parameters and `var`, hoisted function declarations, imports at the top;
types and values share one namespace here, which only ever makes a name look more used.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from ..model import Edit
from .typescript import Node, TsModule, remove_list_items

FUNCTIONS = frozenset(
    {
        "arrow_function",
        "function_expression",
        "function_declaration",
        "generator_function",
        "generator_function_declaration",
        "method_definition",
    }
)
_BLOCKS = frozenset({"program", "statement_block", "switch_case", "switch_default", "class_static_block"})
_GENERIC_TYPES = frozenset({"type_alias_declaration", "interface_declaration"})
_LOOPS = frozenset({"for_statement", "for_in_statement"})
_CLASSES = frozenset({"class", "class_declaration", "abstract_class_declaration"})
_DECLARED_BY_NAME = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
        "abstract_class_declaration",
        "enum_declaration",
        "interface_declaration",
        "type_alias_declaration",
        "internal_module",
        "function_signature",
    }
)
# Globals every runtime the MCP SDK runs on has (ECMAScript, web-standard APIs, Node, Workers,
# Deno, Bun): a rewrite may write them although the file did not use them before.
GLOBALS = frozenset(
    {
        "Array",
        "Boolean",
        "Date",
        "Error",
        "Headers",
        "JSON",
        "Map",
        "Math",
        "Number",
        "Object",
        "Promise",
        "Request",
        "Response",
        "Set",
        "String",
        "Symbol",
        "TypeError",
        "URL",
        "console",
        "crypto",
        "fetch",
        "globalThis",
        "setTimeout",
        "clearTimeout",
        "structuredClone",
        "undefined",
    }
)
_REFERENCES = frozenset({"identifier", "shorthand_property_identifier", "type_identifier"})
# Types whose parameters are names only inside the type: `(req: Request) => void`, overloads.
_SIGNATURES = frozenset(
    {
        "function_type",
        "constructor_type",
        "method_signature",
        "abstract_method_signature",
        "call_signature",
        "construct_signature",
        "function_signature",
    }
)


@dataclass(eq=False)
class Declaration:
    """One declared name: `node` is the identifier that declares it, `statement` what removing
    the declaration removes (None for parameters, loop and catch variables)."""

    name: str
    node: Node
    kind: str  # import, variable, function, class, type, parameter, local
    statement: Node | None
    references: list[Node] = field(default_factory=list)

    @property
    def exported(self) -> bool:
        parent = self.statement.parent if self.statement is not None else None
        return parent is not None and parent.type == "export_statement"


@dataclass
class Bindings:
    declarations: list[Declaration]
    unbound: list[Node]  # references nothing in the file declares: globals, or a broken file

    def by_offset(self, module: TsModule) -> dict[int, Declaration]:
        return {module.start(d.node): d for d in self.declarations}


def bindings(module: TsModule) -> Bindings:
    return module.memo(_bindings, "ts.bindings")


def _bindings(module: TsModule) -> Bindings:
    scopes: dict[int, dict[str, Declaration]] = {}
    declarations: list[Declaration] = []
    declaring: set[int] = set()

    def declare(scope: Node, name_node: Node, kind: str, statement: Node | None) -> None:
        declaration = Declaration(module.source(name_node), name_node, kind, statement)
        scopes.setdefault(scope.id, {}).setdefault(declaration.name, declaration)
        declarations.append(declaration)
        declaring.add(name_node.id)

    for node in _all(module.root):
        kind = node.type
        if kind in _BLOCKS:
            for statement in node.named_children:
                _declare_statement(module, node, statement, declare)
        elif kind in FUNCTIONS:
            _declare_function(module, node, declare)
        elif kind in _SIGNATURES:
            parameters = node.child_by_field_name("parameters")
            for ident in _pattern_identifiers(parameters) if parameters is not None else ():
                declare(node, ident, "parameter", None)
        elif kind == "index_signature":
            name = node.child_by_field_name("name")
            if name is not None:
                declare(node, name, "parameter", None)
        elif kind == "mapped_type_clause" and node.parent is not None:  # `[K in keyof T]`
            name = node.child_by_field_name("name")
            if name is not None:
                declare(node.parent, name, "type", None)
        elif kind == "infer_type":  # `T extends Map<infer U, unknown> ? U : never`
            scope = node.parent
            while scope is not None and scope.type != "conditional_type":
                scope = scope.parent
            name = node.named_children[0] if node.named_children else None
            if scope is not None and name is not None:
                declare(scope, name, "type", None)
        elif kind == "class":
            name = node.child_by_field_name("name")
            if name is not None:
                declare(node, name, "class", None)
        elif kind == "catch_clause":
            parameter = node.child_by_field_name("parameter")
            if parameter is not None:
                for ident in _pattern_identifiers(parameter):
                    declare(node, ident, "local", None)
        elif kind in _LOOPS:
            _declare_loop(module, node, declare)
        if kind in _CLASSES or kind in FUNCTIONS or kind in _SIGNATURES or kind in _GENERIC_TYPES:
            parameters = node.child_by_field_name("type_parameters")
            for parameter in parameters.named_children if parameters is not None else ():
                name = parameter.child_by_field_name("name")
                if name is not None:
                    declare(node, name, "type", None)

    unbound: list[Node] = []
    for node in _all(module.root):
        if node.type not in _REFERENCES or node.id in declaring or not _is_reference(node):
            continue
        text = module.source(node)
        scope = node.parent
        while scope is not None:
            found = scopes.get(scope.id, {}).get(text)
            if found is not None:
                found.references.append(node)
                break
            scope = scope.parent
        else:
            unbound.append(node)
    return Bindings(declarations, unbound)


def _all(root: Node) -> Iterator[Node]:
    cursor = root.walk()
    while True:
        node = cursor.node
        assert node is not None
        yield node
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def _declare_statement(module: TsModule, scope: Node, statement: Node, declare) -> None:  # type: ignore[no-untyped-def]
    if statement.type == "export_statement":
        inner = statement.child_by_field_name("declaration")
        if inner is None:
            return
        statement = inner
    kind = statement.type
    if kind == "import_statement":
        for clause in statement.named_children:
            if clause.type == "import_require_clause":
                declare(scope, clause.named_children[0], "import", statement)
            if clause.type != "import_clause":
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    declare(scope, part, "import", part)
                elif part.type == "namespace_import":
                    declare(scope, part.named_children[0], "import", part)
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        if spec.type == "import_specifier":
                            name = spec.child_by_field_name("alias") or spec.child_by_field_name("name")
                            if name is not None and name.type == "identifier":
                                declare(scope, name, "import", spec)
    elif kind == "lexical_declaration" or (kind == "variable_declaration" and scope.type == "program"):
        _declare_variables(module, scope, statement, declare)
    elif kind in _DECLARED_BY_NAME:
        name = statement.child_by_field_name("name")
        if name is not None and name.type in ("identifier", "type_identifier"):
            what = "function" if "function" in kind else "class" if "class" in kind else "type"
            declare(scope, name, what, statement)
    elif kind == "ambient_declaration":
        for child in statement.named_children:
            _declare_statement(module, scope, child, declare)


def _declare_variables(module: TsModule, scope: Node, statement: Node, declare) -> None:  # type: ignore[no-untyped-def]
    declarators = [d for d in statement.named_children if d.type == "variable_declarator"]
    for declarator in declarators:
        target = declarator.child_by_field_name("name")
        if target is None:
            continue
        whole = statement if len(declarators) == 1 and target.type == "identifier" else None
        for name in _pattern_identifiers(target):
            declare(scope, name, "variable" if whole is not None else "local", whole)


def _declare_function(module: TsModule, function: Node, declare) -> None:  # type: ignore[no-untyped-def]
    if function.type in ("function_expression", "generator_function"):
        name = function.child_by_field_name("name")
        if name is not None:
            declare(function, name, "function", None)
    parameters = function.child_by_field_name("parameters") or function.child_by_field_name("parameter")
    if parameters is not None:
        for name in _pattern_identifiers(parameters):
            declare(function, name, "parameter", None)
    body = function.child_by_field_name("body")
    if body is None or body.type != "statement_block":
        return
    for statement in _var_statements(body):  # `var` is the function's, wherever it is written
        _declare_variables(module, function, statement, declare)


def _var_statements(node: Node) -> Iterator[Node]:
    for child in node.named_children:
        if child.type == "variable_declaration":
            yield child
        elif child.type in FUNCTIONS or child.type in _CLASSES:
            continue
        elif child.type in _LOOPS:
            yield from (c for c in child.named_children if c.type == "variable_declaration")
            yield from _var_statements(child)
        else:
            yield from _var_statements(child)


def _declare_loop(module: TsModule, loop: Node, declare) -> None:  # type: ignore[no-untyped-def]
    if loop.type == "for_statement":
        init = loop.child_by_field_name("initializer")
        if init is not None and init.type == "lexical_declaration":
            for declarator in init.named_children:
                target = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
                for name in _pattern_identifiers(target) if target is not None else ():
                    declare(loop, name, "local", None)
        return
    left = loop.child_by_field_name("left")
    if left is not None and any(c.type in ("const", "let") for c in loop.children):
        for name in _pattern_identifiers(left):
            declare(loop, name, "local", None)


def _pattern_identifiers(node: Node) -> Iterator[Node]:
    """The identifiers a binding pattern or parameter list declares (not keys, defaults, types)."""
    kind = node.type
    if kind in ("identifier", "shorthand_property_identifier_pattern"):
        yield node
    elif kind == "pair_pattern":
        value = node.child_by_field_name("value")
        if value is not None:
            yield from _pattern_identifiers(value)
    elif kind in ("assignment_pattern", "object_assignment_pattern"):
        left = node.child_by_field_name("left")
        if left is not None:
            yield from _pattern_identifiers(left)
    elif kind in ("required_parameter", "optional_parameter"):
        pattern = node.child_by_field_name("pattern")
        if pattern is not None:
            yield from _pattern_identifiers(pattern)
    elif kind in ("formal_parameters", "object_pattern", "array_pattern", "rest_pattern"):
        for child in node.named_children:
            yield from _pattern_identifiers(child)


def _is_reference(node: Node) -> bool:
    """An identifier that reads a name: not a label, a property key, or an import/export's name
    in the other module."""
    parent = node.parent
    if parent is None:
        return False
    kind = parent.type
    if kind == "export_specifier":
        return parent.child_by_field_name("name") == node and _local_export(parent)
    if kind in ("import_specifier", "namespace_export", "import_require_clause", "namespace_import"):
        return False
    if kind in ("labeled_statement", "break_statement", "continue_statement"):
        return False
    grandparent = parent.parent
    if kind in ("required_parameter", "optional_parameter") and grandparent is not None:
        return grandparent.type != "tuple_type"  # `[key: string, value: number]`: labels
    if kind == "nested_type_identifier":  # `ns.Type`: only the namespace is a name here
        return parent.child_by_field_name("module") == node
    return not (kind == "member_expression" and parent.child_by_field_name("property") == node)


def _local_export(specifier: Node) -> bool:
    """`export { a }` reads `a`; `export { a } from "m"` does not."""
    statement = specifier.parent.parent if specifier.parent is not None else None
    return statement is None or statement.child_by_field_name("source") is None


# -- what a rewrite did ---------------------------------------------------------------------
@dataclass
class RewriteReport:
    unbound: list[tuple[str, int]]  # (name, line in the rewritten file) of new unbound uses
    freed: list[Declaration]  # declarations of the original file that only the rewrite left unused
    introduced_unused: list[tuple[str, int]]  # names the rewrite's own text declares and nothing uses


def rewrite_report(before: TsModule, after: TsModule, edits: Sequence[Edit]) -> RewriteReport:
    """Compare bindings before and after `edits` (offsets in `before`) made `after`."""
    old, new = bindings(before), bindings(after)
    globals_before = {before.source(n) for n in old.unbound} | GLOBALS
    unbound = []
    for node in new.unbound:
        name = after.source(node)
        if name not in globals_before:
            unbound.append((name, after.span(node).line))
    originals = old.by_offset(before)
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    freed: list[Declaration] = []
    introduced: list[tuple[str, int]] = []
    for declaration in new.declarations:
        if declaration.references or declaration.exported:
            continue
        origin = original_offset(after.start(declaration.node), ordered)
        if origin is None:
            if declaration.kind not in ("parameter", "type"):
                introduced.append((declaration.name, after.span(declaration.node).line))
            continue
        original = originals.get(origin)
        if original is not None and original.references:
            freed.append(original)
    return RewriteReport(unbound, freed, introduced)


def original_offset(offset: int, edits: Sequence[Edit]) -> int | None:
    """Where a position of the edited text was in the original (edits sorted); None inside
    text an edit wrote."""
    shift = 0
    for edit in edits:
        start = edit.start + shift
        if offset < start:
            break
        if offset < start + len(edit.text):
            return None
        shift += len(edit.text) - (edit.end - edit.start)
    return offset - shift


def unbound_after_fix(before: TsModule, after: TsModule) -> list[str]:
    """The engine's check after every TypeScript fix: names used but declared nowhere that the
    original file did not have."""
    globals_before = {before.source(n) for n in bindings(before).unbound} | GLOBALS
    problems = []
    for node in bindings(after).unbound:
        name = after.source(node)
        if name not in globals_before:
            problems.append(f"`{name}` (line {after.span(node).line}) is used but no longer declared")
    return problems


def pure(module: TsModule, node: Node | None, calls: Iterable[int] = ()) -> bool:
    """An initialiser removing which removes nothing else: literals, empty containers, names,
    functions; calls only those listed in `calls` (by node id)."""
    if node is None:
        return True
    allowed = set(calls)
    kind = node.type
    if kind in FUNCTIONS or kind in _CLASSES:
        return True
    if kind == "new_expression":
        constructor = node.child_by_field_name("constructor")
        args = node.child_by_field_name("arguments")
        builtin = constructor is not None and module.source(constructor) in ("Map", "Set", "WeakMap", "WeakSet")
        return builtin and (args is None or all(pure(module, a, allowed) for a in args.named_children))
    if kind == "call_expression" and node.id not in allowed:
        return False
    if kind in ("await_expression", "assignment_expression", "augmented_assignment_expression", "update_expression"):
        return False
    return all(pure(module, child, allowed) for child in node.named_children)


# -- taking away what a rewrite freed -------------------------------------------------------
def removals(module: TsModule, freed: Sequence[Declaration]) -> tuple[list[Edit], list[Declaration]]:
    """Edits that remove freed declarations (imports, side-effect-free `const`s, functions,
    classes and types), and the freed declarations that cannot go without changing what the
    program does (a call in the initialiser, one name of a destructuring). Parameters stay:
    a handler keeps its signature."""
    edits: list[Edit] = []
    stuck: list[Declaration] = []
    specs: dict[int, list[Declaration]] = {}
    for declaration in freed:
        if declaration.kind == "parameter":
            continue
        statement = declaration.statement
        if declaration.kind == "import" and statement is not None:
            specs.setdefault(_import_statement(statement).id, []).append(declaration)
        elif declaration.kind == "variable" and statement is not None and not declaration.exported:
            declarator = next(c for c in statement.named_children if c.type == "variable_declarator")
            if pure(module, declarator.child_by_field_name("value")):
                edits.append(statement_removal(module, statement, comments=True))
            else:
                stuck.append(declaration)
        elif declaration.kind in ("function", "class", "type") and statement is not None and not declaration.exported:
            edits.append(statement_removal(module, statement, comments=True))
        else:
            stuck.append(declaration)
    for group in specs.values():
        statement = _import_statement(group[0].statement)  # type: ignore[arg-type]
        names = [d for d in bindings(module).declarations if d.kind == "import" and d.statement is not None]
        mine = [d for d in names if _import_statement(d.statement).id == statement.id]  # type: ignore[arg-type]
        if len(mine) == len(group):
            edits.append(statement_removal(module, statement))
        elif all(d.statement is not None and d.statement.type == "import_specifier" for d in group):
            edits.extend(remove_list_items(module, [d.statement for d in group if d.statement is not None]))
        else:
            stuck.extend(group)  # a default or namespace import beside names that stay
    return edits, stuck


def _import_statement(node: Node) -> Node:
    while node.type != "import_statement" and node.parent is not None:
        node = node.parent
    return node


def statement_removal(module: TsModule, statement: Node, comments: bool = False) -> Edit:
    """Remove a statement on its own line(s) with its line break; with `comments`, also the
    comment lines right above it (what describes it goes with it)."""
    edit = _line_removal(module, statement)
    node = statement.prev_sibling
    while comments and node is not None and node.type == "comment":
        above = _line_removal(module, node)
        if above.end != edit.start:  # not a comment line directly above
            break
        edit, node = Edit(above.start, edit.end), node.prev_sibling
    return edit


def _line_removal(module: TsModule, statement: Node) -> Edit:
    start, end = module.start(statement), module.end(statement)
    line_start = module.lines.line_start(start)
    newline = module.text.find("\n", end)
    line_end = len(module.text) if newline < 0 else newline + 1
    if not module.text[line_start:start].strip() and not module.text[end:line_end].strip():
        return Edit(line_start, line_end)
    return Edit(start, end)

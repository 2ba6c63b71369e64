"""MCP202 for TypeScript/JavaScript: process-wide state that request handlers write.

Process-wide: module-level containers (`{}`, `[]`, `new Map()`, ...) and `let` variables,
`static` class fields, and the fields of a class instantiated once for the process (`new
NotesServer().run()` at module level, or in a `main()` called there). A class instantiated per
HTTP request keeps per-request state and is left alone, as are read-only tables, locals, caches
(a miss on another replica is only slower) and writes keyed by the session id (MCP201's).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ...lang import is_test_file
from ...lang.typescript import Node, TsModule, call_arguments, enclosing_function, unwrap
from ...model import Diagnostic
from ...sdk.typescript import stdio_only
from ...sdk.typescript_handlers import (
    TsScope,
    class_fields,
    enclosing_class,
    holds_session_id,
    is_mcp_server,
    request_scopes,
    session_names,
)

_CONTAINERS = frozenset({"Map", "Set", "WeakMap", "WeakSet", "Array", "Object"})
_MUTATORS = frozenset(
    {"set", "add", "delete", "clear", "push", "pop", "shift", "unshift", "splice", "sort", "reverse", "fill"}
)


@dataclass
class _State:
    name: str  # `carts`, `NotesServer.notes`
    definition: Node
    scalar: bool  # a `let` (or a field) rebound by the handler, not a container mutated in place
    writes: list[tuple[Node, TsScope]] = field(default_factory=list)


def check(module: TsModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path) or stdio_only(module):
        return
    module_state = _module_state(module)
    fields = _class_state(module)
    if not module_state and not fields:
        return
    for scope in request_scopes(module):
        keyed_by_session = session_names(module, scope)
        for node, target, binding in _writes(module, scope, keyed_by_session):
            state = _state_of(module, binding, module_state, fields)
            if state is None or (state.scalar and unwrap(target) != binding):
                continue  # a local of the same name; `obj.x = 1` on a scalar binding
            if state.scalar and _lazy_init(module, node, binding):
                continue
            if all(node.id != seen.id for seen, _ in state.writes):
                state.writes.append((node, scope))
    states = [*module_state.values(), *fields.values()]
    for state in sorted(states, key=lambda s: s.writes[0][0].start_byte if s.writes else 0):
        if not state.writes or "cache" in state.name.lower():
            continue
        node, scope = state.writes[0]
        handlers = {s.via for _, s in state.writes}
        more = f" (and {len(handlers) - 1} more)" if len(handlers) > 1 else ""
        where = "module-level" if "." not in state.name else "process-wide"
        yield Diagnostic(
            "MCP202",
            module.span(node),
            f"{where} `{state.name}` is written by {scope.label}{more}: each replica has its own copy and it is "
            "gone on restart, so the next call, served elsewhere, does not see it; keep it in a shared store (Redis, "
            "a database) keyed by the authenticated principal or an explicit handle",
        )


def _module_state(module: TsModule) -> dict[int, _State]:
    """Module-level containers and `let`/`var` bindings, by declarator id."""
    found: dict[int, _State] = {}
    for statement in module.root.named_children:
        declaration = statement
        if statement.type == "export_statement":
            declaration = next((c for c in statement.named_children if c.type.endswith("declaration")), statement)
        if declaration.type not in ("lexical_declaration", "variable_declaration"):
            continue
        mutable_binding = not module.source(declaration).startswith("const")
        for declarator in declaration.named_children:
            name = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
            if name is None or name.type != "identifier":
                continue
            value = unwrap(declarator.child_by_field_name("value"))
            if _is_container(module, value) or mutable_binding:
                found[declarator.id] = _State(module.source(name), declarator, scalar=not _is_container(module, value))
    return found


def _class_state(module: TsModule) -> dict[tuple[int, str], _State]:
    """Fields that live as long as the process, by (class id, field name): static ones, and
    those of a class the module instantiates once. The SDK server a class holds is not state."""
    found: dict[tuple[int, str], _State] = {}
    top_level_calls = {
        module.source(callee)
        for call in module.walk("call_expression")
        if enclosing_function(call) is None
        and (callee := call.child_by_field_name("function")) is not None
        and callee.type == "identifier"
    }
    for cls in module.walk("class_declaration"):
        name = cls.child_by_field_name("name")
        if name is None:
            continue
        singleton = _instantiated_once(module, module.source(name), top_level_calls)
        for field_name, definition, value, static in class_fields(module, cls):
            if not (static or singleton) or (
                value is not None and value.type == "new_expression" and is_mcp_server(module, value)
            ):
                continue
            if value is not None and value.type in ("arrow_function", "function_expression"):
                continue
            label = f"{module.source(name)}.{field_name}"
            found[(cls.id, field_name)] = _State(label, definition, scalar=not _is_container(module, value))
    return found


def _instantiated_once(module: TsModule, name: str, top_level_calls: set[str]) -> bool:
    """`new Cls()` at module level, or in a function the module calls at its top level (`main()`)."""
    for new in module.walk("new_expression"):
        constructor = new.child_by_field_name("constructor")
        if constructor is None or module.source(constructor) != name:
            continue
        function = enclosing_function(new)
        if function is None:
            return True
        function_name = function.child_by_field_name("name")
        if function_name is None and function.parent is not None and function.parent.type == "variable_declarator":
            function_name = function.parent.child_by_field_name("name")
        if function_name is not None and module.source(function_name) in top_level_calls:
            return True
    return False


def _is_container(module: TsModule, value: Node | None) -> bool:
    if value is None:
        return False
    if value.type in ("object", "array"):
        return True
    if value.type == "new_expression":
        constructor = value.child_by_field_name("constructor")
        return constructor is not None and module.source(constructor) in _CONTAINERS
    return False


_ELEMENT_GETTERS = frozenset({"get", "find", "at"})  # return a stored element, not a copy


def _binding(module: TsModule, node: Node | None) -> Node | None:
    """What a write lands in: `carts[user].items` and `carts.get(user)!.items` -> `carts`,
    `this.notes` -> itself, `NotesServer.history` (a static field) -> itself."""
    node = unwrap(node)
    while node is not None:
        if node.type == "member_expression":
            obj = unwrap(node.child_by_field_name("object"))
            if obj is not None and (obj.type == "this" or _is_class(module, obj)):
                return node
            node = obj
        elif node.type == "subscript_expression":
            node = unwrap(node.child_by_field_name("object"))
        elif node.type == "call_expression":
            function = node.child_by_field_name("function")
            prop = function.child_by_field_name("property") if function is not None else None
            if function is None or prop is None or module.source(prop) not in _ELEMENT_GETTERS:
                return None
            node = unwrap(function.child_by_field_name("object"))
        else:
            break
    return node if node is not None and node.type == "identifier" else None


def _is_class(module: TsModule, node: Node) -> bool:
    if node.type != "identifier":
        return False
    declaration = module.declaration(node)
    return declaration is not None and declaration.type == "class_declaration"


def _state_of(
    module: TsModule, binding: Node, module_state: dict[int, _State], fields: dict[tuple[int, str], _State]
) -> _State | None:
    if binding.type == "identifier":
        declaration = module.declaration(binding)
        return module_state.get(declaration.id) if declaration is not None else None
    obj = unwrap(binding.child_by_field_name("object"))
    prop = binding.child_by_field_name("property")
    if obj is None or prop is None:
        return None
    cls = enclosing_class(binding) if obj.type == "this" else module.declaration(obj)
    return fields.get((cls.id, module.source(prop))) if cls is not None else None


def _lazy_init(module: TsModule, write: Node, binding: Node) -> bool:
    """`client ??= connect()`, `if (!client) client = connect()`: a resource made once per
    process (a connection, a browser), which any replica can make for itself."""
    if write.type == "augmented_assignment_expression":
        operator = write.child_by_field_name("operator")
        return operator is not None and module.source(operator) in ("??=", "||=")
    if write.type != "assignment_expression":
        return False
    name = module.source(binding)
    guards = (f"!{name}", f"{name} == null", f"{name} === null", f"{name} === undefined", f"{name} == undefined")
    node = write.parent
    while node is not None and node.type not in (
        "arrow_function",
        "function_expression",
        "function_declaration",
        "method_definition",
    ):
        if node.type == "if_statement":
            condition = node.child_by_field_name("condition")
            text = module.source(condition).strip("() ") if condition is not None else ""
            if text in guards:
                return True
        node = node.parent
    return False


def _session_keyed(module: TsModule, scope: TsScope, key: Node | None, names: set[str]) -> bool:
    """`store[extra.sessionId!] = ...`, `carts.set(sid, ...)`: MCP201's finding, not this one."""
    return holds_session_id(module, scope, key, names)


def _writes(module: TsModule, scope: TsScope, names: set[str]) -> Iterator[tuple[Node, Node, Node]]:
    """(write, its target, the binding it lands in) for assignments, `delete`, `++` and mutating
    method calls in the handler."""
    for node in module.descendants(
        scope.function,
        "assignment_expression",
        "augmented_assignment_expression",
        "update_expression",
        "unary_expression",
    ):
        if node.type == "unary_expression":
            operator = node.child_by_field_name("operator")
            if operator is None or operator.type != "delete":
                continue
            target = node.child_by_field_name("argument")
        elif node.type == "update_expression":
            target = node.child_by_field_name("argument")
        else:
            target = node.child_by_field_name("left")
        target = unwrap(target)
        if target is None:
            continue
        index = target.child_by_field_name("index") if target.type == "subscript_expression" else None
        if _session_keyed(module, scope, index, names):
            continue
        binding = _binding(module, target)
        if binding is not None:
            yield node, target, binding
    for call in module.descendants(scope.function, "call_expression"):
        function = call.child_by_field_name("function")
        if function is None or function.type != "member_expression":
            continue
        prop = function.child_by_field_name("property")
        args = call_arguments(call)
        if module.source(function) == "Object.assign" and args:  # `Object.assign(settings, patch)`
            binding = _binding(module, args[0])
            if binding is not None:
                yield call, function, binding
            continue
        if prop is None or module.source(prop) not in _MUTATORS:
            continue
        if args and _session_keyed(module, scope, args[0], names):
            continue
        obj = function.child_by_field_name("object")
        binding = _binding(module, obj)
        if binding is not None and obj is not None:
            yield call, obj, binding

"""MCP206 for Python: multi round-trip state that only the replica which sealed it can open."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from ...lang import is_test_file
from ...lang.python import PythonModule, argument, edit_arguments, imports_for, keyword, string_value
from ...lang.python_tree import structure
from ...model import Diagnostic, Fix, FixSafety
from ...sdk.python import Server, servers, stdio_only
from ...sdk.python_handlers import context_path, request_scopes, scope_of
from ...sdk.python_versions import Sdk

_RESOLVE = frozenset({"mcp.server.mcpserver.Resolve", "mcp.server.mcpserver.resolve.Resolve"})
_INPUT_REQUIRED = frozenset({"mcp_types.InputRequiredResult", "mcp.types.InputRequiredResult"})
_CONTEXT_STATE = frozenset({("input_responses",), ("request_state",)})
# Values that differ from one process to the next.
_RANDOM = frozenset(
    {
        "os.urandom",
        "secrets.token_bytes",
        "secrets.token_hex",
        "secrets.token_urlsafe",
        "uuid.uuid1",
        "uuid.uuid4",
        "random.randbytes",
        "random.random",
        "random.getrandbits",
        "random.randint",
    }
)
_REPLICA = _RANDOM | {"socket.gethostname", "socket.getfqdn", "platform.node", "os.getpid", "os.uname"}
_REPLICA_VARIABLES = frozenset({"HOSTNAME", "POD_NAME", "POD_IP", "MY_POD_NAME"})
_ENV_READS = frozenset({"os.getenv", "os.environ.get"})
_EPHEMERAL = frozenset(
    {
        "mcp.server.request_state.RequestStateSecurity.ephemeral",
        "mcp.server.mcpserver.RequestStateSecurity.ephemeral",
    }
)
_SECURITY = frozenset({"mcp.server.request_state.RequestStateSecurity", "mcp.server.mcpserver.RequestStateSecurity"})
KEYS_VARIABLE = "MCP_REQUEST_STATE_KEYS"
_REMEDY = (
    "pass `request_state_security=RequestStateSecurity(keys=[...])` with keys every replica shares "
    f"(e.g. from {KEYS_VARIABLE}, a Secret; `mcp-migrate scaffold server` has it wired up)"
)


def check(module: PythonModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path):
        return
    uses = _multi_round_trip(module)
    if not uses or stdio_only(module):
        return
    for server in servers(module):
        if server.ctor is None or server.sdk not in (Sdk.MCP_V2, Sdk.FASTMCP):
            continue
        if not any(line.request_state_keys for line in server.candidates.lines):
            continue  # a release without multi round-trip requests
        yield from _check_server(module, server, server.ctor, uses[0])


def _multi_round_trip(module: PythonModule) -> list[cst.CSTNode]:
    """Where the module asks the client something mid-call, in source order."""
    found: list[cst.CSTNode] = []
    for call in module.walk(cst.Call):
        if module.resolves_to(call.func, _RESOLVE) or module.resolves_to(call.func, _INPUT_REQUIRED):
            found.append(call)
    request_scopes(module)  # resolves contexts before scope_of() reads them
    for attribute in module.walk(cst.Attribute):
        if attribute.attr.value in ("input_responses", "request_state"):
            scope = scope_of(module, attribute)
            if scope is not None and context_path(module, scope, attribute) in _CONTEXT_STATE:
                found.append(attribute)
    return sorted(found, key=module.start)


def _check_server(module: PythonModule, server: Server, ctor: cst.Call, use: cst.CSTNode) -> Iterator[Diagnostic]:
    security_arg = keyword(ctor, "request_state_security")
    security = _value(module, security_arg.value) if security_arg is not None else None
    problems = []
    if security_arg is None:
        problems.append("with a key each process makes up (no `request_state_security=`: the SDK's ephemeral policy)")
    elif isinstance(security, cst.Call) and module.resolves_to(security.func, _EPHEMERAL):
        problems.append("with a key each process makes up (`RequestStateSecurity.ephemeral()`)")
    elif isinstance(security, cst.Call) and module.resolves_to(security.func, _SECURITY):
        keys = keyword(security, "keys")
        generated = _varies(module, keys.value, _RANDOM) if keys is not None else None
        if generated is not None:
            problems.append(f"with keys generated at start (`{generated}`), different in every process")
    audience = keyword(security, "audience") if isinstance(security, cst.Call) else None
    name = argument(ctor, "name", 0)
    if audience is None and name is not None:
        varying = _varies(module, name.value, _REPLICA, _REPLICA_VARIABLES)
        if varying is not None:
            problems.append(
                f"for an audience that differs on every replica: the server's name comes from `{varying}` "
                "(keep the name constant, or pass `audience=` to `RequestStateSecurity`)"
            )
    if not problems:
        return
    line = module.span(use).line
    yield Diagnostic(
        "MCP206",
        module.span(ctor),
        f"{server.label}: its multi round-trip calls (`{_shown(module, use)}`, line {line}) seal their "
        f"`requestState` {'; and '.join(problems)}: a retry that reaches another replica fails with -32602 "
        f'"Invalid or expired requestState"; {_REMEDY}',
        _fix(module, server, ctor) if security_arg is None else None,
    )


def _fix(module: PythonModule, server: Server, ctor: cst.Call) -> Fix | None:
    """Keys from the environment, where that is all it takes: a constant name and releases that
    all take the keyword."""
    name = argument(ctor, "name", 0)
    if name is None or not isinstance(name.value, cst.SimpleString):
        return None  # mcp and fastmcp refuse shared keys without a name (the audience)
    if server.candidates.pinned_out or not all(line.request_state_keys for line in server.candidates.lines):
        return None
    imported = imports_for(module, "os", "mcp.server.request_state.RequestStateSecurity")
    if imported is None:
        return None
    (os_name, policy), edits = imported
    value = f'{policy}(keys={os_name}.environ["{KEYS_VARIABLE}"].split(","))'
    edits += edit_arguments(module, ctor, append=[f"request_state_security={value}"])
    return Fix(
        FixSafety.UNSAFE,
        f"seal requestState with the keys in {KEYS_VARIABLE} (the server no longer starts without them)",
        tuple(sorted(edits)),
    )


def _value(module: PythonModule, expr: cst.BaseExpression) -> cst.BaseExpression:
    """`expr`, or what a name of it was assigned."""
    if isinstance(expr, cst.Name):
        return module.binding_value(expr) or expr
    return expr


def _varies(
    module: PythonModule,
    expr: cst.BaseExpression,
    calls: frozenset[str],
    variables: frozenset[str] = frozenset(),
    depth: int = 0,
) -> str | None:
    """The source of a call in `expr` (or in what its names were assigned) whose value differs
    between processes: one of `calls`, or an environment read of one of `variables`."""
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Call):
            if module.resolves_to(node.func, calls):
                return module.source(node)
            if variables and module.resolves_to(node.func, _ENV_READS) and _names_variable(node.args, variables):
                return module.source(node)
        elif isinstance(node, cst.Subscript) and variables and module.resolves_to(node.value, {"os.environ"}):
            index = node.slice[0].slice if node.slice else None
            if isinstance(index, cst.Index) and _is_string(index.value, variables):
                return module.source(node)
        elif isinstance(node, cst.Name) and depth < 3:
            value = module.binding_value(node)
            if value is not None:
                found = _varies(module, value, calls, variables, depth + 1)
                if found is not None:
                    return found
        stack.extend(structure(node))
    return None


def _names_variable(args: Sequence[cst.Arg], variables: frozenset[str]) -> bool:
    return bool(args) and _is_string(args[0].value, variables)


def _is_string(expr: cst.BaseExpression, values: frozenset[str]) -> bool:
    return isinstance(expr, cst.SimpleString) and string_value(expr) in values


def _shown(module: PythonModule, node: cst.CSTNode) -> str:
    text = " ".join(module.source(node).split())
    return text if len(text) <= 60 else text[:57] + "..."

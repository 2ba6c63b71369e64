"""MCP208 for Python: tasks held by one process while tasks/* may reach any replica."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import libcst as cst

from ...lang import is_test_file
from ...lang.python import PythonModule, keyword, string_value
from ...model import Diagnostic
from ...sdk.pins import project_root
from ...sdk.python import Server, servers, stdio_only
from ...sdk.python_versions import Sdk
from ...sdk.task_backends import deployment_of

_MEMORY_STORES = frozenset({"mcp_tasks.MemoryTaskStore", "mcp_tasks.memory.MemoryTaskStore"})
_OPEN_STORE = frozenset({"mcp_tasks.open_store"})
_TASK_DECORATORS = frozenset({"tool", "resource", "prompt"})
_REMEDY = (
    "`tasks/get`, `tasks/update` and `tasks/cancel` that reach another replica find no task (-32602), and a "
    "restart loses them all; keep tasks in a store every replica shares ({shared}), or route `tasks/*` by the "
    "`Mcp-Name` header to the replica that holds the task (nginx `hash $http_mcp_name consistent;`)"
)


def check(module: PythonModule) -> Iterator[Diagnostic]:
    if is_test_file(module.path) or stdio_only(module):
        return
    found = [*_fastmcp_tasks(module), *_memory_stores(module)]
    if not found:
        return
    deployment = None
    if module.path is not None:
        root = project_root(Path(os.path.abspath(module.path)))
        if root is not None:
            deployment = deployment_of(root)
            module.dependencies.add(root)
            module.dependencies.update(p for p in (deployment.shared_docket, deployment.task_routing) if p)
    if deployment is not None and deployment.task_routing is not None:
        return  # tasks/* go to the replica that holds the task
    for node, docket in found:
        if docket and deployment is not None and deployment.shared_docket is not None:
            continue
        yield Diagnostic("MCP208", module.span(node), _message(module, node, docket))


def _fastmcp_tasks(module: PythonModule) -> Iterator[tuple[cst.CSTNode, bool]]:
    """fastmcp servers with task-enabled components: (where, True)."""
    for server in servers(module):
        if server.sdk is not Sdk.FASTMCP or server.ctor is None:
            continue
        ctor_flag = keyword(server.ctor, "tasks")
        if ctor_flag is not None and _true(ctor_flag.value):
            yield server.ctor, True
            continue
        for call in _component_calls(module, server):
            yield call, True
            break  # one finding per server: the first task-enabled component


def _component_calls(module: PythonModule, server: Server) -> Iterator[cst.Call]:
    names = {module.source(t) for t in _bound_names(module, server)}
    for call in module.walk(cst.Call):
        func = call.func
        flag = keyword(call, "task")
        if (
            flag is not None
            and _true(flag.value)
            and isinstance(func, cst.Attribute)
            and func.attr.value in _TASK_DECORATORS
            and module.source(func.value) in names
        ):
            yield call


def _bound_names(module: PythonModule, server: Server) -> Iterator[cst.CSTNode]:
    """The names the server's constructor is assigned to (`mcp = FastMCP(...)`)."""
    parent = module.parent(server.ctor) if server.ctor is not None else None
    if isinstance(parent, cst.Assign):
        yield from (target.target for target in parent.targets)
    elif isinstance(parent, cst.AnnAssign):
        yield parent.target


def _memory_stores(module: PythonModule) -> Iterator[tuple[cst.CSTNode, bool]]:
    for call in module.walk(cst.Call):
        if module.resolves_to(call.func, _MEMORY_STORES):
            yield call, False
        elif module.resolves_to(call.func, _OPEN_STORE) and call.args:
            url = string_value(call.args[0].value)
            if url is not None and url.startswith("memory://"):
                yield call, False


def _true(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "True"


def _message(module: PythonModule, node: cst.CSTNode, docket: bool) -> str:
    if docket:
        where = (
            f"`{_short(module, node)}` runs on fastmcp's Docket, whose backend is `memory://` unless "
            "FASTMCP_DOCKET_URL names Redis, and no configuration file of the project sets it"
        )
        shared = "FASTMCP_DOCKET_URL=redis://... on every replica and worker"
    else:
        where = f"`{_short(module, node)}` keeps tasks in this process's memory"
        shared = 'the Redis store: `open_store("redis://...")`'
    return f"{where}: " + _REMEDY.format(shared=shared)


def _short(module: PythonModule, node: cst.CSTNode) -> str:
    text = " ".join(module.source(node).split())
    return text if len(text) <= 60 else text[:57] + "..."

from ...model import FixAvailability, Rule, Severity
from ...sdk import PYTHON_IMPORTS_MCP

RULE = Rule(
    code="MCP208",
    name="process-local-tasks",
    summary="Tasks kept in one process, with no routing of tasks/* to it",
    severity=Severity.ERROR,
    fix=FixAvailability.NONE,
    triggers={"python": (b"task=True", b"tasks=True", b"memory://", b"MemoryTaskStore")},
    gates={"python": PYTHON_IMPORTS_MCP},
    docs="""
## What it does
Finds servers served over HTTP whose tasks (the Tasks extension, SEP-2663; fastmcp's background
tasks) live in the memory of one process:
- fastmcp tools, resources or prompts declared with `task=True` (or `FastMCP(..., tasks=True)`):
  fastmcp runs them on Docket, whose backend is `FASTMCP_DOCKET_URL`, `memory://` by default;
- the task store `mcp-migrate scaffold tasks` writes, opened in memory
  (`open_store("memory://")`, `MemoryTaskStore()`).

It reads the project's configuration files (environment files, compose files, Kubernetes
manifests, Helm values, proxy configs) and stays silent when one points `FASTMCP_DOCKET_URL` at
Redis or Valkey, or when a proxy routes by the `Mcp-Name` header (nginx `$http_mcp_name`, Envoy
/ Istio `httpHeaderName: mcp-name`). TypeScript SDK 1.x's `InMemoryTaskStore` is MCP201's.

## Why
A task outlives the request that created it: the client follows it with `tasks/get`,
`tasks/update` and `tasks/cancel`. Behind a round-robin load balancer those requests reach
other replicas, which do not have the task and answer -32602 (task not found); a restart or a
rolling deploy loses every task. SEP-2663 also requires that `CreateTaskResult` is only
returned once a `tasks/get` would find the task, anywhere the client may ask.

## Example
```python
mcp = FastMCP("reports")

@mcp.tool(task=True)
async def build_report(month: str) -> str: ...
```
Use instead: a shared backend for every replica (and for `fastmcp tasks worker`):
```sh
FASTMCP_DOCKET_URL=redis://redis:6379/0
```
or route `tasks/*` to the replica holding the task (the client sets `Mcp-Name: <taskId>`),
e.g. nginx `hash $http_mcp_name consistent;` (tasks still die with their replica). `mcp-migrate
scaffold tasks` writes a store on Redis with a reaper for work whose replica died.

## Fix safety
None: the backend is the deployment's choice.
""",
)

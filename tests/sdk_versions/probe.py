"""Run one fixed server file under an installed SDK and ask its HTTP app for a session.

Runs inside an environment that holds exactly one SDK version (see envs.py); prints one JSON
object. The file is executed as `__main__` (so `mcp.run(...)` in a main block really runs),
with uvicorn's server replaced by a catcher: whatever ASGI app the SDK hands to uvicorn (or
the module leaves in a global) is kept, started with its lifespan, and sent a 2025-era
`initialize` (the leg where sessions live) at each MCP route the app has. Sibling modules the
fixture imports relatively (`from .stores import RedisEventStore`) are stubs; the SDK and its
web stack are real. A `probe.json` beside a file gives the command line and environment a user
would start it with (`{"argv": ["--transport", "streamable-http"], "env": {...}}`).

    python probe.py RESULTS.json FILE [FILE...]
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import sys
import traceback
import types
from pathlib import Path
from typing import Any

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "mcp-migrate-probe", "version": "1"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
PATHS = ("/mcp", "/mcp/", "/", "/mcp/mcp", "/mcp/mcp/")


async def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


class _StubObject:
    """An instance of a stubbed class: every method is an awaitable that does nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _nothing


class _Stub(types.ModuleType):
    """A sibling module of the fixture: every name in it is a class that accepts anything."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (_StubObject,), {})


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname.startswith("probe_pkg."):
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _Stub(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _catch_uvicorn(caught: list[Any]) -> None:
    """uvicorn hands over the app instead of serving it."""
    import uvicorn

    async def serve(self: Any, *args: Any, **kwargs: Any) -> None:
        caught.append(self.config.app)

    def run(app: Any, *args: Any, **kwargs: Any) -> None:
        caught.append(app)

    uvicorn.Server.serve = serve  # type: ignore[method-assign]
    uvicorn.run = run


def _is_asgi_app(value: Any) -> bool:
    return type(value).__name__ in ("Starlette", "FastAPI", "StarletteWithLifespan")


def _routes(app: Any, prefix: str = "") -> list[str]:
    """Every path an app (and the apps mounted in it) routes, deepest first."""
    found: list[str] = []
    for route in getattr(app, "routes", None) or getattr(getattr(app, "router", None), "routes", None) or []:
        path = prefix + getattr(route, "path", "")
        inner = getattr(route, "app", None)
        if inner is not None and hasattr(route, "routes"):
            found += _routes(inner, path)
            found.append(path + "/")
        else:
            found.append(path)
    return found


def probe(path: str) -> dict[str, Any]:
    options = Path(path).with_name("probe.json")
    settings = json.loads(options.read_text()) if options.exists() else {}
    sys.argv = [path, *settings.get("argv", [])]
    # A stdio server reads end-of-file and stops, closing both streams on its way out.
    sys.stdin, sys.stdout = open(os.devnull), open(os.devnull, "w")  # noqa: SIM115
    os.environ.update(settings.get("env", {}))
    with open(path, encoding="utf-8") as file:
        code = compile(file.read(), path, "exec")
    namespace: dict[str, Any] = {"__name__": "__main__", "__package__": "probe_pkg", "__file__": path}
    _CAUGHT[:] = []
    try:
        exec(code, namespace)
    except SystemExit as exit_:  # click's standalone mode exits 0 once the command returns
        if exit_.code not in (0, None):
            raise
    caught = list(_CAUGHT)
    apps = caught or [v for v in namespace.values() if _is_asgi_app(v)]
    if not apps:
        return {"app": False}
    from starlette.testclient import TestClient

    tried = []
    with TestClient(apps[0], base_url="http://127.0.0.1:8000") as client:
        for route in dict.fromkeys([*_routes(apps[0]), *PATHS]):
            if "{" in route:
                continue
            response = client.post(route, json=INITIALIZE, headers=HEADERS, follow_redirects=False)
            tried.append(route)
            if response.status_code not in (404, 307, 405):
                break
    return {
        "app": True,
        "path": route,
        "tried": tried,
        "status": response.status_code,
        "session_id": response.headers.get("mcp-session-id"),
        "body": response.text[:300],
    }


_CAUGHT: list[Any] = []


def main(out: str, paths: list[str]) -> None:
    """Probe each file in turn; results in `out` (stdout belongs to stdio servers)."""
    _catch_uvicorn(_CAUGHT)
    sys.meta_path.insert(0, _StubFinder())
    package = types.ModuleType("probe_pkg")
    package.__path__ = []
    sys.modules["probe_pkg"] = package
    results = []
    for path in paths:
        try:
            results.append(probe(path))
        except BaseException as exc:  # the point is to report it: a fix that raises at start-up
            results.append({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]})
    Path(out).write_text(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])

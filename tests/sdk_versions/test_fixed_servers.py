"""Every Python fix, run under the real SDK releases its project can install.

For each fixture whose fix produces Python (`expected*.py` of the MCP1xx cases), the SDK
releases the case admits are worked out the way the rules do (its import and its pin files),
and for each one that has an environment (envs.py) the fixed file is executed there: it must
not raise, and if the original served HTTP the fixed one must still serve it, answer a 2025
`initialize` with 200 and mint no `Mcp-Session-Id`. The original of every MCP101 positive must
mint one under the same release (so the probe can tell the difference). A second test holds
the table in sdk/python_versions.py to the installed packages' own signatures.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from envs import ENVS, SdkEnv, bind_calls, ensure, python_of, runs_on, sdk_calls
from support import need

from mcp_migrate.lang.python import PythonModule
from mcp_migrate.sdk.pins import project_pins
from mcp_migrate.sdk.python import servers
from mcp_migrate.sdk.python_versions import LINES, ApiLine

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
REQUEST_STATE_KEYS = secrets.token_hex(32)
FIXTURES = HERE.parent / "fixtures"
_SNAPSHOTS = ("findings.txt", "expected", "input.")


@cache
def _built() -> dict[str, str]:
    return ensure()


def _env_ready(env: SdkEnv) -> None:
    errors = _built()
    need(f"cannot build the {env.name} environment: {errors[env.name]}" if env.name in errors else None)


def _workspace(case: Path, text: str, tmp_path: Path) -> Path:
    folder = tmp_path / case.name
    folder.mkdir(parents=True, exist_ok=True)
    for item in case.iterdir():
        if item.is_file() and not item.name.startswith(_SNAPSHOTS):
            shutil.copyfile(item, folder / item.name)
    path = folder / "server.py"
    path.write_text(text, encoding="utf-8")
    return path


def _envs_for(case: Path, text: str, tmp: Path) -> list[SdkEnv]:
    """The environments whose release the case's import and pins admit."""
    path = _workspace(case, text, tmp)
    found = servers(PythonModule(text, "\n", path))
    pins = project_pins(path)
    lines = [line for server in found if not server.candidates.pinned_out for line in server.candidates.lines]
    if not lines:  # no high-level server, or one whose release the pins exclude: every mcp release
        lines = [line for line in LINES if line.package == "mcp" and PythonModule(text).imports_any(("mcp",))]
    return [env for env in ENVS if any(runs_on(line, env, pins.get(env.package)) for line in lines)]


def _outputs() -> list[tuple[Path, Path]]:
    fixed = [*FIXTURES.glob("MCP1*/*/expected*.py"), *FIXTURES.glob("MCP206/*/expected*.py")]
    return sorted((p.parent, p) for p in fixed)


def _params() -> list[Any]:
    import tempfile

    params = []
    with tempfile.TemporaryDirectory() as tmp:
        for case, output in _outputs():
            for env in _envs_for(case, output.read_text(encoding="utf-8"), Path(tmp)):
                label = f"{case.parent.name}/{case.name}/{output.name}@{env.name}"
                params.append(pytest.param(case, output, env, id=label))
    return params


def _probe(env: SdkEnv, *paths: Path) -> list[dict[str, Any]]:
    """Run files under the environment's SDK (one interpreter for all: imports are slow)."""
    out = paths[0].parent.parent / "probe-results.json"
    done = subprocess.run(
        [str(python_of(env)), str(HERE / "probe.py"), str(out), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,  # a stdio server reads end-of-file and stops
        cwd=paths[0].parent,
        env={**os.environ, "MCP_REQUEST_STATE_KEYS": REQUEST_STATE_KEYS},  # what MCP206's fix reads
    )
    assert out.exists(), f"probe wrote nothing (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def test_every_fixed_output_has_an_environment() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        missing = [
            str(output.relative_to(FIXTURES))
            for case, output in _outputs()
            if not _envs_for(case, output.read_text(encoding="utf-8"), Path(tmp))
        ]
    assert not missing, f"fixed outputs no SDK environment runs: {missing}"


@pytest.mark.parametrize(("case", "output", "env"), _params())
def test_fixed_server_runs_without_sessions(case: Path, output: Path, env: SdkEnv, tmp_path: Path) -> None:
    _env_ready(env)
    source = next(case.glob("input.py"))
    before, after = _probe(
        env,
        _workspace(case, source.read_text(encoding="utf-8"), tmp_path / "before"),
        _workspace(case, output.read_text(encoding="utf-8"), tmp_path / "after"),
    )
    assert "error" not in before, f"the original fails under {env.name} (a fixture the release cannot run): {before}"
    assert "error" not in after, f"the fixed file fails under {env.name}: {after}"
    if before.get("app") and case.parent.name == "MCP101":
        assert before.get("session_id"), f"the original does not mint a session under {env.name}: {before}"
    if before.get("app"):
        assert after.get("app"), f"the fixed file no longer serves HTTP under {env.name}: {after}"
    if after.get("app"):
        assert after["status"] == 200, after
        assert after["session_id"] is None, f"still mints Mcp-Session-Id under {env.name}: {after}"


_SIGNATURES = """
import importlib, inspect, json, sys
module, _, name = sys.argv[1].rpartition(".")
Server = getattr(importlib.import_module(module), name)
try:
    Server("probe", stateless_http=True)
    ctor = True
except TypeError:
    ctor = False
parameters = inspect.signature(Server.__init__).parameters
serving = {}
for name in ("run", "run_async", "http_app", "run_http_async", "streamable_http_app", "run_streamable_http_async"):
    method = getattr(Server, name, None)
    if method is None:
        continue
    params = inspect.signature(method).parameters
    if "stateless_http" in params:
        serving[name] = True
    elif name in ("run", "run_async"):  # they forward **kwargs to the HTTP runner
        target = getattr(Server, "run_http_async", None) or getattr(Server, "run_streamable_http_async", None)
        serving[name] = target is not None and "stateless_http" in inspect.signature(target).parameters
    else:
        serving[name] = False
print(json.dumps({
    "ctor": ctor,
    "serving": [n for n, ok in serving.items() if ok],
    "request_state_keys": "request_state_security" in parameters,
    "subscription_bus": "subscriptions" in parameters,
}))
"""


def _lines_with_envs() -> list[Any]:
    return [
        pytest.param(line, env, id=f"{line.family.name}@{env.name}")
        for env in ENVS
        for line in LINES
        if line.package == env.package and line.contains(env.parsed_version)
    ]


@pytest.mark.parametrize(("line", "env"), _lines_with_envs())
def test_api_table_matches_the_installed_sdk(line: ApiLine, env: SdkEnv) -> None:
    _env_ready(env)
    cls = sorted(line.classes)[0]
    done = subprocess.run([str(python_of(env)), "-c", _SIGNATURES, cls], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    real = json.loads(done.stdout.strip().splitlines()[-1])
    assert line.ctor_flag == real["ctor"], f"{line.label}: constructor flag is {real['ctor']} in {env.name}"
    assert line.serve_flag == set(real["serving"]), f"{line.label}: {env.name} takes it on {real['serving']}"
    assert line.request_state_keys == real["request_state_keys"], f"{line.label}: request_state_security= in {env.name}"
    assert line.subscription_bus == real["subscription_bus"], f"{line.label}: subscriptions= in {env.name}"


def test_every_env_release_has_a_line() -> None:
    assert {env.name for _, env in (p.values for p in _lines_with_envs())} == {env.name for env in ENVS}


@pytest.mark.parametrize(("case", "output", "env"), _params())
def test_fixed_sdk_calls_bind_to_the_real_signatures(case: Path, output: Path, env: SdkEnv, tmp_path: Path) -> None:
    """The static half of the proof, the one the ecosystem check applies to real repositories
    (whose modules cannot be imported without their own dependencies)."""
    _env_ready(env)
    path = _workspace(case, output.read_text(encoding="utf-8"), tmp_path)
    calls = sdk_calls(path).get(env, [])
    errors = [(call, error) for call, error in zip(calls, bind_calls(env, calls, tmp_path), strict=True) if error]
    if ".unsafe." in output.name:  # reviewed fixes may depend on a run-time choice, and say so
        errors = [(call, error) for call, error in errors if not error.startswith("may fail")]
    assert not errors, errors


def test_binding_catches_a_keyword_the_release_rejects(tmp_path: Path) -> None:
    [env] = [e for e in ENVS if e.name == "fastmcp-3.4.11"]
    _env_ready(env)
    write = (tmp_path / "requirements.txt").write_text
    write("fastmcp==3.4.11\n")
    path = tmp_path / "server.py"
    path.write_text(
        'from fastmcp import FastMCP\nmcp = FastMCP("x")\napp = mcp.streamable_http_app(stateless_http=True)\n'
    )
    calls = sdk_calls(path)[env]
    assert [c["method"] for c in calls] == ["__init__", "streamable_http_app"]
    assert bind_calls(env, calls, tmp_path)[1] is not None  # fastmcp 3 has no streamable_http_app()

"""One virtual environment per modelled SDK release, built once and kept between runs.

mcp 1.x and 2.x cannot share an environment, nor can fastmcp 2, 3 and 4, so each release the
rules model (sdk/python_versions.py) gets its own, under `$MCP_MIGRATE_SDK_ENVS` (default
~/.cache/mcp-migrate/sdk-envs). A finished environment holds a `.complete` file naming its
requirements; anything else there is rebuilt. Building needs the package index (pip).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import Version

from mcp_migrate.sdk.pins import Pin
from mcp_migrate.sdk.python_versions import ApiLine


@dataclass(frozen=True)
class SdkEnv:
    package: str
    version: str
    extras: tuple[str, ...] = ()  # what the fixtures import besides the SDK, and pins that keep it importable

    @property
    def name(self) -> str:
        return f"{self.package}-{self.version}"

    @property
    def requirements(self) -> tuple[str, ...]:
        return (f"{self.package}=={self.version}", *self.extras)

    @property
    def parsed_version(self) -> Version:
        return Version(self.version)


ENVS = (
    SdkEnv("mcp", "1.30.0"),
    SdkEnv("mcp", "2.3.0", ("fastapi",)),
    # fastmcp 2.12 pins mcp < 1.17, which imports a pydantic internal that pydantic 2.12 removed.
    SdkEnv("fastmcp", "2.12.5", ("pydantic<2.12",)),
    SdkEnv("fastmcp", "3.4.11"),
    SdkEnv("fastmcp", "4.2.3"),
)


def root() -> Path:
    configured = os.environ.get("MCP_MIGRATE_SDK_ENVS")
    return Path(configured) if configured else Path.home() / ".cache" / "mcp-migrate" / "sdk-envs"


def python_of(env: SdkEnv) -> Path:
    return root() / env.name / "bin" / "python"


def _complete(env: SdkEnv) -> bool:
    marker = root() / env.name / ".complete"
    return marker.is_file() and marker.read_text() == "\n".join(env.requirements)


def ensure(envs: tuple[SdkEnv, ...] = ENVS) -> dict[str, str]:
    """Build every missing environment (in parallel); returns {env name: error} for failures."""
    building: dict[str, tuple[SdkEnv, subprocess.Popen[bytes], Path]] = {}
    for env in envs:
        if _complete(env):
            continue
        folder = root() / env.name
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        log = folder.parent / f"{env.name}.log"
        script = f"{sys.executable} -m venv {folder} && {folder}/bin/python -m pip install --quiet " + " ".join(
            f"'{r}'" for r in (*env.requirements, "httpx", "uvicorn")
        )
        with log.open("wb") as out:
            building[env.name] = (env, subprocess.Popen(["bash", "-c", script], stdout=out, stderr=out), log)
    errors = {}
    for name, (env, process, log) in building.items():
        if process.wait(timeout=900) != 0:
            errors[name] = log.read_text(errors="replace")[-2000:]
            continue
        (root() / name / ".complete").write_text("\n".join(env.requirements))
    return errors


# -- the SDK calls a file makes, bound against each release it may run on ------------------------
def runs_on(line: ApiLine, env: SdkEnv, pin: Pin | None) -> bool:
    """The environment's release stands for its line wherever the pin admits it, and for an
    exact (or locked) release of the same major in that line (3.4.3 runs under 3.4.11)."""
    if line.package != env.package or not line.contains(env.parsed_version):
        return False
    if pin is None or pin.admits(env.parsed_version):
        return True
    exact = list(pin.versions) or [
        Version(s.version) for s in pin.specifier or () if s.operator in ("==", "===") and "*" not in s.version
    ]
    # A line can span majors whose other APIs differ (fastmcp 4 dropped `as_proxy`): same major only.
    return any(line.contains(v) and v.major == env.parsed_version.major for v in exact)


def sdk_calls(path: Path, text: str | None = None) -> dict[SdkEnv, list[dict[str, Any]]]:
    """Per environment the file's project may run on: the constructor and serving calls of
    every server in the file, as `bind.py` takes them."""
    import libcst as cst

    from mcp_migrate.lang.python import PythonModule
    from mcp_migrate.sdk.pins import project_pins
    from mcp_migrate.sdk.python import servers
    from mcp_migrate.sdk.python_versions import SERVER_FACTORIES

    text = path.read_text(encoding="utf-8") if text is None else text
    module = PythonModule(text, "\n", path)
    pins = project_pins(path)
    calls: dict[SdkEnv, list[dict[str, Any]]] = {}
    for server in servers(module):
        if server.ctor is None:
            continue  # built in another module: bound where it is built
        func = server.ctor.func
        factory = func.attr.value if isinstance(func, cst.Attribute) and func.attr.value in SERVER_FACTORIES else None
        names = module.qualified_names(func.value if factory and isinstance(func, cst.Attribute) else func)
        for env in ENVS:
            lines = [line for line in server.candidates.lines if runs_on(line, env, pins.get(env.package))]
            if not lines:
                continue
            cls = next(name for name in sorted(names) if name in lines[0].classes)
            found = calls.setdefault(env, [])
            for call, method, transports in [
                (server.ctor, factory or "__init__", None),
                *((s.call, s.method, s.transports) for s in server.serves),
            ]:
                found.append(
                    {
                        "class": cls,
                        "method": method,
                        "positional": sum(1 for a in call.args if a.keyword is None and not a.star),
                        "keywords": [a.keyword.value for a in call.args if a.keyword is not None],
                        "transports": sorted(transports) if transports is not None else None,
                        "line": module.span(call).line,
                    }
                )
    return calls


def bind_calls(env: SdkEnv, calls: list[dict[str, Any]], scratch: Path) -> list[str | None]:
    """Each call bound against the environment's SDK: None, or the TypeError it raises."""
    import json

    request = scratch / f"calls-{env.name}.json"
    request.write_text(json.dumps(calls))
    done = subprocess.run(
        [str(python_of(env)), str(Path(__file__).with_name("bind.py")), str(request)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        return [f"bind.py failed: {done.stderr[-500:]}"] * len(calls)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

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

from packaging.version import Version


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

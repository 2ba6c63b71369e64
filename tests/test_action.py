"""The composite GitHub Action in action.yml: its structure, and its scripts run locally.

Each `run:` step is executed the way a runner does for `shell: bash`
(`bash --noprofile --norc -eo pipefail FILE`), with the `env:` it declares, `${{ inputs.X }}`
replaced by the input's default or a test value, `${{ github.action_path }}` by the repository
root, and GITHUB_OUTPUT pointing at a temporary file. `mcp-migrate` is the one installed in the
test environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")

STATEFUL_SERVER = """\
from mcp.server.fastmcp import FastMCP
mcp = FastMCP("demo")
mcp.run(transport="streamable-http")
"""
STATELESS_SERVER = """\
from mcp.server.fastmcp import FastMCP
mcp = FastMCP("demo", stateless_http=True)
mcp.run(transport="streamable-http")
"""
SSE_SERVER = """\
from mcp.server.fastmcp import FastMCP
mcp = FastMCP("demo")
mcp.run(transport="sse")
"""

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def _install_index() -> int:
    return next(i for i, step in enumerate(STEPS) if "pip install" in step.get("run", ""))


def _step(step_id: str) -> dict[str, Any]:
    return next(step for step in STEPS if step.get("id") == step_id)


def _expand(value: str, inputs: dict[str, str]) -> str:
    """Evaluate the only expressions the action may use in env: inputs.X and github.action_path."""

    def evaluate(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression == "github.action_path":
            return str(ROOT)
        name = expression.removeprefix("inputs.")
        assert name != expression and name in ACTION["inputs"], f"unexpected expression {match.group(0)}"
        return inputs.get(name, ACTION["inputs"][name]["default"])

    return EXPRESSION.sub(evaluate, value)


def run_step(
    step: dict[str, Any],
    cwd: Path,
    inputs: dict[str, str] | None = None,
    path_prefix: Path | None = None,
    summary: Path | None = None,
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run one `run:` step; returns the process and what it wrote to GITHUB_OUTPUT."""
    assert step["shell"] == "bash"
    script = cwd.parent / f"{cwd.name}-step.sh"
    script.write_text(step["run"], encoding="utf-8")
    github_output = cwd.parent / f"{cwd.name}-github-output"
    github_output.write_text("", encoding="utf-8")
    path = os.pathsep.join(
        [*([str(path_prefix)] if path_prefix else []), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCP_MIGRATE", "GITHUB_"))}
    env.update(PATH=path, GITHUB_OUTPUT=str(github_output), NO_COLOR="1")
    if summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(summary)
    env.update({key: _expand(str(value), inputs or {}) for key, value in step.get("env", {}).items()})
    process = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in github_output.read_text(encoding="utf-8").splitlines() if line)
    return process, outputs


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# -- structure ------------------------------------------------------------------------------------


def test_is_a_composite_action_with_documented_inputs_and_outputs() -> None:
    assert ACTION["name"] == "mcp-migrate"
    assert "SARIF" in ACTION["description"]
    assert ACTION["runs"]["using"] == "composite"
    defaults = {name: spec["default"] for name, spec in ACTION["inputs"].items()}
    assert defaults == {"paths": ".", "args": "", "version": "", "sarif-file": "mcp-migrate.sarif"}
    for spec in ACTION["inputs"].values():
        assert spec["description"] and spec["required"] is False
    assert set(ACTION["outputs"]) == {"sarif-file"}
    assert ACTION["outputs"]["sarif-file"]["description"]
    assert ACTION["outputs"]["sarif-file"]["value"] == "${{ steps.check.outputs.sarif-file }}"
    assert _step("check")


def test_sets_up_python_then_installs_then_checks() -> None:
    setup = STEPS[0]
    assert setup["uses"] == "actions/setup-python@v5"
    assert str(setup["with"]["python-version"]) == "3.12"
    install = _install_index()
    assert install > 0
    assert STEPS.index(_step("check")) > install
    assert "${{ github.action_path }}" in STEPS[install]["env"].values()


def test_inputs_reach_scripts_only_through_env() -> None:
    for step in STEPS:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], f"expression inline in the script of {step.get('name')!r}"
            for value in step.get("env", {}).values():
                _expand(str(value), {})  # only inputs.X and github.action_path


# -- the install step, with a stand-in python that records what pip would install ------------------


@needs_bash
@pytest.mark.parametrize(
    ("version", "requirement"),
    [
        ("", str(ROOT)),
        ("==0.2.0", "mcp-stateless-migrate==0.2.0"),
        ("0.2.0", "mcp-stateless-migrate==0.2.0"),
        (">=0.2,<0.3", "mcp-stateless-migrate>=0.2,<0.3"),
    ],
)
def test_install_step_installs_the_checkout_or_the_requested_version(
    tmp_path: Path, version: str, requirement: str
) -> None:
    fake_bin = tmp_path / "bin"
    record = tmp_path / "pip-args"
    write(fake_bin / "python", f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    (fake_bin / "python").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    process, _ = run_step(STEPS[_install_index()], work, {"version": version}, path_prefix=fake_bin)
    assert process.returncode == 0, process.stderr
    args = record.read_text(encoding="utf-8").splitlines()
    assert args[:3] == ["-m", "pip", "install"]
    assert args[-1] == requirement
    assert process.stdout.startswith("mcp-migrate ")  # `mcp-migrate --version` after the install


# -- the check step (needs `--format sarif` and `--format github`) --------------------------------


def _check_run_steps() -> list[dict[str, Any]]:
    return [step for step in STEPS[_install_index() + 1 :] if "run" in step]


@needs_bash
def test_check_step_fails_on_findings_writes_sarif_and_annotations(tmp_path: Path) -> None:
    work = tmp_path / "work"
    write(work / "server.py", STATEFUL_SERVER)
    [step] = _check_run_steps()
    process, outputs = run_step(step, work)
    assert process.returncode == 1, process.stdout + process.stderr
    assert outputs == {"sarif-file": "mcp-migrate.sarif"}
    sarif = json.loads((work / "mcp-migrate.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert "MCP101" in json.dumps(sarif)
    lines = [line for line in process.stdout.splitlines() if line.strip()]
    assert lines, process.stderr
    assert all(line.startswith(("::error ", "::warning ")) for line in lines), process.stdout
    assert "MCP101" in process.stdout and "server.py" in process.stdout


@needs_bash
def test_check_step_passes_on_a_clean_tree(tmp_path: Path) -> None:
    work = tmp_path / "work"
    write(work / "server.py", STATELESS_SERVER)
    [step] = _check_run_steps()
    process, outputs = run_step(step, work)
    assert process.returncode == 0, process.stdout + process.stderr
    sarif = json.loads((work / outputs["sarif-file"]).read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert not process.stdout.strip()


@needs_bash
def test_check_step_passes_paths_and_args_split_on_spaces_without_globbing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    write(work / "servers" / "app.py", STATEFUL_SERVER)
    write(work / "servers" / "legacy" / "old.py", STATEFUL_SERVER)
    write(work / "other" / "sse.py", SSE_SERVER)
    write(work / "ignored" / "app.py", STATEFUL_SERVER)  # not among the paths
    write(work / "legacy.md", "If bash expanded `legacy*`, --exclude would get this name instead.\n")
    inputs = {"paths": "servers other", "args": "--select MCP101 --exclude legacy*", "sarif-file": "out/r.sarif"}
    [step] = _check_run_steps()
    process, outputs = run_step(step, work, inputs)
    assert process.returncode == 1, process.stdout + process.stderr
    assert outputs == {"sarif-file": "out/r.sarif"}
    assert json.loads((work / "out" / "r.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert "servers/app.py" in process.stdout
    for absent in ("old.py", "sse.py", "ignored"):
        assert absent not in process.stdout


@needs_bash
def test_inputs_are_data_not_shell(tmp_path: Path) -> None:
    work = tmp_path / "work"
    write(work / "server.py", STATELESS_SERVER)
    inputs = {"paths": "$(touch pwned1) `touch pwned2`", "args": "; touch pwned3", "sarif-file": "x.sarif"}
    [step] = _check_run_steps()
    process, _ = run_step(step, work, inputs)
    assert process.returncode == 2, process.stdout + process.stderr  # mcp-migrate: no such file
    assert not list(work.glob("pwned*")) and not list(tmp_path.glob("pwned*"))


@needs_bash
def test_check_step_appends_the_migration_summary_to_the_job_summary(tmp_path: Path) -> None:
    work = tmp_path / "work"
    write(work / "server.py", STATEFUL_SERVER)
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    [step] = _check_run_steps()
    process, _ = run_step(step, work, summary=summary)
    assert process.returncode == 1, process.stdout + process.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## mcp-migrate\n")
    assert "| file | blocks a stateless deploy | advisory |" in text and "MCP101" in text

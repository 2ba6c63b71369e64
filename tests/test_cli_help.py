"""The typer command line: each command's own help, and shell completion in real bash, zsh and fish.

Completion is driven the way each shell drives it: the script `--show-completion SHELL` prints is
loaded into the real shell, whose completion function then calls `mcp-migrate` back. zsh's
completion widgets need a terminal, so there `_arguments` and friends are replaced by functions that
print what the script hands them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Run, write
from support import need

from mcp_migrate.rules import all_rules

COMMANDS = {
    ("check",): ["--select", "--ignore", "--exclude", "--format", "--output", "--jobs", "--baseline", "--show-config"],
    ("fix",): ["--select", "--unsafe-fixes", "--diff", "--fix-tests", "--file-size-limit", "--cache-dir"],
    ("rules",): ["--format"],
    ("explain",): ["CODE"],
    ("verify",): ["URL", "--header", "--timeout", "--requests", "--call", "--args"],
    ("scaffold", "tasks"): ["--out", "--lang", "--force"],
    ("scaffold", "server"): ["--out", "--lang", "--force"],
}
OTHER_COMMANDS_OPTIONS = {"--unsafe-fixes", "--baseline", "--header", "--lang", "--select"}


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Help as a wide, colourless terminal shows it: one option to a line."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")


@pytest.mark.parametrize("command", list(COMMANDS), ids=" ".join)
@pytest.mark.usefixtures("wide")
def test_every_command_has_its_own_help_with_its_options_and_an_example(run: Run, command: tuple[str, ...]) -> None:
    code, out, err = run(*command, "--help")
    assert (code, err) == (0, "")
    assert f"Usage: mcp-migrate {' '.join(command)} " in out
    for option in COMMANDS[command]:
        assert option in out
    assert "Example" in out
    others = OTHER_COMMANDS_OPTIONS - set(COMMANDS[command])
    assert not [option for option in others if f" {option} " in out], "another command's options leaked in"


def test_the_format_choices_are_the_configs() -> None:
    from typing import get_args

    from mcp_migrate import cli, config

    assert get_args(cli.Format) == config.FORMATS


@pytest.mark.usefixtures("wide")
def test_help_shows_defaults(run: Run) -> None:
    _, out, _ = run("verify", "--help")
    assert "[default: 10.0]" in out  # --timeout
    _, out, _ = run("check", "-h")
    assert "~/.cache/mcp-migrate" in out  # --cache-dir, as the README says


@pytest.mark.usefixtures("wide")
def test_scaffold_tasks_help_is_not_the_scaffold_help(run: Run) -> None:
    _, group, _ = run("scaffold", "--help")
    _, tasks, _ = run("scaffold", "tasks", "--help")
    assert "tasks" in group and "server" in group
    assert "--lang" in tasks and "--lang" not in group
    assert "task store" in tasks


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(["scaffold"], "scaffold", id="scaffold-without-kind"),
        pytest.param(["scaffold", "queue"], "queue", id="scaffold-unknown-kind"),
        pytest.param(["scaffold", "tasks", "--lang", "go"], "go", id="scaffold-unknown-language"),
        pytest.param(["verify"], "URL", id="verify-without-url"),
        pytest.param(["check", "--file-time-limit", "-1"], "--file-time-limit", id="negative-limit"),
    ],
)
def test_sub_command_usage_errors_are_one_line(run: Run, args: list[str], fragment: str) -> None:
    code, out, err = run(*args)
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("mcp-migrate: error: ") and fragment in line
    assert "--help" in line  # names the help to read


def test_scaffold_sub_commands_write_what_the_old_positional_form_did(run: Run, workdir: Path) -> None:
    code, out, _ = run("scaffold", "tasks", "--out", "gen")
    assert code == 0
    assert (workdir / "gen/mcp_tasks/README.md").is_file()
    assert out.rstrip().endswith("See gen/mcp_tasks/README.md.")


# -- shell completion ------------------------------------------------------------------------------
CODES = [rule.code for rule in all_rules()]


def _script(shell: str) -> str:
    return _cli("--show-completion", shell, env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})


def _cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """The installed command, as the shell calls it (completion reads the environment, not argv)."""
    executable = shutil.which("mcp-migrate", path=str(Path(sys.executable).parent)) or "mcp-migrate"
    done = subprocess.run(
        [executable, *args],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _shell(shell: str) -> str:
    found = shutil.which(shell)
    need(None if found else f"{shell} is not installed (apt-get install {shell})")
    assert found
    return found


def _in_bash(script: str, words: list[str], cwd: Path) -> list[str]:
    program = (
        f"{script}\n"
        f"COMP_WORDS=({' '.join(_quote(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        '_mcp_migrate_completion mcp-migrate; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    return _run_shell(_shell("bash"), ["--norc", "--noprofile", "-c", program], cwd)


def _in_fish(script: str, line: str, cwd: Path) -> list[str]:
    program = f"{script}\ncomplete -C {_quote(line)}"
    return [row.split("\t")[0] for row in _run_shell(_shell("fish"), ["--no-config", "-c", program], cwd)]


def _in_zsh(script: str, words: list[str], cwd: Path) -> list[str]:
    stubs = 'compdef() { :; }; _arguments() { print -rl -- "$@"; }; _describe() { print -rl -- "$@"; }; '
    program = (
        f"{stubs}\n{script}\n"
        f"words=({' '.join(_quote(w) for w in words)}); CURRENT={len(words)}\n_mcp_migrate_completion"
    )
    return _run_shell(_shell("zsh"), ["-f", "-c", program], cwd)


def _run_shell(shell: str, args: list[str], cwd: Path) -> list[str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(
        [shell, *args], cwd=cwd, env={**os.environ, "PATH": path}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return [line for line in done.stdout.splitlines() if line]


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


@pytest.mark.slow
def test_bash_completes_commands_rule_codes_and_choices(tmp_path: Path) -> None:
    script = _script("bash")
    assert "complete -o default -F _mcp_migrate_completion mcp-migrate" in script
    commands = _in_bash(script, ["mcp-migrate", ""], tmp_path)
    assert commands == ["check", "fix", "rules", "explain", "verify", "scaffold"]
    assert _in_bash(script, ["mcp-migrate", "check", "--select", ""], tmp_path) == ["ALL", *CODES]
    assert _in_bash(script, ["mcp-migrate", "fix", "--ignore", "MCP3"], tmp_path) == [
        code for code in CODES if code.startswith("MCP3")
    ]
    # after a comma, the codes go on from the list typed so far
    continued = _in_bash(script, ["mcp-migrate", "check", "--select", "MCP101,MCP20"], tmp_path)
    assert continued == [f"MCP101,{code}" for code in CODES if code.startswith("MCP20")]
    assert _in_bash(script, ["mcp-migrate", "check", "--format", "s"], tmp_path) == ["sarif"]
    assert _in_bash(script, ["mcp-migrate", "scaffold", ""], tmp_path) == ["tasks", "server"]
    assert _in_bash(script, ["mcp-migrate", "explain", "MCP30"], tmp_path) == [c for c in CODES if "MCP30" in c]


@pytest.mark.slow
def test_fish_completes_commands_rule_codes_and_paths(tmp_path: Path) -> None:
    write(tmp_path / "services/server.py", "")
    script = _script("fish")
    assert "complete --command mcp-migrate" in script
    assert _in_fish(script, "mcp-migrate ", tmp_path) == sorted(
        ["check", "fix", "rules", "explain", "verify", "scaffold"]
    )
    assert _in_fish(script, "mcp-migrate check --select MCP1", tmp_path) == [c for c in CODES if c.startswith("MCP1")]
    assert _in_fish(script, "mcp-migrate check serv", tmp_path) == ["services/"]  # PATH completes files


@pytest.mark.slow
def test_zsh_completes_commands_and_rule_codes(tmp_path: Path) -> None:
    script = _script("zsh")
    assert script.lstrip().startswith("#compdef mcp-migrate")
    subprocess.run([_shell("zsh"), "-n", "-c", script], check=True, timeout=60)  # the script parses
    [listing] = _in_zsh(script, ["mcp-migrate", "check", "--select", "MCP2"], tmp_path)
    for code in CODES:
        assert (f'"{code}":' in listing) is code.startswith("MCP2")
    [commands] = _in_zsh(script, ["mcp-migrate", ""], tmp_path)
    for command in ("check", "fix", "rules", "explain", "verify", "scaffold"):
        assert f'"{command}":' in commands


@pytest.mark.slow
@pytest.mark.parametrize(("shell", "rc_file"), [("bash", ".bashrc"), ("zsh", ".zshrc"), ("fish", None)])
def test_install_completion_writes_the_script_where_the_shell_reads_it(
    tmp_path: Path, shell: str, rc_file: str | None
) -> None:
    out = _cli(
        "--install-completion",
        shell,
        env={"HOME": str(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"},
    )
    assert f"{shell} completion installed in" in out
    installed = [p for p in tmp_path.rglob("*") if p.is_file() and "mcp" in p.name.replace("_", "-")]
    assert installed, sorted(str(p) for p in tmp_path.rglob("*"))
    assert any("_MCP_MIGRATE_COMPLETE" in p.read_text() for p in installed)
    if rc_file:
        assert (tmp_path / rc_file).is_file()

"""The pre-commit hooks in .pre-commit-hooks.yaml, run by the real pre-commit.

`pre-commit try-repo` installs the hooks the way a user's `.pre-commit-config.yaml` would: it
clones the repository, pip-installs it into a fresh virtualenv (dependencies come from the package
index) and runs the hook's entry on the files of a throwaway git repository.

try-repo only sees what git has: HEAD plus modifications of tracked files. A new file that is not
committed yet (the hooks file itself, a new rule package) would be missing, so the tests point it
at a committed snapshot of this checkout's working tree, exactly as it is on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,  # installs a hook environment from the package index: ~45 s
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (pre-commit needs it)"),
]

STATEFUL_SERVER = """\
from mcp.server.fastmcp import FastMCP
mcp = FastMCP("demo")
mcp.run(transport="streamable-http")
"""


def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """No GIT_* variables from an enclosing hook, a private PRE_COMMIT_HOME, no colour."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "PRE_COMMIT_HOME"}
    clean.update(
        PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")),
        PRE_COMMIT_COLOR="never",
        NO_COLOR="1",
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )
    return clean


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    """This checkout's working tree (tracked and untracked-but-not-ignored files), committed."""
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT, env=env)
    snapshot = tmp_path_factory.mktemp("mcp-migrate-snapshot")
    for name in dict.fromkeys(listed.split("\0")):
        source = ROOT / name
        if name and source.is_file():  # a tracked file deleted in the work tree is not copied
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    assert (snapshot / ".pre-commit-hooks.yaml").is_file()
    _git("init", "-q", cwd=snapshot, env=env)
    _git("add", "-A", cwd=snapshot, env=env)
    _git("commit", "-q", "--no-verify", "-m", "snapshot", cwd=snapshot, env=env)
    return snapshot


@pytest.fixture
def project(tmp_path: Path, env: dict[str, str]) -> Path:
    """A user's repository: one clean commit, then a stateful server staged."""
    repo = tmp_path / "project"
    repo.mkdir()
    _git("init", "-q", cwd=repo, env=env)
    _git("config", "user.name", "Test User", cwd=repo, env=env)
    _git("config", "user.email", "test@example.com", cwd=repo, env=env)
    (repo / "README.md").write_text("demo\n", encoding="utf-8")
    _git("add", "README.md", cwd=repo, env=env)
    _git("commit", "-q", "--no-verify", "-m", "initial", cwd=repo, env=env)
    (repo / "server.py").write_text(STATEFUL_SERVER, encoding="utf-8")
    (repo / "deploy.yaml").write_text("apiVersion: v1\nkind: Service\n", encoding="utf-8")
    (repo / "notes.txt").write_text("not checked\n", encoding="utf-8")
    _git("add", "server.py", "deploy.yaml", "notes.txt", cwd=repo, env=env)
    return repo


def try_repo(hook_repo: Path, project: Path, env: dict[str, str], hook: str, *files: str) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook, "--color", "never", "--files", *files],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
    return result.returncode, result.stdout


def test_check_fails_then_fix_rewrites_then_both_pass(hook_repo: Path, project: Path, env: dict[str, str]) -> None:
    server = project / "server.py"

    code, out = try_repo(hook_repo, project, env, "mcp-migrate-check", "server.py")
    assert code == 1, out
    assert "mcp-migrate check" in out and "Failed" in out, out
    assert "MCP101" in out and "server.py" in out, out
    assert server.read_text(encoding="utf-8") == STATEFUL_SERVER  # check never writes

    code, out = try_repo(hook_repo, project, env, "mcp-migrate-fix", "server.py")
    assert code == 1, out
    assert "files were modified by this hook" in out, out
    fixed = server.read_text(encoding="utf-8")
    assert "stateless_http=True" in fixed, fixed

    code, out = try_repo(hook_repo, project, env, "mcp-migrate-fix", "server.py")
    assert code == 0, out
    assert server.read_text(encoding="utf-8") == fixed  # a second fix changes nothing

    # deploy.yaml reaches the tool (types_or) and is skipped by it; notes.txt is filtered by pre-commit
    code, out = try_repo(hook_repo, project, env, "mcp-migrate-check", "server.py", "deploy.yaml", "notes.txt")
    assert code == 0, out
    assert "Passed" in out, out

"""Shared fixtures: run the CLI in-process inside a private working folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mcp_migrate.cli import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the results cache of every run (subprocesses included) out of ~/.cache."""
    import os

    os.environ["MCP_MIGRATE_CACHE_DIR"] = str(tmp_path_factory.mktemp("results-cache"))
    os.environ.pop("MCP_MIGRATE_NO_CACHE", None)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A test's own working folder: config discovery sees only what the test writes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MCP_MIGRATE_DEBUG", raising=False)
    return tmp_path


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """`run("check", ".")` -> (exit code, stdout, stderr), argparse's SystemExit included."""

    def _run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: usage errors, --help, --version
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def write(path: Path | str, text: str | bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path

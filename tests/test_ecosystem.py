"""The ecosystem check's own logic, on a local mirror: checkout at the pinned commit, findings
compared with verdicts (unreviewed and vanished ones fail), fixes compiled."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "ecosystem.py"
SERVER = 'from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP("x")\napp = mcp.streamable_http_app()\n'


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("ecosystem_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ecosystem_script"] = module
    spec.loader.exec_module(module)
    return module


def _mirror(tmp: Path) -> str:
    work = tmp / "src"
    work.mkdir()
    (work / "requirements.txt").write_text("mcp>=1.23,<2\n")
    (work / "server.py").write_text(SERVER)
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    (tmp / "mirrors" / "acme+notes").mkdir(parents=True)
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(work), str(tmp / "mirrors" / "acme+notes" / "repo")], check=True
    )
    return commit


@pytest.fixture
def script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    module = _load()
    commit = _mirror(tmp_path)
    corpus = tmp_path / "corpus.toml"
    corpus.write_text(f'[[repo]]\nname = "acme/notes"\ncommit = "{commit}"\n')
    monkeypatch.setattr(module, "CORPUS", corpus)
    monkeypatch.setattr(module, "VERDICTS", tmp_path / "verdicts.tsv")
    return module


def _run(script, tmp_path: Path, *extra: str) -> int:  # type: ignore[no-untyped-def]
    args = ["--mirrors", str(tmp_path / "mirrors"), "--work", str(tmp_path / "work"), "--no-fix", *extra]
    return int(script.main(args))


def test_an_unreviewed_finding_fails_until_a_verdict_is_written(script, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _run(script, tmp_path, "--add-unreviewed") == 1
    assert "UNREVIEWED acme/notes server.py:3 MCP101" in capsys.readouterr().out
    verdicts = script.VERDICTS.read_text().replace("\t?\t", "\ttrue\t")
    script.VERDICTS.write_text(verdicts)
    assert _run(script, tmp_path) == 0
    assert "1 true, 0 false, 0 debatable; precision 100.0%" in capsys.readouterr().out


def test_a_verdict_whose_finding_is_gone_fails(script, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    header = "repo\tpath\tline\tcode\tverdict\treason\n"
    script.VERDICTS.write_text(
        header + "acme/notes\tserver.py\t3\tMCP101\ttrue\tstateful\nacme/notes\tserver.py\t9\tMCP202\tfalse\tgone\n"
    )
    assert _run(script, tmp_path) == 1
    assert "VANISHED acme/notes server.py:9 MCP202" in capsys.readouterr().out


def test_the_checkout_is_the_pinned_commit(script, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files, missing = script.checkout(
        tmp_path / "mirrors" / "acme+notes" / "repo", script.load_corpus()[0]["commit"], tmp_path / "tree"
    )
    assert (files, missing) == (2, 0)
    assert (tmp_path / "tree" / "server.py").read_text() == SERVER

"""The results cache (cache.py): a re-run reads only what changed, and never reports stale results.

Runs are in-process with `--jobs 1`, so counting `engine.process` calls shows which files
were checked again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Run, write

from mcp_migrate import engine
from mcp_migrate.cli import CACHE_MIN_FILES

SERVER = """\
from fastmcp import FastMCP

mcp = FastMCP("Weather")

if __name__ == "__main__":
    mcp.run(transport="http", port=8000)
"""
STATELESS = SERVER.replace('transport="http", port=8000', 'transport="stdio", port=800')
assert len(STATELESS) == len(SERVER)

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: mcp
spec:
  sessionAffinity: ClientIP
  selector:
    app: mcp
  ports:
    - port: 80
"""

TS_SERVER = """\
import { StreamableHTTPServerTransport } from "./sdk.js";
import { randomUUID } from "node:crypto";

export const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });
"""
TS_BARREL = 'export { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";\n'
HOUR = 3600


def _age(root: Path, seconds: int = HOUR) -> None:
    """Files (and folders) last modified an hour ago: old enough to be cached."""
    then = time.time() - seconds
    for path in [root, *root.rglob("*")]:
        os.utime(path, (then, then))


def _tree(root: Path) -> None:
    write(root / "svc" / "server.py", SERVER)
    write(root / "deploy" / "service.yaml", SERVICE)
    for i in range(CACHE_MIN_FILES):
        write(root / "lib" / f"module_{i}.py", f"VALUE = {i}\n")
    _age(root)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files `engine.process` is called for."""
    seen: list[str] = []
    original = engine.process

    def counting(source, job):  # type: ignore[no-untyped-def]
        seen.append(source.display)
        return original(source, job)

    monkeypatch.setattr(engine, "process", counting)
    return seen


def _check(run: Run, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, err = run("check", "--jobs", "1", "--format", "json", "--no-progress", *args)
    assert code in (0, 1), err
    report = json.loads(out)
    return code, report


def _codes(report: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return sorted((f["path"], f["code"]) for f in report["findings"])


def test_a_second_run_reads_nothing_and_reports_the_same(workdir: Path, run: Run, checked: list[str]) -> None:
    _tree(workdir)
    _, first = _check(run, ".")
    assert len(checked) == CACHE_MIN_FILES + 2
    assert _codes(first) == [("deploy/service.yaml", "MCP301"), ("svc/server.py", "MCP101")]
    checked.clear()
    _, second = _check(run, ".")
    assert checked == []
    assert second == first


def test_an_edit_is_seen_even_when_size_and_mtime_stay(workdir: Path, run: Run, checked: list[str]) -> None:
    _tree(workdir)
    _check(run, ".")
    server = workdir / "svc" / "server.py"
    before = server.stat()
    server.write_text(STATELESS, encoding="utf-8")
    os.utime(server, ns=(before.st_atime_ns, before.st_mtime_ns))  # what a careless tool may do
    assert server.stat().st_size == before.st_size and server.stat().st_mtime_ns == before.st_mtime_ns
    checked.clear()
    _, report = _check(run, ".")
    assert checked == ["svc/server.py"]  # the ctime moved
    assert _codes(report) == [("deploy/service.yaml", "MCP301")]


def test_files_modified_just_now_are_not_remembered(workdir: Path, run: Run, checked: list[str]) -> None:
    _tree(workdir)
    write(workdir / "svc" / "server.py", SERVER)  # mtime: now
    _check(run, ".")
    checked.clear()
    _check(run, ".")
    assert checked == ["svc/server.py"]


def test_a_typescript_file_is_checked_again_when_a_reexport_changes(
    workdir: Path, run: Run, checked: list[str]
) -> None:
    _tree(workdir)
    write(workdir / "ts" / "server.ts", TS_SERVER)
    write(workdir / "ts" / "sdk.ts", TS_BARREL)
    _age(workdir)
    _, report = _check(run, ".")
    assert ("ts/server.ts", "MCP101") in _codes(report)

    local = "export class StreamableHTTPServerTransport { constructor(options: object) {} }\n"
    write(workdir / "ts" / "sdk.ts", local)
    then = time.time() - HOUR
    for path in (workdir / "ts" / "sdk.ts", workdir / "ts"):  # server.ts itself stays as it was
        os.utime(path, (then, then))
    checked.clear()
    _, report = _check(run, ".")
    assert set(checked) == {"ts/server.ts", "ts/sdk.ts"}
    assert ("ts/server.ts", "MCP101") not in _codes(report)


def test_a_typescript_file_is_checked_again_when_its_import_appears(
    workdir: Path, run: Run, checked: list[str]
) -> None:
    _tree(workdir)
    write(workdir / "ts" / "server.ts", TS_SERVER)  # ./sdk.js does not exist yet: nothing known
    _age(workdir)
    _, report = _check(run, ".")
    assert ("ts/server.ts", "MCP101") not in _codes(report)
    write(workdir / "ts" / "sdk.ts", TS_BARREL)  # the folder's mtime moves
    checked.clear()
    _, report = _check(run, ".")
    assert "ts/server.ts" in checked
    assert ("ts/server.ts", "MCP101") in _codes(report)


def test_another_rule_selection_starts_afresh(workdir: Path, run: Run) -> None:
    _tree(workdir)
    _, only = _check(run, "--select", "MCP301", ".")
    assert _codes(only) == [("deploy/service.yaml", "MCP301")]
    _, everything = _check(run, ".")
    assert _codes(everything) == [("deploy/service.yaml", "MCP301"), ("svc/server.py", "MCP101")]


def test_fix_uses_only_clean_entries(workdir: Path, run: Run, checked: list[str]) -> None:
    _tree(workdir)
    _check(run, ".")
    checked.clear()
    code, _, err = run("fix", "--jobs", "1", "--no-progress", ".")
    assert code == 1, err
    assert sorted(checked) == ["deploy/service.yaml", "svc/server.py"]  # the clean ones came from the cache
    assert (
        "stateless_http" in (workdir / "svc" / "server.py").read_text()
        or "ClientIP" not in (workdir / "deploy" / "service.yaml").read_text()
    )
    _, report = _check(run, ".")
    assert ("deploy/service.yaml", "MCP301") not in _codes(report)


def test_no_cache_reads_and_writes_nothing(workdir: Path, run: Run, checked: list[str], tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("unused-cache")
    _tree(workdir)
    _check(run, "--no-cache", "--cache-dir", str(folder), ".")
    _check(run, "--no-cache", "--cache-dir", str(folder), ".")
    assert len(checked) == 2 * (CACHE_MIN_FILES + 2)
    assert list(folder.iterdir()) == []


def test_the_environment_turns_it_off(
    workdir: Path, run: Run, checked: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_MIGRATE_NO_CACHE", "1")
    _tree(workdir)
    _check(run, ".")
    _check(run, ".")
    assert len(checked) == 2 * (CACHE_MIN_FILES + 2)


def test_a_broken_or_unwritable_cache_only_costs_time(workdir: Path, run: Run, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    _tree(workdir)
    not_a_folder = tmp_path_factory.mktemp("x") / "file"
    not_a_folder.write_text("")
    code, report = _check(run, "--cache-dir", str(not_a_folder), ".")
    assert code == 1 and len(report["findings"]) == 2

    folder = tmp_path_factory.mktemp("garbage")
    _check(run, "--cache-dir", str(folder), ".")
    [stored] = folder.iterdir()
    stored.write_bytes(b'{"key": "truncated')
    code, report = _check(run, "--cache-dir", str(folder), ".")
    assert code == 1 and len(report["findings"]) == 2


def test_entries_that_are_not_ours_are_ignored(workdir: Path, run: Run, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("tampered")
    _tree(workdir)
    _, first = _check(run, "--cache-dir", str(folder), ".")
    [stored] = folder.iterdir()
    data = json.loads(stored.read_bytes())
    data["entries"]["svc/server.py"] = "oops"
    data["entries"]["deploy/service.yaml"][1] = [[["MCP301", "not a span"]], []]
    data["entries"]["lib/module_1.py"] = [None, None, 7]
    stored.write_text(json.dumps(data), encoding="utf-8")
    code, second = _check(run, "--cache-dir", str(folder), ".")
    assert code == 1 and _codes(second) == _codes(first)


def test_nothing_is_written_into_the_checked_tree(workdir: Path, run: Run) -> None:
    _tree(workdir)
    before = sorted(p.relative_to(workdir) for p in workdir.rglob("*"))
    _check(run, ".")
    _check(run, ".")
    assert sorted(p.relative_to(workdir) for p in workdir.rglob("*")) == before


def test_a_deleted_file_leaves_the_cache(workdir: Path, run: Run, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("pruned")
    _tree(workdir)
    _check(run, "--cache-dir", str(folder), ".")
    (workdir / "lib" / "module_0.py").unlink()
    _check(run, "--cache-dir", str(folder), ".")
    [stored] = folder.iterdir()
    entries = json.loads(stored.read_bytes())["entries"]
    assert "lib/module_1.py" in entries and "lib/module_0.py" not in entries


def test_small_runs_do_not_use_it(workdir: Path, run: Run, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Loading a monorepo's cache costs more than checking a few files (pre-commit)."""
    folder = tmp_path_factory.mktemp("small")
    _tree(workdir)
    _check(run, "--cache-dir", str(folder), "svc/server.py", "deploy/service.yaml")
    assert list(folder.iterdir()) == []


def test_a_changed_pin_rechecks_the_servers_it_decides(workdir: Path, run: Run, checked: list[str]) -> None:
    """The SDK release a project pins decides findings and fixes: a new lock or requirement is
    a reason to check its servers again, though the servers themselves did not change."""
    _tree(workdir)
    flagged = SERVER.replace('FastMCP("Weather")', 'FastMCP("Weather", stateless_http=True)')
    write(workdir / "svc" / "server.py", flagged)
    write(workdir / "svc" / "requirements.txt", "fastmcp==2.12.5\n")
    _age(workdir)
    _, first = _check(run, ".")
    assert _codes(first) == [("deploy/service.yaml", "MCP301")]  # fastmcp 2.x honours the constructor flag
    write(workdir / "svc" / "requirements.txt", "fastmcp==3.4.11\n")  # 3.x rejects it there
    _age(workdir)
    checked.clear()
    _, second = _check(run, ".")
    assert "svc/server.py" in checked
    assert _codes(second) == [("deploy/service.yaml", "MCP301"), ("svc/server.py", "MCP101")]


# -- the index phase's facts ---------------------------------------------------------------------
NOTES_SERVER = 'from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP("notes")\n'
NOTES_MAIN = """\
import argparse

from notes.server import mcp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    mcp.run(transport=parser.parse_args().transport)
"""


@pytest.fixture
def indexed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The files the index phase reads (its byte gate included)."""
    from mcp_migrate import lang
    from mcp_migrate.sdk import python_project

    seen: list[str] = []
    original = python_project.index_file

    def counting(path: str, raw: bytes):  # type: ignore[no-untyped-def]
        seen.append(os.path.relpath(path))
        return original(path, raw)

    monkeypatch.setattr(python_project, "index_file", counting)
    lang.indexer.cache_clear()  # it holds the functions it was made with
    yield seen
    monkeypatch.undo()
    lang.indexer.cache_clear()


def _notes(root: Path) -> None:
    write(root / "pyproject.toml", '[project]\nname = "notes"\ndependencies = ["mcp>=1.23,<2"]\n')
    write(root / "notes" / "__init__.py", "")
    write(root / "notes" / "server.py", NOTES_SERVER)
    write(root / "notes" / "__main__.py", NOTES_MAIN)
    for i in range(CACHE_MIN_FILES):
        write(root / "lib" / f"module_{i}.py", f"VALUE = {i}\n")
    _age(root)


def _edit(path: Path, text: str) -> None:
    """An edit made a while ago (the other files' stamps, ctime included, stay as they were)."""
    write(path, text)
    then = time.time() - HOUR
    os.utime(path, (then, then))


def test_an_edit_indexes_that_file_alone(workdir: Path, run: Run, checked: list[str], indexed: list[str]) -> None:
    """The facts of unchanged files come from the cache: a re-run after one edit reads that file
    in the index phase, and the server another module runs is still followed."""
    _notes(workdir)
    _, first = _check(run, ".")
    assert _codes(first) == [("notes/server.py", "MCP101")]
    assert len(indexed) == CACHE_MIN_FILES + 3
    _edit(workdir / "notes" / "__main__.py", NOTES_MAIN + "\n\nmain()\n")
    checked.clear()
    indexed.clear()
    _, second = _check(run, ".")
    assert indexed == ["notes/__main__.py"]
    assert sorted(checked) == ["notes/__main__.py", "notes/server.py"]  # server.py depends on it
    assert second["findings"] == first["findings"]
    indexed.clear()
    _check(run, ".")
    assert indexed == []  # nothing to process: no index phase at all


def test_editing_the_module_that_serves_a_server_rechecks_the_server(
    workdir: Path, run: Run, checked: list[str], indexed: list[str]
) -> None:
    """The other direction: the edit takes the HTTP choice away, so the server module (unchanged,
    its facts from the cache) is checked again and is clean."""
    _notes(workdir)
    _check(run, ".")
    _edit(workdir / "notes" / "__main__.py", NOTES_MAIN.replace('"stdio", "streamable-http"', '"stdio"'))
    checked.clear()
    indexed.clear()
    _, report = _check(run, ".")
    assert indexed == ["notes/__main__.py"]
    assert "notes/server.py" in checked
    assert _codes(report) == []


def test_facts_that_are_not_ours_are_indexed_again(
    workdir: Path, run: Run, indexed: list[str], tmp_path_factory
) -> None:  # type: ignore[no-untyped-def]
    cache_dir = tmp_path_factory.mktemp("cache")
    _notes(workdir)
    _, first = _check(run, "--cache-dir", str(cache_dir), ".")
    (stored,) = cache_dir.glob("*.json")
    data = json.loads(stored.read_text())
    data["entries"]["notes/server.py"][3] = {"not": "facts"}
    data["entries"]["notes/__main__.py"][2] = [["notes/server.py", [0, 0, 0]]]  # and re-check it
    stored.write_text(json.dumps(data))
    indexed.clear()
    _, second = _check(run, "--cache-dir", str(cache_dir), ".")
    assert indexed == ["notes/server.py"]
    assert second["findings"] == first["findings"]


def _parallel(run: Run) -> dict:  # type: ignore[type-arg]
    code, out, err = run("check", "--jobs", "2", "--format", "json", "--no-progress", ".")
    assert code in (0, 1), err
    return json.loads(out)  # type: ignore[no-any-return]


def test_a_parallel_run_uses_the_kept_facts_too(workdir: Path, run: Run) -> None:
    """The pool's index phase (more files than a small run has): same findings after an edit."""
    _notes(workdir)
    for i in range(engine.PARALLEL_MIN_FILES):
        write(workdir / "more" / f"module_{i}.py", f"VALUE = {i}\n")
    _age(workdir)
    first = _parallel(run)
    assert _codes(first) == [("notes/server.py", "MCP101")]
    _edit(workdir / "notes" / "__main__.py", NOTES_MAIN + "\n\nmain()\n")
    second = _parallel(run)
    assert second["findings"] == first["findings"]
    _edit(workdir / "notes" / "__main__.py", NOTES_MAIN.replace('"stdio", "streamable-http"', '"stdio"'))
    third = _parallel(run)
    assert _codes(third) == []


def test_editing_a_module_the_gate_skips_rechecks_what_it_decides(workdir: Path, run: Run) -> None:
    """`settings = Settings()` in `config.py` (indexed only because `server.py` takes `settings`
    from it) decides the field in `models.py`: an edit there re-checks `models.py`."""
    write(workdir / "pyproject.toml", '[project]\nname = "inventory"\ndependencies = ["mcp>=1.23,<2"]\n')
    write(workdir / "app" / "__init__.py", "")
    write(
        workdir / "app" / "models.py",
        "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    stateless: bool = False\n",
    )
    write(workdir / "app" / "config.py", "from app.models import Settings\n\nsettings = Settings()\n")
    write(
        workdir / "app" / "server.py",
        "from mcp.server.lowlevel import Server\n"
        "from mcp.server.streamable_http_manager import StreamableHTTPSessionManager\n\n"
        "from app.config import settings\n\n"
        'manager = StreamableHTTPSessionManager(app=Server("x"), stateless=settings.stateless)\n',
    )
    for i in range(CACHE_MIN_FILES):
        write(workdir / "lib" / f"module_{i}.py", f"VALUE = {i}\n")
    _age(workdir)
    _, first = _check(run, ".")
    assert _codes(first) == [("app/models.py", "MCP101")]
    _edit(workdir / "app" / "config.py", "from app.models import Settings\n\nsettings = Settings(stateless=True)\n")
    _, second = _check(run, ".")
    assert _codes(second) == []


def test_a_tsconfig_alias_change_rechecks_the_files_it_let_through(workdir: Path, run: Run) -> None:
    """A file whose SDK import is written through a tsconfig `paths` alias passes the SDK-import
    gate through it: the tsconfig is recorded, and pointing the alias elsewhere re-checks it."""
    fixture = Path(__file__).parent / "fixtures" / "MCP201" / "ts_tsconfig_paths_alias"
    write(workdir / "src" / "server.ts", (fixture / "input.ts").read_text())
    tsconfig = write(workdir / "tsconfig.json", (fixture / "tsconfig.json").read_text())
    for i in range(CACHE_MIN_FILES):
        write(workdir / "lib" / f"module_{i}.ts", f"export const value = {i};\n")
    _age(workdir)
    _, first = _check(run, "--select", "MCP201", ".")
    assert _codes(first) == [("src/server.ts", "MCP201")] * 3
    _edit(tsconfig, tsconfig.read_text().replace("@modelcontextprotocol/sdk/dist/esm", "@acme/mcp-kit/dist"))
    _, second = _check(run, "--select", "MCP201", ".")
    assert _codes(second) == []

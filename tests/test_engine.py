"""Engine robustness: hostile files, byte-exact fixes, suppressions, parallel runs, discovery.

Everything runs in-process through `mcp_migrate.cli.main` inside a temporary working folder,
so no configuration file of the repository or the machine can leak in.
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import Run, write

from mcp_migrate import engine
from mcp_migrate.discovery import SourcePath, discover
from mcp_migrate.edits import EditConflict, apply_edits, select_compatible, unified_diff
from mcp_migrate.model import Edit, Fix, FixSafety
from mcp_migrate.source import LineIndex, decode

SERVER = 'from mcp.server.fastmcp import FastMCP\nmcp = FastMCP("demo")\nmcp.run(transport="streamable-http")\n'
FIXED = SERVER.replace('FastMCP("demo")', 'FastMCP("demo", stateless_http=True)')
PLAIN = "def add(a, b):\n    return a + b\n"
SSE_SERVER = 'from mcp.server.fastmcp import FastMCP\nmcp = FastMCP("alerts")\nmcp.run(transport="sse")\n'


pytestmark = pytest.mark.usefixtures("workdir")


def report(run: Run, *args: str) -> dict:
    code, out, err = run("check", "--format", "json", *args)
    assert code in (0, 1), err
    return json.loads(out)


def finding_paths(run: Run, *args: str) -> list[str]:
    return sorted({f["path"] for f in report(run, *args)["findings"]})


def codes_of(run: Run, *args: str) -> list[str]:
    return [f["code"] for f in report(run, *args)["findings"]]


# -- files that cannot be processed ------------------------------------------------------------
BROKEN = 'from mcp.server.fastmcp import FastMCP\nmcp = FastMCP("demo"\nmcp.run(transport="streamable-http")\n'


def test_syntax_error_is_reported_once_and_the_other_files_are_still_fixed(run: Run) -> None:
    good = [write("a_good.py", SERVER), write("pkg/z_good.py", SERVER)]
    broken = write("m_broken.py", BROKEN)
    before = broken.read_bytes()

    code, out, _ = run("check", ".")
    assert code == 1
    assert "a_good.py:2:7: MCP101" in out
    assert "pkg/z_good.py:2:7: MCP101" in out

    code, out, err = run("fix", ".")
    assert code == 1
    assert "Traceback" not in out + err
    mentions = [line for line in out.splitlines() if "m_broken.py" in line]
    assert len(mentions) == 1, out
    assert "error" in mentions[0]
    assert "cannot parse" in mentions[0]
    assert broken.read_bytes() == before
    for path in good:
        assert path.read_text(encoding="utf-8") == FIXED

    errors = report(run, ".")["errors"]
    assert [e["path"] for e in errors] == ["m_broken.py"]

    # a file that cannot be processed fails the run on its own
    code, out, _ = run("check", "m_broken.py")
    assert code == 1
    assert "1 file could not be processed" in out


def test_undecodable_file_without_cookie_is_an_error_and_untouched(run: Run) -> None:
    raw = SERVER.replace("demo", "d\xe9mo").encode("latin-1")  # not valid UTF-8, no cookie
    bad = write("bad.py", raw)
    write("good.py", SERVER)

    code, out, _ = run("fix", ".")
    assert code == 1
    [line] = [line for line in out.splitlines() if "bad.py" in line]
    assert "cannot decode" in line
    assert bad.read_bytes() == raw
    assert Path("good.py").read_text(encoding="utf-8") == FIXED

    code, out, _ = run("fix", "bad.py")
    assert code == 1
    assert "cannot decode" in out
    assert bad.read_bytes() == raw


def test_unreadable_file_is_an_error_not_a_crash() -> None:
    source = SourcePath("gone.py", "gone.py", "python")
    result = engine.process(source, engine.Job(("MCP101",), engine.Mode.FIX))
    assert result.findings == []
    assert [e.path for e in result.errors] == ["gone.py"]
    assert "cannot read" in result.errors[0].message


# -- byte-exact fixes -----------------------------------------------------------------------------
def test_crlf_line_endings_survive_a_fix(run: Run) -> None:
    lines = [
        "from mcp.server.fastmcp import FastMCP",
        "",
        "mcp = FastMCP(",
        '    "demo",',
        "    session_idle_timeout=60,",
        ")",
        'mcp.run(transport="streamable-http")',
        "",
    ]
    path = write("crlf.py", "\r\n".join(lines))
    code, _, _ = run("fix", "crlf.py")
    assert code == 1

    expected = list(lines)
    expected[4] = "    stateless_http=True,"
    data = path.read_bytes()
    assert data == "\r\n".join(expected).encode("utf-8")
    assert data.count(b"\n") == data.count(b"\r\n") == len(lines) - 1
    assert b"\r\r" not in data


def test_crlf_single_line_call(run: Run) -> None:
    path = write("crlf.py", SERVER.replace("\n", "\r\n"))
    run("fix", "crlf.py")
    assert path.read_bytes() == FIXED.replace("\n", "\r\n").encode("utf-8")


def test_utf8_bom_is_kept(run: Run) -> None:
    path = write("bom.py", codecs.BOM_UTF8 + SERVER.encode("utf-8"))
    code, _, _ = run("fix", "bom.py")
    assert code == 1
    data = path.read_bytes()
    assert data == codecs.BOM_UTF8 + FIXED.encode("utf-8")
    assert not data[3:].startswith(codecs.BOM_UTF8)


def test_latin1_file_with_coding_cookie_stays_latin1(run: Run) -> None:
    text = "# -*- coding: latin-1 -*-\n" + SERVER.replace('"demo"', '"caf\xe9"')
    path = write("latin.py", text.encode("latin-1"))

    code, out, _ = run("fix", "latin.py")
    assert code == 1
    assert "error" not in out
    data = path.read_bytes()
    assert b"\xe9" in data
    assert b"\xc3\xa9" not in data  # not re-encoded as UTF-8
    assert data.decode("latin-1") == "# -*- coding: latin-1 -*-\n" + FIXED.replace('"demo"', '"caf\xe9"')


def test_non_ascii_before_the_call_keeps_columns_right(run: Run) -> None:
    path = write("wide.py", SERVER.replace("mcp = ", 'x = "\U0001f600\xe9"; mcp = '))
    run("fix", "wide.py")
    assert path.read_text(encoding="utf-8") == FIXED.replace("mcp = ", 'x = "\U0001f600\xe9"; mcp = ')


def test_read_only_file_is_refused_even_as_root(run: Run) -> None:
    path = write("ro.py", SERVER)
    other = write("rw.py", SERVER)
    path.chmod(0o444)
    before, mode = path.read_bytes(), stat.S_IMODE(path.stat().st_mode)
    try:
        code, out, _ = run("fix", ".")
        assert code == 1
        [line] = [line for line in out.splitlines() if line.startswith("ro.py:") and "error" in line]
        assert "read-only" in line
        assert path.read_bytes() == before
        assert stat.S_IMODE(path.stat().st_mode) == mode == 0o444
        assert other.read_text(encoding="utf-8") == FIXED
        assert sorted(os.listdir(".")) == ["ro.py", "rw.py"]  # no temp file left behind
    finally:
        path.chmod(0o644)


def test_executable_bit_is_kept(run: Run) -> None:
    path = write("server.py", "#!/usr/bin/env python3\n" + SERVER)
    path.chmod(0o755)
    code, _, _ = run("fix", "server.py")
    assert code == 1
    assert path.read_text(encoding="utf-8") == "#!/usr/bin/env python3\n" + FIXED
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_fix_diff_writes_nothing_and_prints_a_unified_diff(run: Run) -> None:
    path = write("server.py", SERVER)
    info = path.stat()

    code, out, _ = run("fix", "--diff", "server.py")
    assert code == 1
    assert path.read_bytes() == SERVER.encode("utf-8")
    assert path.stat().st_mtime_ns == info.st_mtime_ns
    assert path.stat().st_ino == info.st_ino
    assert os.listdir(".") == ["server.py"]
    assert out.startswith("--- a/server.py\n+++ b/server.py\n@@ ")
    assert '\n-mcp = FastMCP("demo")\n+mcp = FastMCP("demo", stateless_http=True)\n' in out
    assert "Would fix 1 finding in 1 file." in out


def test_fix_is_idempotent(run: Run) -> None:
    path = write("server.py", SERVER)
    assert run("fix", ".")[0] == 1
    after = path.read_bytes()
    mtime = path.stat().st_mtime_ns

    code, out, _ = run("fix", ".")
    assert code == 0
    assert "All checks passed!" in out
    assert path.read_bytes() == after
    assert path.stat().st_mtime_ns == mtime


def test_diff_of_a_file_with_a_form_feed_is_a_valid_patch(run: Run) -> None:
    text = SERVER.replace("mcp = ", "\x0c\nmcp = ")  # PEP 8 allows form feeds as page breaks
    write("server.py", text)
    code, out, _ = run("fix", "--diff", "server.py")
    assert code == 1
    assert "No newline at end of file" not in out
    hunk = out[: out.index("Would fix")].split("\n")[3:]  # split on \n only, as `patch` does
    old_side = [line[1:] for line in hunk if line[:1] in (" ", "-")]
    new_side = [line[1:] for line in hunk if line[:1] in (" ", "+")]
    assert "\n".join(old_side) + "\n" == text  # the whole (small) file is in the hunk
    assert "\n".join(new_side) + "\n" == text.replace('"demo")', '"demo", stateless_http=True)')


def test_unified_diff_marks_a_missing_final_newline() -> None:
    assert unified_diff("x.py", "a\nb\n", "a\nc\n") == "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    marker = "\\ No newline at end of file\n"
    assert unified_diff("x.py", "a\nb", "a\nc").endswith(f"-b\n{marker}+c\n{marker}")
    assert unified_diff("x.py", "same\n", "same\n") == ""


# -- fixes on unusual but valid formatting ------------------------------------------------------------
@pytest.mark.parametrize("spelling", ['(FastMCP("demo"))', '(\n    FastMCP("demo")\n)'])
def test_parenthesized_server_call_is_checked_and_fixed(run: Run, spelling: str) -> None:
    source = SERVER.replace('FastMCP("demo")', spelling)
    path = write("server.py", source)
    code, out, _ = run("fix", "server.py")
    assert "error" not in out
    assert code == 1
    assert path.read_text(encoding="utf-8") == source.replace('"demo")', '"demo", stateless_http=True)')


def test_removed_arguments_sharing_a_line_in_a_multiline_call(run: Run) -> None:
    source = SERVER.replace('FastMCP("demo")', 'FastMCP(\n    "demo",\n    max_sessions=3, session_idle_timeout=60,\n)')
    path = write("server.py", source)
    code, out, _ = run("fix", "server.py")
    assert "error" not in out
    assert code == 1
    fixed = path.read_text(encoding="utf-8")
    assert "session_idle_timeout" not in fixed
    assert "max_sessions" not in fixed
    assert "stateless_http=True" in fixed
    compile(fixed, "server.py", "exec")


# -- suppression comments -------------------------------------------------------------------------
def _server_with(line: str | None = None, trailing: str = "") -> str:
    head = "from mcp.server.fastmcp import FastMCP\n"
    above = f"{line}\n" if line is not None else ""
    return f'{head}{above}mcp = FastMCP("demo"){trailing}\nmcp.run(transport="streamable-http")\n'


@pytest.mark.parametrize(
    ("source", "silenced"),
    [
        pytest.param(_server_with(trailing="  # mcp-migrate: ignore[MCP101]"), True, id="code-on-line"),
        pytest.param(_server_with("# mcp-migrate: ignore[MCP101]"), True, id="code-alone-above"),
        pytest.param(_server_with("    # mcp-migrate: ignore[MCP101]"), True, id="indented-above"),
        pytest.param(_server_with(trailing="  # mcp-migrate: ignore[mcp101]"), True, id="lower-case-code"),
        pytest.param(_server_with(trailing="  # mcp-migrate: ignore[MCP102, MCP101]"), True, id="code-list"),
        pytest.param(_server_with(trailing="  # mcp-migrate: ignore"), True, id="bare-on-line"),
        pytest.param(_server_with("# mcp-migrate: ignore"), True, id="bare-alone-above"),
        pytest.param(_server_with(trailing="  # mcp-migrate: ignore[MCP104]"), False, id="other-code-on-line"),
        pytest.param(_server_with("# mcp-migrate: ignore[MCP102]"), False, id="other-code-above"),
        pytest.param(_server_with("x = 1  # mcp-migrate: ignore"), False, id="above-but-after-code"),
        pytest.param(_server_with("# mcp-migrate: ignore[MCP101]\n"), False, id="two-lines-above"),
        pytest.param(
            _server_with().replace('FastMCP("demo")', 'FastMCP("# mcp-migrate: ignore")'),
            False,
            id="inside-string-literal",
        ),
        pytest.param(
            _server_with().replace("mcp = ", 'note = """\n# mcp-migrate: ignore[MCP101]\n"""; mcp = '),
            False,
            id="string-line-above-looks-like-a-comment",
        ),
    ],
)
def test_suppression_comments(run: Run, source: str, silenced: bool) -> None:
    write("server.py", source)
    assert codes_of(run, "--ignore", "MCP001", "server.py") == ([] if silenced else ["MCP101"])


def test_suppressed_finding_is_not_fixed(run: Run) -> None:
    source = _server_with(trailing="  # mcp-migrate: ignore[MCP101]")
    path = write("server.py", source)
    code, out, _ = run("fix", "server.py")
    assert code == 0
    assert "All checks passed!" in out
    assert path.read_text(encoding="utf-8") == source


@pytest.mark.parametrize("comment", ["# mcp-migrate: ignore [MCP104]", "# mcp-migrate: ignore[MCP-104]"])
def test_malformed_code_list_does_not_silence_other_codes(run: Run, comment: str) -> None:
    write("server.py", _server_with(trailing="  " + comment))
    assert codes_of(run, "--ignore", "MCP001", "server.py") == ["MCP101"]


# -- many files, one or more processes --------------------------------------------------------------
def _big_tree(root: Path) -> None:
    variants = [
        SERVER,
        SSE_SERVER,
        SERVER.replace('"demo")', '"demo", session_idle_timeout=30, max_sessions=5)'),
        BROKEN,
        _server_with(trailing="  # mcp-migrate: ignore"),
        "import mcp\nfrom mcp.server.fastmcp import FastMCP\nFastMCP('x').run('stdio')\n",
    ]
    for i in range(100):
        folder = root / f"pkg{i % 7}" / ("sub" if i % 3 else "")
        text = variants[(i // 8) % len(variants)] if i % 8 == 0 else f"def f{i}(x):\n    return x + {i}\n"
        write(folder / f"mod{i:03}.py", text)


def test_parallel_and_serial_runs_agree_and_are_deterministic(run: Run, tmp_path: Path) -> None:
    _big_tree(tmp_path)
    assert len(discover(["."])) == 100 >= engine.PARALLEL_MIN_FILES  # big enough to use the pool

    outputs = [run("check", "--format", "json", "--jobs", jobs, ".") for jobs in ("1", "2", "2", "1")]
    assert {code for code, _, _ in outputs} == {1}
    assert len({out for _, out, _ in outputs}) == 1
    document = json.loads(outputs[0][1])
    assert document["summary"]["files_checked"] == 100
    assert document["summary"]["errors"] == 2  # the two broken files, once each
    keys = [(f["path"], f["line"], f["column"], f["code"]) for f in document["findings"]]
    assert keys == sorted(keys)
    assert len(keys) >= 10

    diffs = {run("fix", "--diff", "--jobs", jobs, ".")[1] for jobs in ("1", "2")}
    assert len(diffs) == 1


def test_engine_run_keeps_the_order_of_its_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import concurrent.futures

    pools: list[int | None] = []

    class CountingPool(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, max_workers: int | None = None, **kwargs: object) -> None:
            pools.append(max_workers)
            super().__init__(max_workers, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", CountingPool)
    _big_tree(tmp_path)
    sources = discover(["."])
    shuffled = sources[1::2] + sources[::2]  # not sorted: the results must follow this order
    job = engine.Job(("MCP101", "MCP102", "MCP104"))
    advanced: list[int] = []
    parallel = engine.run(shuffled, job, 2, advanced.append)
    assert pools == [2]  # the process pool was really used
    assert sum(advanced) == len(shuffled)
    serial = engine.run(shuffled, job, 1)
    assert [r.path for r in parallel] == [r.path for r in serial] == [s.display for s in shuffled]
    assert [(r.findings, r.errors) for r in parallel] == [(r.findings, r.errors) for r in serial]


def test_parallel_fix_writes_the_same_files_as_a_serial_fix(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("serial", "parallel"):
        _big_tree(tmp_path / name)
    monkeypatch.chdir(tmp_path / "serial")
    run("fix", "--jobs", "1", ".")
    monkeypatch.chdir(tmp_path / "parallel")
    run("fix", "--jobs", "2", ".")

    def snapshot(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}

    serial, parallel = snapshot(tmp_path / "serial"), snapshot(tmp_path / "parallel")
    assert serial == parallel
    assert serial["pkg0/mod000.py"] == FIXED.encode("utf-8")


# -- discovery ---------------------------------------------------------------------------------------
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git_init(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)


@needs_git
def test_gitignored_files_are_skipped_in_a_git_repo(run: Run, tmp_path: Path) -> None:
    _git_init(tmp_path)
    write(".gitignore", "ignored.py\ngenerated/\n")
    for name in ("kept.py", "ignored.py", "generated/server.py", "pkg/kept.py"):
        write(name, SERVER)
    assert finding_paths(run, ".") == ["kept.py", "pkg/kept.py"]
    # a file named on the command line is checked even when git ignores it
    assert finding_paths(run, "ignored.py") == ["ignored.py"]


@pytest.mark.parametrize("use_git", [pytest.param(False, id="plain-tree"), pytest.param(True, id="git-tree")])
def test_default_excluded_folders_are_skipped(run: Run, tmp_path: Path, use_git: bool) -> None:
    if use_git:
        if shutil.which("git") is None:
            pytest.skip("git is not installed")
        _git_init(tmp_path)
    for folder in (".venv", "venv", "node_modules", "__pycache__", "build", "src/pkg/build", "src/.venv/lib"):
        write(f"{folder}/server.py", SERVER)
    write("src/mcp_tools.egg-info/server.py", SERVER)
    write("src/pkg/server.py", SERVER)
    write("buildtools/server.py", SERVER)  # only whole components match
    write("src/egg-info-notes/server.py", SERVER)
    assert finding_paths(run, ".") == ["buildtools/server.py", "src/egg-info-notes/server.py", "src/pkg/server.py"]


@pytest.mark.parametrize("pattern", ["legacy/*", "legacy", "legacy/"])
def test_exclude_globs(run: Run, pattern: str) -> None:
    write("legacy/old.py", SERVER)
    write("legacy/deeper/old.py", SERVER)
    write("src/new.py", SERVER)
    assert finding_paths(run, ".") == ["legacy/deeper/old.py", "legacy/old.py", "src/new.py"]
    assert finding_paths(run, "--exclude", pattern, ".") == ["src/new.py"]


def test_exclude_is_repeatable_and_matches_file_globs(run: Run) -> None:
    for name in ("a/x.py", "b/y.py", "c/z.py", "c/test_z.py"):
        write(name, SERVER)
    assert finding_paths(run, "--exclude", "a", "--exclude", "test_*.py", ".") == ["b/y.py", "c/z.py"]


def test_exclude_glob_applies_to_absolute_paths_under_the_working_folder(run: Run, tmp_path: Path) -> None:
    write("legacy/old.py", SERVER)
    write("src/new.py", SERVER)
    paths = finding_paths(run, "--exclude", "legacy/*", str(tmp_path))
    assert paths == [f"{tmp_path.as_posix()}/src/new.py"]


@pytest.mark.parametrize("use_git", [pytest.param(False, id="plain-tree"), pytest.param(True, id="git-tree")])
def test_symlinks_found_while_walking_are_not_followed(run: Run, tmp_path: Path, use_git: bool) -> None:
    project = tmp_path / "project"
    outside = tmp_path / "outside"
    write(outside / "target.py", SERVER)
    write(outside / "lib/other.py", SERVER)
    write(project / "real.py", SERVER)
    (project / "link.py").symlink_to(outside / "target.py")
    (project / "linked_dir").symlink_to(outside / "lib", target_is_directory=True)
    if use_git:
        if shutil.which("git") is None:
            pytest.skip("git is not installed")
        _git_init(project)

    assert finding_paths(run, "project") == ["project/real.py"]
    code, _, _ = run("fix", "project")
    assert code == 1
    assert (outside / "target.py").read_text(encoding="utf-8") == SERVER
    assert (outside / "lib/other.py").read_text(encoding="utf-8") == SERVER


def test_symlink_named_on_the_command_line_is_checked_and_the_link_kept(run: Run, tmp_path: Path) -> None:
    target = write(tmp_path / "outside/target.py", SERVER)
    link = Path("link.py")
    link.symlink_to(target)
    assert finding_paths(run, "link.py") == ["link.py"]
    run("fix", "link.py")
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == FIXED


def test_file_named_explicitly_is_checked_even_in_an_excluded_folder(run: Run) -> None:
    write("build/server.py", SERVER)
    assert finding_paths(run, ".") == []
    assert finding_paths(run, "build/server.py") == ["build/server.py"]


def test_same_file_given_twice_is_reported_once(run: Run, tmp_path: Path) -> None:
    write("server.py", SERVER)
    Path("sub").mkdir()
    spellings = [
        ["server.py", "server.py"],
        ["server.py", "./server.py"],
        ["server.py", "sub/../server.py"],
        ["server.py", str(tmp_path / "server.py")],
        [".", "server.py"],
    ]
    for args in spellings:
        document = report(run, *args)
        assert [f["path"] for f in document["findings"]] == ["server.py"], args
        assert document["summary"]["files_checked"] == 1


def test_only_python_files_are_considered(run: Run) -> None:
    write("server.py", SERVER)
    write("stub.pyi", SERVER)
    write("notes.txt", SERVER)
    write("server.py.bak", SERVER)
    assert finding_paths(run, ".") == ["server.py", "stub.pyi"]


# -- edits ---------------------------------------------------------------------------------------------
def test_apply_edits_in_any_order() -> None:
    text = "abcdefghij"
    edits = [Edit(8, 10, "IJ"), Edit(0, 1, "A"), Edit(4, 4, "-")]
    assert apply_edits(text, edits) == "Abcd-efghIJ"
    assert apply_edits(text, []) == text


@pytest.mark.parametrize(
    "edits",
    [
        [Edit(2, 5, "x"), Edit(4, 6, "y")],
        [Edit(2, 5, "x"), Edit(3, 3, "y")],  # insertion strictly inside a replacement
        [Edit(2, 5, "x"), Edit(2, 5, "y")],
        [Edit(0, 9, ""), Edit(3, 4, "y"), Edit(9, 9, "z")],
    ],
)
def test_apply_edits_rejects_overlaps(edits: list[Edit]) -> None:
    with pytest.raises(EditConflict):
        apply_edits("abcdefghij", edits)
    with pytest.raises(EditConflict):
        apply_edits("abcdefghij", list(reversed(edits)))


def test_insertions_at_the_edges_of_a_replacement_are_allowed() -> None:
    text = "abcdefghij"
    assert apply_edits(text, [Edit(2, 5, "X"), Edit(2, 2, "<")]) == "ab<Xfghij"
    assert apply_edits(text, [Edit(5, 5, ">"), Edit(2, 5, "X")]) == "abX>fghij"
    assert apply_edits(text, [Edit(2, 5, "X"), Edit(5, 7, "Y")]) == "abXYhij"  # touching spans


def _fix(*edits: Edit) -> Fix:
    return Fix(FixSafety.SAFE, "test", edits)


def test_select_compatible_keeps_non_overlapping_fixes_in_order() -> None:
    first = _fix(Edit(0, 3, "a"), Edit(10, 10, "b"))
    overlapping = _fix(Edit(2, 4, "c"))
    touching = _fix(Edit(3, 5, "d"))
    at_edge = _fix(Edit(10, 12, "e"))  # replacement starting where `first` inserts
    same_point = _fix(Edit(10, 10, "f"))  # a second insertion at one offset: order would be arbitrary
    later = _fix(Edit(20, 21, "g"))
    chosen = select_compatible([first, overlapping, touching, at_edge, same_point, later])
    assert chosen == [first, touching, at_edge, later]
    assert select_compatible([]) == []
    assert select_compatible([overlapping, first]) == [overlapping]


def test_compatible_fixes_apply_together() -> None:
    text = "0123456789" * 3
    fixes = [_fix(Edit(0, 3, "a"), Edit(10, 10, "b")), _fix(Edit(1, 2, "x")), _fix(Edit(10, 12, "e"))]
    chosen = select_compatible(fixes)
    assert apply_edits(text, [e for f in chosen for e in f.edits]) == "a3456789be23456789" + "0123456789"


# -- source: decoding and positions ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "encoding", "newline"),
    [
        (SERVER.encode(), "utf-8", "\n"),
        (SERVER.replace("\n", "\r\n").encode(), "utf-8", "\r\n"),
        (SERVER.replace("\n", "\r").encode(), "utf-8", "\n"),  # CR-only: analysed as LF, written as CR
        (codecs.BOM_UTF8 + SERVER.encode(), "utf-8-sig", "\n"),
        ("# coding: latin-1\nx = '\xe9'\n".encode("latin-1"), "iso-8859-1", "\n"),
        ("x = '\u20ac'".encode(), "utf-8", "\n"),  # no line break at all
        (b"", "utf-8", "\n"),
    ],
)
def test_decode_round_trips_bytes(raw: bytes, encoding: str, newline: str) -> None:
    text = decode(raw, "python")
    assert text.encoding == encoding
    assert text.newline == newline
    assert not text.text.startswith("\ufeff")
    assert text.cr_only == (b"\r" in raw and b"\n" not in raw)
    assert text.encode(text.text) == raw


def test_decode_rejects_bad_input() -> None:
    with pytest.raises(UnicodeDecodeError):
        decode(b"x = 1\ny = '\xe9'\n", "python")
    with pytest.raises(SyntaxError):  # on the first line, tokenize reports a bad encoding declaration
        decode(b"x = '\xe9'\n", "python")
    with pytest.raises(SyntaxError):
        decode(b"# coding: no-such-codec\nx = 1\n", "python")


def test_decode_of_other_languages_only_sniffs_a_bom() -> None:
    assert decode(codecs.BOM_UTF8 + b"# coding: latin-1\n", "typescript").encoding == "utf-8-sig"
    assert decode(b"# coding: latin-1\n", "typescript").encoding == "utf-8"


@pytest.mark.parametrize("text", ["", "a", "ab\ncd\n", "ab\r\ncd\r\n\r\n", "a\rb\nc\r\nd", "\u00e9\U0001f600\nx"])
def test_line_index_round_trips(text: str) -> None:
    index = LineIndex(text)
    for offset in range(len(text) + 1):
        line, column = index.position(offset)
        assert line >= 1
        assert column >= 0
        assert index.offset(line, column) == offset
        assert index.line_start(offset) == offset - column
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, expected in enumerate(lines, start=1):
        assert index.line_text(number) == expected


def test_line_index_positions_are_per_line() -> None:
    index = LineIndex("ab\r\ncd\ref\n")
    assert index.position(0) == (1, 0)
    assert index.position(4) == (2, 0)
    assert index.position(7) == (3, 0)
    assert index.position(9) == (3, 2)
    assert index.offset(2, 1) == 5
    assert index.line_text(2) == "cd"


def test_a_file_that_grew_or_shrank_after_discovery_is_read_whole(workdir: Path) -> None:
    from mcp_migrate.engine import _read

    path = write(workdir / "server.py", "x = 1\n")
    [source] = discover(["server.py"])
    grown = "# padding\n" * 20_000 + "x = 1\n"
    path.write_text(grown, encoding="utf-8")
    assert _read(source) == grown.encode()
    path.write_text("y\n", encoding="utf-8")
    assert _read(source) == b"y\n"
    assert _read(SourcePath("server.py", "server.py", "python")) == b"y\n"  # no stamp: read to the end
    path.write_text(grown, encoding="utf-8")
    assert _read(SourcePath("server.py", "server.py", "python")) == grown.encode()


def test_a_file_named_twice_is_checked_once(workdir: Path, run: Run) -> None:
    write(workdir / "src" / "server.py", SERVER)
    for spelling in ("src/server.py", "./src/server.py", str(workdir / "src" / "server.py"), "src"):
        assert [s.display for s in discover([".", spelling])] == ["src/server.py"]


# -- files tree-sitter parses only in part (issue #15) -----------------------------------------
# tree-sitter-typescript cannot parse `importOriginal<typeof import('m')>()`, which is valid.
GRAMMAR_GAP = "const actual = await importOriginal<typeof import('./sdk-client')>();\n"
STATEFUL_TS = (
    "import { randomUUID } from 'node:crypto';\n"
    "import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';\n"
    "export const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });\n"
)


def test_a_file_parsed_in_part_keeps_findings_around_the_gap_and_fixes_nothing(run: Run) -> None:
    write("server.ts", STATEFUL_TS + GRAMMAR_GAP)
    code, out, _ = run("check", "--format", "json", "server.ts")
    data = json.loads(out)
    assert code == 1
    assert [f["code"] for f in data["findings"]] == ["MCP101"]
    assert data["findings"][0]["fix"] is None
    assert [e["level"] for e in data["errors"]] == ["warning"]
    code, _, _ = run("fix", "--unsafe-fixes", "server.ts")
    assert Path("server.ts").read_text() == STATEFUL_TS + GRAMMAR_GAP


def test_a_gap_in_code_a_rule_checks_fails_the_run_and_a_gap_elsewhere_does_not(run: Run) -> None:
    broken = STATEFUL_TS.replace("() => randomUUID()", "() => randomUUID<typeof import('x')>()")
    write("server.ts", broken)
    code, out, _ = run("check", "server.ts")
    assert code == 1, out
    assert "error: cannot parse" in out and "line 3" in out and "MCP101" not in out
    write("server.ts", "// no MCP here\n" + GRAMMAR_GAP + "export const header = 'mcp-session-id';\n")
    code, out, _ = run("check", "server.ts")
    assert code == 0 and "warning: cannot parse all of it" in out, out


@pytest.mark.parametrize(
    "file",
    ["a.py", "pkg/mod.py", "./pkg/mod.py", "pkg/../mod.py", "pkg//mod.py", ".hidden/x.py", "/abs/x.py", "/abs/../x.py"],
)
def test_the_index_phases_absolute_path_is_abspaths(file: str) -> None:
    """The index phase keys facts by `_absolute`, the rules look them up by `os.path.abspath`."""
    for cwd in ("/work/repo", "/work/.cache/repo", "/"):
        expected = os.path.normpath(os.path.join(cwd, file))
        assert engine._absolute(file, cwd) == expected

"""Regression tests for failures the fuzz and fault audit found (issue #18): each one ended a run,
hung it, or damaged a file."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import Run, write

pytestmark = pytest.mark.usefixtures("workdir")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "weather-server" / "server.py"


def test_a_stale_suppression_in_yaml_is_a_finding_not_the_end_of_the_run(run: Run) -> None:
    """#1: MCP001 has no trigger of its own in YAML; its severity lookup raised KeyError."""
    write(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n"
        "spec: {sessionAffinity: None  # mcp-migrate: ignore[MCP301]\n}\n",
    )
    write("server.py", EXAMPLE.read_text(encoding="utf-8"))
    code, out, err = run("check", "--format", "json", ".")
    assert code == 1, err
    data = json.loads(out)
    assert {(f["path"], f["code"]) for f in data["findings"]} >= {("svc.yaml", "MCP001"), ("server.py", "MCP101")}
    assert not data["errors"]


def test_values_shared_through_an_anchor_are_reported_once_and_not_fixed(run: Run) -> None:
    """#2: the fix deleted the anchored mapping's content, leaving the alias pointing at `{}`
    (and in other shapes doubled the file on every pass)."""
    text = "service: {annotations: &a {nginx.ingress.kubernetes.io/affinity: cookie}}\ningress: {annotations: *a}\n"
    path = write("values.yaml", text)
    code, out, _ = run("check", "--format", "json", "values.yaml")
    findings = json.loads(out)["findings"]
    assert code == 1 and len(findings) == 1 and findings[0]["fix"] is None
    assert "anchor" in findings[0]["message"]
    run("fix", "--unsafe-fixes", "values.yaml")
    assert path.read_text(encoding="utf-8") == text


def test_a_fix_that_would_leave_yaml_unparseable_is_refused(run: Run) -> None:
    """The engine's check after a YAML fix: what composed before must compose after."""
    from mcp_migrate.lang.yaml import YamlFile

    before = YamlFile("a: &x {k: v}\nb: *x\n")
    after = YamlFile("a: {k: v}\nb: *x\n")
    assert before.valid and not after.valid
    assert after.fix_problems(before)


def test_alias_bombs_are_walked_once(run: Run) -> None:
    """#5: nine levels of nine aliases (an 8 KB "billion laughs" file) spun for minutes."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    write("values.yaml", "\n".join([*lines, "sessionAffinity: ClientIP", ""]))
    started = time.monotonic()
    code, out, _ = run("check", "--no-cache", "values.yaml")
    assert code == 1 and "ClientIP" in out
    assert time.monotonic() - started < 20  # a hang, not a benchmark: it took minutes


def test_output_naming_a_checked_file_is_refused_before_anything_is_written(run: Run) -> None:
    """#7: `check --output s.py s.py` truncated the source before reading it."""
    path = write("s.py", EXAMPLE.read_text(encoding="utf-8"))
    before = path.read_bytes()
    code, _, err = run("check", "--output", "s.py", "s.py")
    assert code == 2 and "is one of the files being checked" in err
    assert path.read_bytes() == before
    code, _, _ = run("check", "--output", "report.txt", "s.py")
    assert code == 1 and "MCP101" in Path("report.txt").read_text(encoding="utf-8")


def test_the_report_file_is_written_when_the_run_is_done(run: Run, tmp_path: Path) -> None:
    """The report replaces its file whole, and only after the inputs were read."""
    shutil.copyfile(EXAMPLE, "server.py")
    Path("report.json").write_text("old report", encoding="utf-8")
    code, _, _ = run("check", "--format", "json", "--output", "report.json", "server.py")
    assert code == 1
    assert json.loads(Path("report.json").read_text(encoding="utf-8"))["findings"]


def test_a_file_cpython_rejects_is_not_fixed(run: Run) -> None:
    """#9: libcst accepts a NUL byte that CPython refuses; such a file was rewritten."""
    text = EXAMPLE.read_text(encoding="utf-8") + "\n# \x00 stray\n"
    path = write("server.py", text)
    _, out, _ = run("fix", "server.py")
    assert path.read_text(encoding="utf-8") == text
    assert "CPython rejects it" in out


def test_a_file_replaced_by_a_link_after_discovery_is_not_written_through(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#10: the write resolved the path, so a file swapped for a link between discovery and
    write had the link's target (outside the tree) rewritten."""
    from mcp_migrate import engine
    from mcp_migrate.discovery import discover

    outside = tmp_path / "outside.py"
    outside.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    before = outside.read_bytes()
    path = write("server.py", EXAMPLE.read_text(encoding="utf-8"))
    [source] = discover(["server.py"])
    real_read = engine._read

    def read_then_swap(*args, **kwargs):  # type: ignore[no-untyped-def]
        data = real_read(*args, **kwargs)
        path.unlink()
        path.symlink_to(outside)
        return data

    monkeypatch.setattr(engine, "_read", read_then_swap)
    result = engine.process(source, engine.Job(("MCP101",), engine.Mode.FIX))
    assert outside.read_bytes() == before and path.is_symlink()
    assert result.errors and "symbolic link" in result.errors[0].message


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    from mcp_migrate.edits import ChangedOnDisk, atomic_write

    path = tmp_path / "server.py"
    path.write_text("old\n", encoding="utf-8")
    info = path.stat()
    read_at = (info.st_size, info.st_mtime_ns)
    path.write_text("someone else's edit\n", encoding="utf-8")
    with pytest.raises(ChangedOnDisk):
        atomic_write(path, b"ours\n", read_at)
    assert path.read_text(encoding="utf-8") == "someone else's edit\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".mcp-migrate")]


def _tree(root: Path, files: int) -> tuple[str, str]:
    """`files` copies of the example server under `root`; (original text, fixed text)."""
    original = EXAMPLE.read_text(encoding="utf-8")
    for i in range(files):
        folder = root / f"svc{i:04d}"
        folder.mkdir(parents=True)
        (folder / "server.py").write_text(original, encoding="utf-8")
    once = root.parent / f"{root.name}-fixed.py"
    once.write_text(original, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "mcp_migrate", "fix", "--no-cache", str(once)], capture_output=True)
    fixed = once.read_text(encoding="utf-8")
    assert fixed != original
    return original, fixed


@pytest.mark.slow
def test_killing_fix_leaves_every_file_old_or_new_and_no_worker_behind(tmp_path: Path) -> None:
    """#3: after SIGKILL/SIGTERM of the parent (not its group) the pool's workers went on
    rewriting files for minutes, then blocked forever. 21 kills (SIGKILL, SIGTERM, SIGINT at
    seven moments each) of `fix` over a 2,000-file tree."""
    tree = tmp_path / "tree"
    original, fixed = _tree(tree, 2000)
    rng = random.Random(7)
    for sig in [signal.SIGKILL, signal.SIGTERM, signal.SIGINT] * 7:
        process = subprocess.Popen(
            [sys.executable, "-m", "mcp_migrate", "fix", "--no-cache", "--jobs", "2", str(tree)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 2.5))
        process.send_signal(sig)
        process.wait(timeout=60)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _workers_of(tree):
            time.sleep(0.1)
        assert not _workers_of(tree), f"a worker outlived its parent ({sig.name})"
        contents = {p.read_text(encoding="utf-8") for p in tree.rglob("server.py")}
        assert contents <= {original, fixed}, sig.name
        assert not [p for p in tree.rglob("*") if p.name.endswith(".mcp-migrate")], sig.name
    done = subprocess.run([sys.executable, "-m", "mcp_migrate", "fix", "--no-cache", str(tree)], capture_output=True)
    assert done.returncode in (0, 1), done.stderr
    assert {p.read_text(encoding="utf-8") for p in tree.rglob("server.py")} == {fixed}


@pytest.mark.slow
def test_two_fix_runs_at_once_never_interleave_edits(tmp_path: Path) -> None:
    """Two concurrent `fix` runs over one tree: every file ends old-or-fixed, never half of
    each (a file changed since it was read is not overwritten; writes are renames)."""
    tree = tmp_path / "tree"
    original, fixed = _tree(tree, 600)
    command = [sys.executable, "-m", "mcp_migrate", "fix", "--no-cache", "--jobs", "2", str(tree)]
    runs = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    for run in runs:
        run.wait(timeout=300)
    contents = {p.read_text(encoding="utf-8") for p in tree.rglob("server.py")}
    assert contents <= {original, fixed}
    subprocess.run(command, capture_output=True)
    assert {p.read_text(encoding="utf-8") for p in tree.rglob("server.py")} == {fixed}


def _workers_of(tree: Path) -> list[int]:
    """Processes still running whose command line names the tree."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().split()[2]
        except OSError:
            continue
        if str(tree).encode() in cmdline and state != "Z":
            found.append(int(proc.name))
    return found


def test_a_file_name_with_a_newline_cannot_forge_a_line_of_the_report(run: Run) -> None:
    """#11: the text report printed paths raw; in a GitHub Actions log a line starting with
    `::error` is a workflow command."""
    write("a\n::error file=x::forged.py", EXAMPLE.read_text(encoding="utf-8"))
    _, out, _ = run("check", ".")
    assert not any(line.startswith("::error") for line in out.splitlines()), out
    assert "a\\n::error file=x::forged.py:" in out


@pytest.mark.parametrize("value", ['select = [""]', 'ignore = [" "]'])
def test_an_empty_selector_is_a_usage_error(run: Run, value: str) -> None:
    write("pyproject.toml", f"[tool.mcp-migrate]\n{value}\n")
    write("server.py", EXAMPLE.read_text(encoding="utf-8"))
    code, _, err = run("check", "server.py")
    assert code == 2 and "empty selector" in err


def test_jobs_beyond_the_cores_are_not_forked(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """#11: `--jobs 400` forked 400 processes for 80 files."""
    from concurrent import futures

    seen: list[int] = []
    real = futures.ProcessPoolExecutor

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, max_workers: int, **kwargs: object) -> None:
            seen.append(max_workers)
            super().__init__(max_workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(futures, "ProcessPoolExecutor", Recording)
    for i in range(80):
        write(f"pkg{i}/server.py", EXAMPLE.read_text(encoding="utf-8"))
    code, _, _ = run("check", "--no-cache", "--jobs", "400", ".")
    assert code == 1
    assert seen and max(seen) <= (os.cpu_count() or 1)


def test_cr_only_line_endings_are_checked_fixed_and_kept(run: Run) -> None:
    """#8: CR-only files (valid Python) got positions a line off and fixes that broke them;
    the prefilter's line-anchored gate did not even see the import."""
    raw = EXAMPLE.read_text(encoding="utf-8").replace("\n", "\r").encode()
    path = Path("server.py")
    path.write_bytes(raw)
    _, out, _ = run("check", "server.py")
    assert "server.py:8:7: MCP101" in out
    run("fix", "server.py")
    fixed = path.read_bytes()
    assert b"\n" not in fixed and b"stateless_http=True" in fixed
    compile(fixed.decode(), "server.py", "exec")


def test_yaml_line_separators_do_not_shift_positions_or_end_the_run(run: Run) -> None:
    """#8: PyYAML breaks lines at U+2028 (and NEL, U+2029); positions came out a line off, or
    an IndexError ended the run."""
    text = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n# c\u2028# d\u2028# e\nspec: {sessionAffinity: ClientIP}"
    )
    write("svc.yaml", text)
    code, out, _ = run("check", "svc.yaml")
    assert code == 1 and "svc.yaml:6:8: MCP301" in out


DEEP_BRACKETS = "import mcp\nfrom mcp.server.fastmcp import FastMCP\nx = " + "[" * 2000 + "]" * 2000 + "\n"
LONG_CHAIN = "import mcp\nfrom mcp.server.fastmcp import FastMCP\nx = " + " + ".join(["1"] * 8000) + "\n"


@pytest.mark.parametrize(("text", "reason"), [(DEEP_BRACKETS, "brackets nested 2000 deep"), (LONG_CHAIN, "too deep")])
def test_nesting_that_crashes_libcst_is_reported_not_parsed(run: Run, text: str, reason: str) -> None:
    """#4/#5: 2,000 nested `[` segfaulted libcst (exit 139, no message); an 8,000-term sum took
    24 s and then crashed it. CPython refuses both; they are named and skipped."""
    write("deep.py", text)
    write("server.py", EXAMPLE.read_text(encoding="utf-8"))
    started = time.monotonic()
    code, out, err = run("check", "--no-cache", ".")
    assert code == 1, err
    assert "deep.py: error: cannot parse:" in out and reason in out
    assert "server.py:8:7: MCP101" in out
    assert time.monotonic() - started < 20


def test_files_over_the_size_budget_are_named_and_skipped(run: Run) -> None:
    write("server.py", EXAMPLE.read_text(encoding="utf-8"))
    code, out, _ = run("check", "--file-size-limit", "0.0001", "server.py")
    assert code == 1 and "skipped:" in out and "file-size-limit" in out and "MCP101" not in out


def test_a_file_over_the_time_budget_is_named_and_skipped(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """#5: no per-file budget; a file whose analysis runs on is now stopped and named."""
    from mcp_migrate import engine

    real = engine._diagnose

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "_diagnose", slow)
    write("server.py", EXAMPLE.read_text(encoding="utf-8"))
    started = time.monotonic()
    code, out, _ = run("check", "--no-cache", "--file-time-limit", "0.5", "server.py")
    assert code == 1 and "took over 0.5 s (file-time-limit)" in out
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_budgets_must_be_positive_numbers(run: Run, value: str) -> None:
    code, _, err = run("check", "--file-time-limit", value, ".")
    assert code == 2 and "greater than 0" in err


# -- hostile servers for verify (#6) ------------------------------------------------------------
class _Hostile(http.server.BaseHTTPRequestHandler):
    mode = "trickle"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        if self.mode == "keepalive":
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b'event: message\ndata: {"jsonrpc": "2.0", "id": 1, "result": {}}\n\n')
            self.wfile.flush()
            with contextlib.suppress(OSError):
                while True:  # keep-alive comments, forever
                    self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
                    time.sleep(0.05)
        self.send_header("content-type", "application/json")
        self.end_headers()
        with contextlib.suppress(OSError):
            if self.mode == "trickle":
                for _ in range(600):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.02)
            else:  # huge
                block = b" " * (1 << 20)
                for _ in range(100):
                    self.wfile.write(block)


@pytest.mark.parametrize("mode", ["trickle", "keepalive", "huge"])
def test_verify_reads_an_answer_within_its_deadline_and_cap(mode: str) -> None:
    """#6: a body trickled at one byte a time, an endless SSE keep-alive and a 100 MB body each
    ran verify past 150 s (and 865 MB); the socket timeout restarted with every byte."""
    from mcp_migrate.verify import wire

    handler = type("Handler", (_Hostile,), {"mode": mode})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        reply = wire.Wire(timeout=1.0, headers={}).post(f"http://127.0.0.1:{server.server_port}/mcp", {"id": 1})
        assert time.monotonic() - started < 5
        assert len(reply.body) <= wire.MAX_BODY
        if mode == "keepalive":
            assert reply.response(1) is not None
    finally:
        server.shutdown()
        server.server_close()


class _Redirecting(http.server.BaseHTTPRequestHandler):
    """Every POST is sent somewhere else: to itself again (a loop), or to a page that is not MCP."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(307)  # keeps the method and body: a client that follows posts again
        self.send_header("location", self.path + "x" if self.path.startswith("/mcp") else "/mcp")
        self.send_header("content-length", "0")
        self.end_headers()


def test_verify_against_a_redirect_loop_ends_with_one_clear_line() -> None:
    """#18 point 5's redirecting server: verify stops within its deadline, exit 1 or 2, one
    escaped line of evidence, no traceback."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mcp_migrate",
                "verify",
                "--timeout",
                "2",
                f"http://127.0.0.1:{server.server_port}/mcp",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert time.monotonic() - started < 30
    assert done.returncode in (1, 2), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "307" in done.stdout or "redirect" in (done.stdout + done.stderr).lower(), done.stdout


def test_verify_shows_a_servers_control_bytes_escaped() -> None:
    from mcp_migrate.verify import Check, Report
    from mcp_migrate.verify.report import text

    report = Report(urls=["http://x/mcp"], checks=[Check("initialize", "fail", "answered \x1b[2J\n::error::x")])
    shown = text(report)
    assert "\x1b" not in shown and "\n::error" not in shown


def test_a_cache_entry_with_an_unknown_rule_code_is_a_miss(run: Run, tmp_path: Path) -> None:
    """#11: a cache entry naming a code no rule has crashed `--format sarif`."""
    cache = tmp_path.parent / f"{tmp_path.name}-cache"
    past = time.time() - 3600  # files (and folders) changed just now are not cached (racy)
    for i in range(40):  # enough files for the cache to be used (CACHE_MIN_FILES)
        write(f"pkg{i}/server.py", EXAMPLE.read_text(encoding="utf-8"))
    for path in [Path("."), *Path(".").rglob("*")]:
        os.utime(path, (past, past))
    run("check", "--cache-dir", str(cache), ".")
    [store] = [p for p in cache.rglob("*.json")]
    data = store.read_bytes()
    assert b'"MCP101"' in data
    store.write_bytes(data.replace(b'"MCP101"', b'"MCP999"'))
    code, out, err = run("check", "--cache-dir", str(cache), "--format", "sarif", ".")
    assert code == 1, err
    assert '"ruleId": "MCP101"' in out and "MCP999" not in out


def _crash_on_marked_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rule checker segfaults its process on a file that says CRASH-ME: a parser crash."""
    from mcp_migrate import rules

    real = rules.checker

    def crashing(code: str, language: str):  # type: ignore[no-untyped-def]
        check = real(code, language)

        def wrapped(module):  # type: ignore[no-untyped-def]
            if "CRASH-ME" in module.text:
                os.kill(os.getpid(), signal.SIGSEGV)
            return check(module)

        return wrapped

    monkeypatch.setattr(rules, "checker", crashing)


def test_a_crash_in_a_small_run_is_named_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the pool's size (pre-commit's few files) the run happens in one forked child: a
    segfault there no longer ends `mcp-migrate` with exit 139 and no report."""
    from mcp_migrate import engine
    from mcp_migrate.discovery import discover

    _crash_on_marked_files(monkeypatch)  # inherited by the forked child
    monkeypatch.chdir(tmp_path)
    text = EXAMPLE.read_text(encoding="utf-8")
    for i in range(3):
        write(f"pkg{i}/server.py", text + ("# CRASH-ME\n" if i == 1 else ""))
    results = engine.run(discover(["."]), engine.Job(("MCP101",), engine.Mode.CHECK), jobs=2)
    by_path = {r.path: r for r in results}
    assert "crashed the process" in by_path["pkg1/server.py"].errors[0].message
    assert all(by_path[p].findings and not by_path[p].errors for p in ("pkg0/server.py", "pkg2/server.py"))


@pytest.mark.slow
def test_a_file_that_crashes_its_worker_is_named_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parser crash (a segfault) in a pool worker ended the run with BrokenProcessPool and no
    result for any file; now the chunk is redone file by file, each in a process of its own."""
    from mcp_migrate import engine
    from mcp_migrate.discovery import discover

    _crash_on_marked_files(monkeypatch)  # inherited by the forked workers
    text = EXAMPLE.read_text(encoding="utf-8")
    for i in range(80):
        write(f"pkg{i:02d}/server.py", text + ("# CRASH-ME\n" if i == 37 else ""))
    sources = discover(["."])
    results = engine.run(sources, engine.Job(("MCP101",), engine.Mode.CHECK), jobs=2)
    by_path = {r.path: r for r in results}
    crashed = by_path["pkg37/server.py"]
    assert crashed.errors and "crashed the process" in crashed.errors[0].message
    others = [r for path, r in by_path.items() if path != "pkg37/server.py"]
    assert len(others) == 79 and all(r.findings and not r.errors for r in others)


def test_a_yaml_stream_pyyaml_rejects_keeps_its_suppression_comments(run: Run) -> None:
    """The fuzzer's find (seed 1: two lines of MCP306/ok_values swapped): the stream no longer
    parsed, no rule saw its documents, so MCP001 called the suppression unused and `fix` removed
    it from a file PyYAML rejects."""
    broken = "".join(
        [
            "# Values that must stay silent.\n"
            "service:\n"
            "  type: ClusterIP\n"
            "  sessionAffinity: None\n"
            "  # sessionAffinity: ClientIP\n"
            "\n"
            "      - labelSelector:\n"
            "  annotations:\n"
            '    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"\n'
            '    nginx.ingress.kubernetes.io/affinity: ""\n'
            "    # nginx.ingress.kubernetes.io/affinity: cookie\n"
            "    alb.ingress.kubernetes.io/target-group-attributes: stickiness.enabled=false\n"
            "    scheduler.alpha.kubernetes.io/affinity: '{\"nodeAffinity\": {}}'\n"
            "\n"
            "legacy:\n"
            "  annotations:\n"
            "    nginx.ingress.kubernetes.io/affinity: cookie  # mcp-migrate: ignore[MCP306] retired\n"
            "    nginx.ingress.kubernetes.io/session-cookie-name: legacy\n"
            "\n"
            "affinity:\n"
            "  podAffinity:\n"
            "    requiredDuringSchedulingIgnoredDuringExecution:\n"
            "ingress:\n"
            "          matchLabels:\n"
            "            session-group: cx-mcp\n"
            "        topologyKey: kubernetes.io/hostname\n"
            "  podAntiAffinity:\n"
            "    preferredDuringSchedulingIgnoredDuringExecution:\n"
            "      - weight: 100\n"
            "        podAffinityTerm:\n"
            "          labelSelector:\n"
            "            matchLabels:\n"
            "              app: mcp-gateway\n"
            "          topologyKey: kubernetes.io/hostname\n"
            'notes: "sessionAffinity: ClientIP is gone"\n'
        ]
    )
    path = write("values.yaml", broken)
    _, out, _ = run("check", "--no-cache", ".")
    assert "MCP001" not in out, out
    run("fix", "--no-cache", "--unsafe-fixes", ".")
    assert path.read_text(encoding="utf-8") == broken


def test_a_nul_byte_inside_a_string_literal_is_no_internal_error(workdir: Path, run: Run) -> None:
    """libcst parses it, `ast.literal_eval` (behind libcst's `evaluated_value`) refuses it: the
    literal's value is unknown, not a crash (the fuzzer's seed 2 found this)."""
    source = 'from fastmcp import FastMCP\n\nmcp = FastMCP("x")\n\nmcp.run(transport="s\x00treamable-http")\n'
    (workdir / "server.py").write_bytes(source.encode())
    code, out, err = run("fix", "--unsafe-fixes", "--no-cache", "--format", "json", "server.py")
    assert "internal error" not in out + err, out + err
    assert code == 1 and (workdir / "server.py").read_bytes() == source.encode()  # reported, not fixed (no pin)


@pytest.mark.parametrize("where", ["values-file-checked", "values-file-read-for-a-template"])
def test_yaml_nested_past_the_parsers_limit_is_no_internal_error(workdir: Path, run: Run, where: str) -> None:
    """PyYAML's pure-Python composer recurses: 1,500 nested brackets were a RecursionError when
    MCP306 composed a values file as written, or read a chart's values for a template (the
    fuzzer's seed 3 found the first)."""
    # `{{...}}` deep reads as a template line, masked for the parse, then composed as written
    deep = "{" * 1500 + "}" * 1500 if where == "values-file-checked" else "[" * 1500 + "]" * 1500
    write("chart/Chart.yaml", "apiVersion: v2\nname: mcp\nversion: 0.1.0\n")
    template_line = '  name: "{{ .Release.Name }}"\n' if where == "values-file-checked" else ""
    write("chart/values.yaml", f"service:\n  sessionAffinity: ClientIP\n{template_line}  x: {deep}\n")
    write(
        "chart/templates/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: mcp\n  annotations:\n"
        "    {{- toYaml .Values.service.annotations | nindent 4 }}\nspec:\n"
        "  sessionAffinity: {{ .Values.service.sessionAffinity }}\n",
    )
    target = "chart/values.yaml" if where == "values-file-checked" else "chart/templates/service.yaml"
    code, out, err = run("check", "--no-cache", "--format", "json", target)
    assert "internal error" not in out + err and code in (0, 1), out + err


def test_a_lone_cr_inside_a_line_keeps_comments_on_their_lines(workdir: Path, run: Run) -> None:
    """CPython and libcst end a line at a lone CR; the comment reader split at LF only, so every
    later suppression was a line off and MCP001's fix cut the wrong line (the engine refused it:
    an internal error; the fuzzer's seed 7 found it)."""
    source = (
        "from mcp.server.fastmcp import FastMCP\n\n"
        'mcp = Fast\rMCP("gateway", stateless_http=True)\n'
        'legacy = FastMCP("legacy")  # mcp-migrate: ignore[MCP101, MCP104]\n'
        'legacy.run(transport="streamable-http")\n'
    )
    (workdir / "server.py").write_bytes(source.encode())
    code, out, err = run("fix", "--no-cache", "--format", "json", "server.py")
    assert "internal error" not in out + err, out + err
    assert code == 1
    fixed = (workdir / "server.py").read_bytes().decode()
    assert "# mcp-migrate: ignore[MCP101]\n" in fixed  # MCP104 was the unused half
    assert fixed.count("\r") == 1

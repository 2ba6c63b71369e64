"""The command line: exit codes, usage errors, report formats, rule selection, configuration.

Driven in-process through `mcp_migrate.cli.main`, except for the two tests whose point is the
real entry points (`python -m mcp_migrate` and the `mcp-migrate` console script).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Run, write

from mcp_migrate import DISTRIBUTION, HOME, __version__
from mcp_migrate.rules import all_rules

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "weather-server"

SERVER = 'from mcp.server.fastmcp import FastMCP\nmcp = FastMCP("demo")\nmcp.run(transport="streamable-http")\n'
FIXED = SERVER.replace('FastMCP("demo")', 'FastMCP("demo", stateless_http=True)')
PLAIN = "def add(a, b):\n    return a + b\n"
# One finding of every rule: MCP101 (safe fix), MCP102 and MCP103 (no fix on a stateful
# endpoint: MCP101's fix removes them), MCP104 (unsafe fix).
MULTI = """\
from mcp.server.fastmcp import FastMCP
from mcp.server.streamable_http import InMemoryEventStore

store = InMemoryEventStore()
mcp = FastMCP("demo", session_idle_timeout=60, event_store=store)
mcp.run(transport="streamable-http")

legacy = FastMCP("legacy")
legacy.run(transport="sse")
"""
ALL_CODES = ["MCP101", "MCP102", "MCP103", "MCP104"]  # what MULTI reports
RULE_CODES = [rule.code for rule in all_rules()]


pytestmark = pytest.mark.usefixtures("workdir")


def codes(run: Run, *args: str) -> list[str]:
    code, out, err = run("check", "--format", "json", *args)
    assert code in (0, 1), err
    return [f["code"] for f in json.loads(out)["findings"]]


def assert_one_error_line(err: str, *fragments: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mcp-migrate: error: "), err
    for fragment in fragments:
        assert fragment in lines[0]


# -- exit codes ----------------------------------------------------------------------------------
def test_clean_tree_exits_0(run: Run) -> None:
    write("lib.py", PLAIN)
    write("stdio_server.py", SERVER.replace("streamable-http", "stdio"))
    code, out, err = run("check", ".")
    assert (code, err) == (0, "")
    assert out == "All checks passed!\n"


def test_findings_exit_1(run: Run) -> None:
    write("server.py", SERVER)
    code, out, err = run("check", ".")
    assert (code, err) == (1, "")
    assert out.startswith("server.py:2:7: MCP101 [*] ")
    assert "Found 1 finding." in out
    assert "[*] 1 fixable with `mcp-migrate fix`." in out


def test_default_path_is_the_working_folder(run: Run) -> None:
    write("pkg/server.py", SERVER)
    code, out, _ = run("check")
    assert code == 1
    assert out.startswith("pkg/server.py:2:7: MCP101")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(["check", "missing.py"], ["missing.py", "no such file"], id="missing-path"),
        pytest.param(["check", "server.py", "missing_dir"], ["missing_dir"], id="one-of-two-paths-missing"),
        pytest.param(["check", "--select", "NOPE", "."], ["--select", "NOPE"], id="select-unknown"),
        pytest.param(["check", "--ignore", "MCP1,XYZ", "."], ["--ignore", "XYZ"], id="ignore-unknown"),
        pytest.param(["explain", "MCP999"], ["MCP999"], id="explain-unknown"),
        pytest.param(["check", "--config", "nope.toml", "."], ["nope.toml"], id="missing-config"),
    ],
)
def test_usage_errors_exit_2_with_one_line(run: Run, args: list[str], fragments: list[str]) -> None:
    write("server.py", SERVER)
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert_one_error_line(err, *fragments)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(["check", "--bogus", "."], "--bogus", id="unknown-option"),
        pytest.param(["check", "--jobs", "0", "."], "--jobs", id="jobs-0"),
        pytest.param(["check", "--jobs", "many", "."], "--jobs", id="jobs-not-a-number"),
        pytest.param(["check", "--format", "xml", "."], "xml", id="unknown-format"),
        pytest.param(["frobnicate"], "frobnicate", id="unknown-command"),
        pytest.param([], "required", id="no-command"),
    ],
)
def test_argparse_usage_errors_exit_2(run: Run, args: list[str], fragment: str) -> None:
    write("server.py", SERVER)
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("mcp-migrate")
    assert ": error: " in last
    assert fragment in last
    assert all(line.startswith(("usage:", " ", "mcp-migrate")) for line in err.strip().splitlines())


def test_jobs_must_be_positive_in_config_too(run: Run) -> None:
    write("server.py", SERVER)
    write(".mcp-migrate.toml", "jobs = 0\n")
    code, out, err = run("check", ".")
    assert (code, out) == (2, "")
    assert_one_error_line(err, ".mcp-migrate.toml", "jobs")


# -- JSON report ----------------------------------------------------------------------------------
def test_json_report_shape(run: Run) -> None:
    write("srv/multi.py", MULTI)
    write("srv/lib.py", PLAIN)
    code, out, err = run("check", "--format", "json", "srv")
    assert (code, err) == (1, "")
    document = json.loads(out)  # exactly one JSON document, nothing around it
    assert document["version"] == 1
    assert {"version", "findings", "summary"} <= set(document)

    findings = document["findings"]
    assert [f["code"] for f in findings] == ALL_CODES
    lines = MULTI.splitlines()
    seen_fixes = set()
    for finding in findings:
        assert {"code", "path", "line", "column", "end_line", "end_column", "severity", "message", "fix"} <= set(
            finding
        )
        assert finding["path"] == "srv/multi.py"
        assert finding["severity"] in ("error", "warning")
        assert isinstance(finding["message"], str)
        assert finding["message"]
        for key in ("line", "column", "end_line", "end_column"):
            assert isinstance(finding[key], int)
            assert finding[key] >= 1
        assert (finding["line"], finding["column"]) < (finding["end_line"], finding["end_column"])
        fix = finding["fix"]
        if fix is None:
            seen_fixes.add(None)
        else:
            assert fix["safety"] in ("safe", "unsafe")
            assert isinstance(fix["description"], str)
            assert fix["description"]
            seen_fixes.add(fix["safety"])
    assert seen_fixes == {None, "safe", "unsafe"}

    # columns are 1-based and the end is exclusive: the spans cut out exactly the code
    by_code = {f["code"]: f for f in findings}
    for code_, expected in [
        ("MCP101", 'FastMCP("demo", session_idle_timeout=60, event_store=store)'),
        ("MCP102", "session_idle_timeout=60"),
        ("MCP103", "event_store=store"),
        ("MCP104", 'legacy.run(transport="sse")'),
    ]:
        finding = by_code[code_]
        assert finding["line"] == finding["end_line"]
        assert lines[finding["line"] - 1][finding["column"] - 1 : finding["end_column"] - 1] == expected
    assert by_code["MCP101"]["severity"] == "error"
    assert by_code["MCP102"]["severity"] == "warning"

    summary = document["summary"]
    assert summary["files_checked"] == 2
    assert summary["findings"] == 4
    assert summary["by_code"] == dict.fromkeys(ALL_CODES, 1)


def test_json_fix_mode_summary(run: Run) -> None:
    write("server.py", SERVER)
    code, out, _ = run("fix", "--format", "json", ".")
    assert code == 1
    document = json.loads(out)
    assert document["findings"] == []
    assert document["summary"]["mode"] == "fix"
    assert document["summary"]["fixed"] == 1
    assert document["summary"]["changed_files"] == 1


def test_json_clean_run(run: Run) -> None:
    write("lib.py", PLAIN)
    code, out, _ = run("check", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["findings"] == []
    assert document["summary"]["findings"] == 0


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_output_file_gets_the_report_and_stdout_nothing(run: Run, fmt: str) -> None:
    write("server.py", SERVER)
    code, out, err = run("check", "--format", fmt, "--output", "report.out", "server.py")
    assert (code, out, err) == (1, "", "")
    text = Path("report.out").read_text(encoding="utf-8")
    if fmt == "json":
        assert [f["code"] for f in json.loads(text)["findings"]] == ["MCP101"]
    else:
        assert text.startswith("server.py:2:7: MCP101")
        assert "\033[" not in text  # never colour in a file


def test_output_file_in_a_missing_folder_is_a_usage_error(run: Run) -> None:
    write("server.py", SERVER)
    code, out, err = run("check", "-o", "no/such/dir/report.json", "server.py")
    assert (code, out) == (2, "")
    assert_one_error_line(err, "no/such/dir/report.json")


def test_unwritable_output_fails_before_fix_touches_any_file(run: Run) -> None:
    path = write("server.py", SERVER)
    code, _, _ = run("fix", "-o", "no/such/dir/report.json", "server.py")
    assert code == 2
    assert path.read_text(encoding="utf-8") == SERVER


# -- rule selection -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ALL_CODES),
        (["--select", "MCP10"], ALL_CODES),
        (["--select", "MCP1"], ALL_CODES),
        (["--select", "ALL"], ALL_CODES),
        (["--select", "MCP101"], ["MCP101"]),
        (["--select", "mcp104"], ["MCP104"]),
        (["--select", "MCP101,MCP104"], ["MCP101", "MCP104"]),
        (["--select", "MCP101, MCP103"], ["MCP101", "MCP103"]),
        (["--select", "MCP101", "--select", "MCP104"], ["MCP101", "MCP104"]),
        (["--ignore", "MCP102"], ["MCP101", "MCP103", "MCP104"]),
        (["--ignore", "MCP102,MCP103"], ["MCP101", "MCP104"]),
        (["--ignore", "MCP102", "--ignore", "MCP104"], ["MCP101", "MCP103"]),
        (["--select", "MCP10", "--ignore", "MCP101"], ["MCP102", "MCP103", "MCP104"]),
        (["--ignore", "MCP10"], []),
    ],
)
def test_select_and_ignore(run: Run, args: list[str], expected: list[str]) -> None:
    write("multi.py", MULTI)
    assert codes(run, *args, "multi.py") == expected


def test_ignoring_everything_is_a_clean_run(run: Run) -> None:
    write("multi.py", MULTI)
    code, out, _ = run("check", "--ignore", "MCP1", "multi.py")
    assert (code, out) == (0, "All checks passed!\n")


# -- configuration --------------------------------------------------------------------------------
def test_pyproject_table_is_honoured(run: Run) -> None:
    write("multi.py", MULTI)
    write("pyproject.toml", '[project]\nname = "x"\n\n[tool.mcp-migrate]\nignore = ["MCP102"]\n')
    assert codes(run, "multi.py") == ["MCP101", "MCP103", "MCP104"]


def test_pyproject_without_the_table_is_not_config(run: Run) -> None:
    write("multi.py", MULTI)
    write("pyproject.toml", '[project]\nname = "x"\n\n[tool.other]\nignore = 3\n')
    assert codes(run, "multi.py") == ALL_CODES


def test_pyproject_in_a_parent_folder_is_found(run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write("pyproject.toml", '[tool.mcp-migrate]\nselect = ["MCP104"]\n')
    write("sub/multi.py", MULTI)
    monkeypatch.chdir(tmp_path / "sub")
    assert codes(run, "multi.py") == ["MCP104"]


def test_dedicated_config_with_top_level_keys(run: Run) -> None:
    write("multi.py", MULTI)
    write(".mcp-migrate.toml", 'select = ["MCP10"]\nignore = ["MCP101", "MCP104"]\nformat = "json"\n')
    code, out, _ = run("check", "multi.py")
    assert code == 1
    assert [f["code"] for f in json.loads(out)["findings"]] == ["MCP102", "MCP103"]


def test_dedicated_config_wins_over_pyproject(run: Run) -> None:
    write("multi.py", MULTI)
    write("pyproject.toml", '[tool.mcp-migrate]\nselect = ["MCP101"]\n')
    write(".mcp-migrate.toml", 'select = ["MCP104"]\n')
    assert codes(run, "multi.py") == ["MCP104"]


def test_config_exclude_and_cli_exclude_add_up(run: Run) -> None:
    for name in ("a/s.py", "b/s.py", "c/s.py"):
        write(name, SERVER)
    write(".mcp-migrate.toml", 'exclude = ["a"]\n')
    code, out, _ = run("check", "--format", "json", "--exclude", "b", ".")
    assert code == 1
    assert [f["path"] for f in json.loads(out)["findings"]] == ["c/s.py"]


def test_cli_options_override_config(run: Run) -> None:
    write("multi.py", MULTI)
    write(".mcp-migrate.toml", 'select = ["MCP101"]\nformat = "json"\n')
    code, out, _ = run("check", "--select", "MCP104", "--format", "text", "multi.py")
    assert code == 1
    assert out.startswith("multi.py:9:1: MCP104 ")
    assert "MCP101" not in out


def test_config_unsafe_fixes(run: Run) -> None:
    path = write("sse.py", MULTI)
    write(".mcp-migrate.toml", "unsafe-fixes = true\n")
    run("fix", "sse.py")
    assert 'legacy.run(transport="streamable-http")' in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "content", "fragments"),
    [
        pytest.param(".mcp-migrate.toml", "selct = []\n", ["unknown key", "selct"], id="unknown-key"),
        pytest.param(
            "pyproject.toml", "[tool.mcp-migrate]\nbogus = 1\n", ["pyproject.toml", "bogus"], id="unknown-key-pyproject"
        ),
        pytest.param(".mcp-migrate.toml", 'ignore = "MCP102"\n', ["ignore", "list of strings"], id="wrong-type"),
        pytest.param(".mcp-migrate.toml", "unsafe-fixes = 1\n", ["unsafe-fixes", "true or false"], id="not-a-bool"),
        pytest.param(".mcp-migrate.toml", 'format = "xml"\n', ["format", "xml"], id="bad-format"),
        pytest.param(".mcp-migrate.toml", "ignore = [\n", ["invalid TOML"], id="invalid-toml"),
        pytest.param("pyproject.toml", "[tool.mcp-migrate\n", ["invalid TOML"], id="invalid-toml-pyproject"),
        pytest.param(
            ".mcp-migrate.toml", 'ignore = ["NOPE"]\n', ["--ignore", "NOPE", ".mcp-migrate.toml"], id="bad-code"
        ),
        pytest.param(".mcp-migrate.toml", "[tool]\nmcp-migrate = 3\n", ["must be a table"], id="not-a-table"),
    ],
)
def test_bad_config_exits_2_with_one_line(run: Run, name: str, content: str, fragments: list[str]) -> None:
    write("server.py", SERVER)
    write(name, content)
    code, out, err = run("check", ".")
    assert (code, out) == (2, "")
    assert_one_error_line(err, *fragments)
    assert "internal error" not in err


def test_non_table_tool_key_is_a_clear_config_error(run: Run) -> None:
    write("server.py", SERVER)
    write(".mcp-migrate.toml", "tool = 1\n")
    code, _, err = run("check", ".")
    assert code == 2
    assert_one_error_line(err, ".mcp-migrate.toml", "tool")
    assert "internal error" not in err


def test_isolated_ignores_config(run: Run) -> None:
    write("multi.py", MULTI)
    write(".mcp-migrate.toml", 'select = ["MCP104"]\n')
    assert codes(run, "multi.py") == ["MCP104"]
    assert codes(run, "--isolated", "multi.py") == ALL_CODES


def test_isolated_ignores_even_a_broken_config(run: Run) -> None:
    write("server.py", SERVER)
    write(".mcp-migrate.toml", "this is not toml\n")
    assert codes(run, "--isolated", "server.py") == ["MCP101"]


@pytest.mark.parametrize("name", ["ci.toml", "pyproject.toml"])
def test_config_option_uses_that_file(run: Run, name: str) -> None:
    write("multi.py", MULTI)
    write(".mcp-migrate.toml", 'select = ["MCP104"]\n')  # would apply without --config
    table = "[tool.mcp-migrate]\n" if name == "pyproject.toml" else ""
    write(f"elsewhere/{name}", f'{table}ignore = ["MCP101", "MCP103"]\n')
    assert codes(run, "--config", f"elsewhere/{name}", "multi.py") == ["MCP102", "MCP104"]


# -- rules and explain ----------------------------------------------------------------------------
def test_rules_lists_every_rule(run: Run) -> None:
    code, out, err = run("rules")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == RULE_CODES
    assert "unused-suppression" in lines[0]
    assert "stateful-http-transport" in lines[1]
    assert "sse-transport" in lines[4]


def test_rules_json(run: Run) -> None:
    code, out, _ = run("rules", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [row["code"] for row in rows] == RULE_CODES
    for row in rows:
        assert set(row) >= {"code", "name", "summary", "severity", "fix", "languages"}
        assert row["severity"] in ("error", "warning")
        assert row["fix"] in ("always", "sometimes", "none")
        assert row["languages"] and set(row["languages"]) <= {"python", "typescript", "yaml", "nginx", "haproxy"}


@pytest.mark.parametrize("code_", [*ALL_CODES, "mcp101"])
def test_explain_prints_the_documentation(run: Run, code_: str) -> None:
    code, out, err = run("explain", code_)
    assert (code, err) == (0, "")
    assert out.startswith(f"# {code_.upper()} ")
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert headings == ["## What it does", "## Why", "## Example", "## Fix safety"]


# -- fix --------------------------------------------------------------------------------------------
@pytest.fixture
def examples(tmp_path: Path) -> Path:
    target = tmp_path / "weather-server"
    shutil.copytree(EXAMPLES, target)
    return target


def test_fix_exits_1_when_it_changed_files_then_0(run: Run, examples: Path) -> None:
    server = examples / "server.py"
    code, out, _ = run("fix", "weather-server/server.py")
    assert code == 1
    assert "Fixed 2 findings in 1 file." in out
    fixed = server.read_text(encoding="utf-8")
    assert "stateless_http=True" in fixed
    assert "session_idle_timeout" not in fixed

    code, out, _ = run("fix", "weather-server/server.py")
    assert (code, out) == (0, "All checks passed!\n")
    assert server.read_text(encoding="utf-8") == fixed


def test_plain_fix_leaves_unsafe_fixes_alone(run: Run, examples: Path) -> None:
    sse = examples / "sse_server.py"
    before = sse.read_bytes()
    code, out, _ = run("fix", "weather-server/sse_server.py")
    assert code == 1  # the finding remains
    assert sse.read_bytes() == before
    assert "MCP104" in out
    assert "--unsafe-fixes" in out


def test_unsafe_fixes_apply_the_mcp104_fix(run: Run, examples: Path) -> None:
    sse = examples / "sse_server.py"
    code, out, _ = run("fix", "--unsafe-fixes", "weather-server")
    assert code == 1
    text = sse.read_text(encoding="utf-8")
    assert 'server.run(transport="streamable-http", host="0.0.0.0", port=8081, stateless_http=True)' in text
    assert '"sse"' not in text
    compile(text, "sse_server.py", "exec")

    code, out, _ = run("fix", "--unsafe-fixes", "weather-server")
    assert (code, out) == (0, "All checks passed!\n")


def test_fix_diff_with_unsafe_fixes_shows_both_files(run: Run, examples: Path) -> None:
    before = {p: p.read_bytes() for p in examples.rglob("*") if p.is_file()}
    code, out, _ = run("fix", "--diff", "--unsafe-fixes", "--select", "MCP1", "weather-server")
    assert code == 1
    assert "+++ b/weather-server/server.py" in out
    assert "+++ b/weather-server/sse_server.py" in out
    assert "Would fix 3 findings in 2 files." in out
    assert {p: p.read_bytes() for p in examples.rglob("*") if p.is_file()} == before


def test_check_never_writes(run: Run) -> None:
    path = write("server.py", SERVER)
    mtime = path.stat().st_mtime_ns
    assert run("check", "server.py")[0] == 1
    assert path.read_text(encoding="utf-8") == SERVER
    assert path.stat().st_mtime_ns == mtime


# -- entry points -----------------------------------------------------------------------------------
def test_version_in_process(run: Run) -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert out.strip() == f"mcp-migrate {__version__} ({DISTRIBUTION}, {HOME})"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MCP_MIGRATE_DEBUG"}


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mcp_migrate", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=_env(),
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip() == f"mcp-migrate {__version__} ({DISTRIBUTION}, {HOME})"


def test_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "mcp-migrate"
    if not script.exists():
        found = shutil.which("mcp-migrate")
        if found is None:
            pytest.skip("the mcp-migrate console script is not installed")
        script = Path(found)
    write(tmp_path / "server.py", SERVER)
    done = subprocess.run(
        [str(script), "check", "--format", "json", "server.py"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=_env(),
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert [f["code"] for f in json.loads(done.stdout)["findings"]] == ["MCP101"]

    done = subprocess.run(
        [str(script), "check", "missing.py"], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=_env()
    )
    assert done.returncode == 2
    assert_one_error_line(done.stderr, "missing.py")


def test_progress_bar_on_a_long_interactive_run(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(210):
        write(f"pkg/mod_{i}.py", PLAIN if i else SERVER)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run("check", "--jobs", "1", ".")
    assert code == 1
    assert "MCP101" in out
    assert "checking" in err  # rich drew the bar on stderr
    code, out, err = run("check", "--jobs", "1", "--no-progress", ".")
    assert "checking" not in err


def test_nothing_to_check_is_said_on_stderr(workdir: Path, run: Run) -> None:
    write("notes.txt", "nothing for us\n")
    code, _, err = run("check", ".")
    assert code == 0
    assert "no files to check in ." in err
    write("server.py", "x = 1\n")
    code, _, err = run("check", ".")
    assert code == 0 and "no files to check" not in err


@pytest.mark.parametrize("unsafe", [False, True])
def test_fixed_and_remaining_add_up_to_what_check_found(run: Run, unsafe: bool, tmp_path: Path) -> None:
    """Findings another fix made go away (MCP102's hooks with MCP101's generator) count as
    fixed, in the text summary and in JSON, for `fix --diff` and `fix` alike (issue #17)."""
    work = tmp_path / "examples"
    shutil.copytree(REPO / "examples", work)
    _, out, _ = run("check", "--format", "json", str(work))
    found = json.loads(out)["summary"]["findings"]
    flags = ["--unsafe-fixes"] if unsafe else []
    _, out, _ = run("fix", "--diff", "--format", "json", *flags, str(work))
    summary = json.loads(out)["summary"]
    assert summary["fixed"] + summary["findings"] == found, summary
    _, out, _ = run("fix", *flags, str(work))
    fixed = int(re.search(r"Fixed (\d+) finding", out).group(1))  # type: ignore[union-attr]
    remaining = re.search(r"Found (\d+) finding", out)
    assert fixed + (int(remaining.group(1)) if remaining else 0) == found, out

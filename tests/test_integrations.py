"""CI-facing features: SARIF, GitHub and GitLab output, baselines, per-file-ignores,
--show-config and unused-suppression detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Run, write

from mcp_migrate.rules import all_rules

pytestmark = pytest.mark.usefixtures("workdir")

SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"
SERVER = 'from mcp.server.fastmcp import FastMCP\nmcp = FastMCP("demo")\nmcp.run(transport="streamable-http")\n'
SSE = 'from mcp.server.fastmcp import FastMCP\napp = FastMCP("alerts", max_sessions=3)\napp.run(transport="sse")\n'


def output(run: Run, *args: str) -> tuple[int, str]:
    code, out, err = run("check", *args)
    assert code in (0, 1), err
    return code, out


# -- SARIF ---------------------------------------------------------------------------------------
def sarif(run: Run, *args: str) -> dict:
    return json.loads(output(run, "--format", "sarif", *args)[1])


def test_sarif_validates_against_the_official_schema(run: Run) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    write("svc/server.py", SERVER)
    write("svc/sse.py", SSE)
    write("svc/broken.py", "def broken(:\n    FastMCP\n")
    log = sarif(run, ".")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(log, schema)
    assert log["runs"][0]["results"], "the log must hold results for the schema check to mean anything"


def test_sarif_rules_results_and_locations(run: Run) -> None:
    write("svc/server.py", SERVER)
    run_ = sarif(run, ".")["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.code for rule in all_rules()]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert "## Why" in rule["help"]["markdown"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning")
    [result] = run_["results"]
    assert result["ruleId"] == "MCP101" and rules[result["ruleIndex"]]["id"] == "MCP101"
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "svc/server.py"
    assert location["region"] == {"startLine": 2, "startColumn": 7, "endLine": 2, "endColumn": 22}
    assert result["partialFingerprints"]["mcpMigrateFinding/v1"]


def test_sarif_uri_is_repository_relative_from_a_subfolder(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q"], check=True)
    write("services/billing/server.py", SERVER)
    monkeypatch.chdir("services")
    [result] = sarif(run, "billing")["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "services/billing/server.py"


def test_fingerprints_survive_unrelated_edits(run: Run) -> None:
    path = write("server.py", SERVER)
    before = sarif(run, ".")["runs"][0]["results"][0]["partialFingerprints"]
    path.write_text('"""Docs."""\n\nimport os\n\n' + SERVER, encoding="utf-8")
    after = sarif(run, ".")["runs"][0]["results"][0]
    assert after["partialFingerprints"] == before
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    path.write_text(SERVER.replace('"demo"', '"renamed"'), encoding="utf-8")
    changed = sarif(run, ".")["runs"][0]["results"][0]["partialFingerprints"]
    assert changed != before


# -- GitHub and GitLab -------------------------------------------------------------------------------
def test_github_annotations(run: Run) -> None:
    write("server.py", SERVER)
    write("sse.py", SSE)
    code, out = output(run, "--format", "github", ".")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("::error file=server.py,line=2,endLine=2,col=7,endColumn=22,title=MCP101 ")
    assert "::MCP101 " in lines[0]
    assert any(line.startswith("::warning file=sse.py,") and "title=MCP102" in line for line in lines)
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)


def test_github_escapes_properties_and_data(run: Run) -> None:
    write("odd,name:x.py", SERVER)
    _, out = output(run, "--format", "github", ".")
    assert out.startswith("::error file=odd%2Cname%3Ax.py,")


def test_gitlab_code_quality(run: Run) -> None:
    write("server.py", SERVER)
    _, out = output(run, "--format", "gitlab", ".")
    [issue] = json.loads(out)
    assert issue["check_name"] == "MCP101"
    assert issue["severity"] == "major"
    assert issue["location"] == {"path": "server.py", "lines": {"begin": 2, "end": 2}}
    assert issue["fingerprint"] and issue["description"].startswith("MCP101 ")


# -- baselines -----------------------------------------------------------------------------------------
def test_baseline_hides_recorded_findings_only(run: Run) -> None:
    path = write("server.py", SERVER)
    code, _, err = run("check", "--write-baseline", "baseline.json", ".")
    assert code == 0 and "Recorded 1 findings" in err
    recorded = json.loads(Path("baseline.json").read_text())
    assert recorded["version"] == 1 and recorded["findings"][0]["code"] == "MCP101"

    code, out, err = run("check", "--baseline", "baseline.json", ".")
    assert code == 0 and "All checks passed!" in out and "1 findings hidden" in err

    path.write_text("# moved down\n\n" + SERVER, encoding="utf-8")  # an unrelated edit
    assert run("check", "--baseline", "baseline.json", ".")[0] == 0

    write("new.py", SSE)
    code, out, _ = run("check", "--baseline", "baseline.json", "--format", "json", ".")
    assert code == 1
    assert {f["path"] for f in json.loads(out)["findings"]} == {"new.py"}


@pytest.mark.parametrize("content", ["not json", '{"version": 7, "findings": []}', "[]"])
def test_bad_baseline_is_a_usage_error(run: Run, content: str) -> None:
    write("server.py", SERVER)
    write("baseline.json", content)
    code, _, err = run("check", "--baseline", "baseline.json", ".")
    assert code == 2
    assert err.startswith("mcp-migrate: error: --baseline baseline.json") and err.count("\n") == 1


def test_missing_baseline_is_a_usage_error(run: Run) -> None:
    code, _, err = run("check", "--baseline", "nope.json", ".")
    assert code == 2 and "nope.json" in err


# -- configuration -------------------------------------------------------------------------------------
def test_per_file_ignores(run: Run) -> None:
    write("pyproject.toml", '[tool.mcp-migrate.per-file-ignores]\n"legacy/*" = ["MCP101"]\n"*/sse.py" = ["MCP1"]\n')
    write("legacy/server.py", SERVER)
    write("svc/server.py", SERVER)
    write("svc/sse.py", SSE)
    _, out = output(run, "--format", "json", ".")
    assert [(f["path"], f["code"]) for f in json.loads(out)["findings"]] == [("svc/server.py", "MCP101")]


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ('per-file-ignores = ["x"]', "must be a table"),
        ('[tool.mcp-migrate.per-file-ignores]\n"a/*" = "MCP101"', "must be a table"),
        ('[tool.mcp-migrate.per-file-ignores]\n"a/*" = ["MCP777"]', "matches no rule"),
    ],
)
def test_bad_per_file_ignores(run: Run, table: str, fragment: str) -> None:
    body = table if table.startswith("[") else f"[tool.mcp-migrate]\n{table}"
    write("pyproject.toml", body + "\n")
    code, _, err = run("check", ".")
    assert code == 2 and fragment in err and err.count("\n") == 1


def test_show_config(run: Run) -> None:
    write(".mcp-migrate.toml", 'ignore = ["MCP103"]\nexclude = ["legacy"]\n[per-file-ignores]\n"t/*" = ["MCP1"]\n')
    code, out, _ = run("check", "--show-config", "--jobs", "3")
    assert code == 0
    assert ".mcp-migrate.toml and the command line" in out.splitlines()[0]
    assert 'ignore = ["MCP103"]' in out and 'exclude = ["legacy"]' in out and "jobs = 3" in out
    assert '"t/*" = ["MCP1"]' in out


# -- unused suppressions ---------------------------------------------------------------------------------
def test_unused_suppression_respects_selection(run: Run) -> None:
    write("server.py", SERVER.replace('"demo")', '"demo")  # mcp-migrate: ignore[MCP101, MCP104]'))
    assert [f["code"] for f in json.loads(output(run, "--format", "json", ".")[1])["findings"]] == ["MCP001"]
    # MCP104 did not run: its half of the comment cannot be judged.
    assert json.loads(output(run, "--format", "json", "--select", "MCP001,MCP101", ".")[1])["findings"] == []


def test_bare_suppression_is_judged_only_when_every_rule_runs(run: Run) -> None:
    stateless = 'from mcp.server.fastmcp import FastMCP\nx = FastMCP("x", stateless_http=True)'
    write("server.py", stateless + "  # mcp-migrate: ignore\n")
    assert [f["code"] for f in json.loads(output(run, "--format", "json", ".")[1])["findings"]] == ["MCP001"]
    assert json.loads(output(run, "--format", "json", "--ignore", "MCP104", ".")[1])["findings"] == []


def test_unused_suppression_fix(run: Run) -> None:
    path = write("server.py", SERVER.replace('"demo")', '"demo", stateless_http=True)  # mcp-migrate: ignore[MCP101]'))
    assert run("fix", ".")[0] == 1
    assert path.read_text() == SERVER.replace('"demo")', '"demo", stateless_http=True)')


def test_readme_gitlab_snippet_runs(run: Run) -> None:
    """The README's GitLab job, run here: its check command writes a Code Quality report."""
    import shlex

    import yaml

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    snippet = readme.split("### GitLab CI", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    job = yaml.safe_load(snippet)["mcp-migrate"]
    report = job["artifacts"]["reports"]["codequality"]
    [command] = [line for line in job["script"] if line.startswith("mcp-migrate ")]
    write("server.py", SERVER)
    code, _, _ = run(*shlex.split(command)[1:])
    assert code == 1
    [issue] = json.loads(Path(report).read_text())
    assert issue["check_name"] == "MCP101" and issue["location"]["path"] == "server.py"

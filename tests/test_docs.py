"""docs/rules/ is generated from the rule modules and kept in sync (issue #17), and the Markdown
report says what blocks a stateless deploy, file by file, with each rule's documentation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import Run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import rule_docs  # noqa: E402

from mcp_migrate.rules import all_rules  # noqa: E402


def test_rule_pages_are_up_to_date() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path, text in rule_docs.pages().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"run `python scripts/rule_docs.py` and commit: {stale}"
    extra = {p.name for p in rule_docs.DOCS.glob("*.md")} - {p.name for p in rule_docs.pages()}
    assert not extra, f"pages for rules that do not exist: {sorted(extra)}"


def test_every_rule_page_has_the_sections_users_look_for() -> None:
    for rule in all_rules():
        text = (rule_docs.DOCS / f"{rule.code}.md").read_text(encoding="utf-8")
        for heading in ("## What it does", "## Why", "## Options"):
            assert heading in text, (rule.code, heading)
        if rule.code != "MCP001":
            assert "## Example" in text and "## Fix safety" in text, rule.code


def test_markdown_report_summarises_by_file_and_carries_the_rule_docs(run: Run) -> None:
    examples = ROOT / "examples"
    code, out, _ = run("check", "--format", "markdown", str(examples))
    assert code == 1
    assert out.startswith("## mcp-migrate\n")
    assert "| file | blocks a stateless deploy | advisory |" in out
    assert "server.py` | MCP101 | MCP102 |" in out
    _, data, _ = run("check", "--format", "json", str(examples))
    codes = {f["code"] for f in json.loads(data)["findings"]}
    for code_ in codes:
        assert f"<summary>{code_} " in out
    assert "`mcp-migrate fix` fixes 4; `mcp-migrate fix --unsafe-fixes` 7." in out


def test_markdown_report_of_a_clean_tree(run: Run, tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("x = 1\n", encoding="utf-8")
    code, out, _ = run("check", "--format", "markdown", str(tmp_path))
    assert code == 0 and "No findings" in out

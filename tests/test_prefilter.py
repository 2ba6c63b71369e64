"""The prefilter (triggers and gates) may only skip work: every finding a rule's checker makes
on a file, with the prefilter bypassed, must also come out of a normal run.

Checked over every fixture and example we have, so narrowing a trigger to save time cannot
silently cost recall.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_migrate import engine, lang, rules
from mcp_migrate.discovery import discover
from mcp_migrate.errors import ParseError
from mcp_migrate.model import Gate
from mcp_migrate.source import as_lines, decode

ROOT = Path(__file__).parent.parent
ALL = frozenset(r.code for r in rules.all_rules()) - {engine.UNUSED_SUPPRESSION}


def _files() -> list[Path]:
    found = []
    for folder in (ROOT / "tests" / "fixtures", ROOT / "examples"):
        found.extend(p for p in sorted(folder.rglob("*")) if p.is_file() and lang.language_of(p) is not None)
    return found


FILES = _files()


def test_there_are_files_to_check() -> None:
    assert len(FILES) > 250


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_prefilter_keeps_every_rule_that_finds_something(path: Path) -> None:
    language_name = lang.language_of(path)
    assert language_name is not None
    family = lang.family(language_name)
    raw = path.read_bytes()
    try:
        parsed = lang.load(language_name).parse(decode(raw, language_name).text, "\n", path)
    except ParseError:
        return  # unparseable on purpose: nothing to find
    [source] = discover([str(path)])
    kept = {rule.code for rule in engine._active_rules(source, ALL, as_lines(raw), str(path))[0]}  # aliases too
    for rule in rules.all_rules():
        if rule.code not in ALL or family not in rule.triggers:
            continue
        found = list(rules.checker(rule.code, family)(parsed))
        if found:
            assert rule.code in kept, f"the prefilter skips {rule.code}, which finds {found[0]}"


def test_gate_literals_are_implied_by_the_sdk_gate_patterns() -> None:
    """For a gate whose literals only speed it up, a pattern match must contain a literal."""
    import re

    from mcp_migrate.sdk import PYTHON_IMPORTS_MCP, TYPESCRIPT_IMPORTS_MCP

    samples = [b"import mcp", b"from fastmcp import FastMCP", b"from mcp.server import x", b"\xef\xbb\xbfimport mcp"]
    samples += [b'from "@modelcontextprotocol/sdk/server"', b"require('agents/mcp')"]
    for gate in (PYTHON_IMPORTS_MCP, TYPESCRIPT_IMPORTS_MCP):
        assert isinstance(gate, Gate)
        for sample in samples:
            match = re.search(gate.pattern, sample)
            if match:
                assert any(literal in match.group() for literal in gate.literals), (gate, sample)

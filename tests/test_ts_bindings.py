"""Binding analysis of TypeScript files (lang/ts_bindings.py) and the engine's check that no fix
leaves a name unbound, in TypeScript and Python (issue #15: rewrites that referenced names
they deleted)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_migrate import engine, rules
from mcp_migrate.discovery import discover
from mcp_migrate.edits import apply_edits
from mcp_migrate.lang.ts_bindings import bindings, original_offset, removals, rewrite_report, unbound_after_fix
from mcp_migrate.lang.typescript import TsModule
from mcp_migrate.model import Diagnostic, Edit, Fix, FixSafety, Span


def _unbound(text: str) -> set[str]:
    module = TsModule(text)
    return {module.source(n) for n in bindings(module).unbound}


def test_scopes_hoisting_and_types() -> None:
    text = """
import { a as alias, type T } from "m";
import * as ns from "n";
import d from "d";
hoisted();
function hoisted(): T { var late = 1; if (late) { var inner = late; } return inner as unknown as T; }
class C<G> { m(x: G): ns.Thing { const { p, q: [r = alias] } = d(x); return p + r; } }
const f = (y: number) => { try { return y; } catch (e) { return e; } };
for (const k of [1]) { k; }
type Mapped<O> = { [K in keyof O]: O[K] extends Box<infer U> ? U : never };
type Fn = (arg: string) => void;
interface Box<V> { v: V }
const tuple: [key: string, value: number] = ["a", 1];
const table: { [id: string]: number } = {};
label: for (;;) { break label; }
export { f };
"""
    assert _unbound(text) == set()


def test_globals_and_missing_names_are_unbound() -> None:
    assert _unbound("console.log(process.env.X, missing);") == {"console", "process", "missing"}


def test_block_scoped_names_are_not_visible_outside_their_block() -> None:
    assert _unbound("if (x) { const inner = 1; } inner;") == {"x", "inner"}


def test_property_keys_and_members_are_not_references() -> None:
    assert _unbound("const o = { key: 1 }; o.other; const { key } = o; key;") == set()


def _report(before: str, edits: list[Edit]):  # type: ignore[no-untyped-def]
    old = TsModule(before)
    new = TsModule(apply_edits(before, edits))
    return old, rewrite_report(old, new, edits)


def test_a_rewrite_that_deletes_a_declaration_but_keeps_a_use_is_seen() -> None:
    before = "function handle() {\n  const server = make();\n  server.connect();\n}\n"
    start = before.index("  const server")
    old, report = _report(before, [Edit(start, before.index("  server.connect"))])
    assert report.unbound == [("server", 2)]
    assert unbound_after_fix(old, TsModule(apply_edits(before, [Edit(start, before.index("  server.connect"))])))


def test_freed_declarations_are_found_and_removed_with_their_comment() -> None:
    before = (
        'import { randomUUID, other } from "node:crypto";\n'
        "// every session, by id\n"
        "const sessions = new Map();\n"
        "function helper() { return sessions.size; }\n"
        "export function handle() {\n"
        "  other();\n"
        "  return helper() + randomUUID();\n"
        "}\n"
    )
    start = before.index("helper() + ")
    edits = [Edit(start, before.index(";\n}"), "1")]
    module, report = _report(before, edits)
    assert sorted(d.name for d in report.freed) == ["helper", "randomUUID"]
    extra, stuck = removals(module, report.freed)
    assert not stuck
    after = apply_edits(before, edits + extra)
    # the helper went, which frees the map: the next round takes it (the rewrite loops)
    module2, report2 = TsModule(before), rewrite_report(TsModule(before), TsModule(after), edits + extra)
    assert [d.name for d in report2.freed] == ["sessions"]
    more, stuck = removals(module2, report2.freed)
    final = apply_edits(before, edits + extra + more)
    assert final == ('import { other } from "node:crypto";\nexport function handle() {\n  other();\n  return 1;\n}\n')


def test_a_freed_value_made_by_a_call_cannot_go() -> None:
    before = "const audit = openAudit();\nexport function f() { return audit; }\n"
    start = before.index("audit; }")
    edits = [Edit(start, start + len("audit"), "1")]
    module, report = _report(before, edits)
    _, stuck = removals(module, report.freed)
    assert [d.name for d in stuck] == ["audit"]


def test_original_offset_maps_around_edits() -> None:
    edits = [Edit(2, 4, "xyz"), Edit(10, 10, "++")]
    assert original_offset(1, edits) == 1
    assert original_offset(3, edits) is None  # written by the edit
    assert original_offset(5, edits) == 4
    assert original_offset(12, edits) is None
    assert original_offset(13, edits) == 10


# -- the engine refuses any fix that leaves a name unbound ---------------------------------------
@pytest.fixture
def broken_rule(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """MCP101's checkers replaced by ones whose fix deletes the first line (an import)."""

    def breaking(module):  # type: ignore[no-untyped-def]
        first = module.text.index("\n") + 1
        yield Diagnostic("MCP101", Span(1, 1, 1, 2), "test", Fix(FixSafety.SAFE, "delete", (Edit(0, first),)))

    rules.checker.cache_clear()
    real = rules.checker

    def patched(code: str, language: str):  # type: ignore[no-untyped-def]
        return breaking if code == "MCP101" else real(code, language)

    monkeypatch.setattr(rules, "checker", patched)
    yield
    real.cache_clear()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "server.ts",
            'import { randomUUID } from "node:crypto";\nexport const id = randomUUID(); // sessionIdGenerator\n',
        ),
        ("server.py", "import os\nfrom mcp.server.fastmcp import FastMCP\nprint(os.getcwd(), FastMCP)\n"),
    ],
)
def test_engine_refuses_a_fix_that_leaves_a_name_unbound(
    broken_rule: None, tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    [source] = discover([str(path)])
    result = engine.process(source, engine.Job(frozenset({"MCP101"}), engine.Mode.FIX, False))
    assert path.read_text(encoding="utf-8") == text
    assert result.errors and "no longer" in result.errors[0].message, result.errors

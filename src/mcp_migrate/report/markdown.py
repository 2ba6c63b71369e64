"""A Markdown report for people: what blocks a stateless deploy, file by file, and what each rule
means. Written for a pull request comment or a GitHub job summary (`$GITHUB_STEP_SUMMARY`),
where links to files of this project would not resolve: each rule's documentation comes along
in a collapsed section instead (the same text as `docs/rules/` and `mcp-migrate explain`)."""

from __future__ import annotations

from collections import Counter

from ..model import FileResult, Finding, FixSafety, Severity
from ..rules import get_rule
from . import Summary

_MAX_FILES = 50
_MAX_FINDINGS = 200


def render(results: list[FileResult], findings: list[Finding], mode: str, unsafe_fixes: bool) -> str:
    summary = Summary.of(results, findings)
    lines = ["## mcp-migrate", ""]
    blocking = [f for f in findings if f.severity is Severity.ERROR]
    if not findings and not summary.errors:
        lines += ["No findings: nothing pins this code to one replica.", ""]
    else:
        lines.append(
            f"**{len(blocking)}** finding{'s' * (len(blocking) != 1)} block a stateless deploy, "
            f"**{len(findings) - len(blocking)}** advisory, in {len({f.path for f in findings})} file(s) "
            f"of {summary.files} checked."
        )
        if summary.fixable_safe or summary.fixable_unsafe:
            lines.append(
                f"`mcp-migrate fix` fixes {summary.fixable_safe}; "
                f"`mcp-migrate fix --unsafe-fixes` {summary.fixable_safe + summary.fixable_unsafe}."
            )
        if mode != "check" and summary.fixed:
            verb = "Fixed" if mode == "fix" else "Would fix"
            lines.append(f"{verb} {summary.fixed} finding(s) in {summary.changed_files} file(s).")
        lines.append("")
    lines += _by_file(findings)
    lines += _findings(findings, unsafe_fixes)
    lines += _errors(results)
    lines += _rules(findings)
    return "\n".join(lines).rstrip("\n") + "\n"


def _cell(text: str) -> str:
    """Text safe inside a table cell and on one line."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")


def _by_file(findings: list[Finding]) -> list[str]:
    by_file: dict[str, dict[Severity, Counter[str]]] = {}
    for finding in findings:
        by_file.setdefault(finding.path, {}).setdefault(finding.severity, Counter())[finding.code] += 1
    if not by_file:
        return []
    lines = ["### Migration summary", "", "| file | blocks a stateless deploy | advisory |", "|---|---|---|"]
    for path, counts in list(by_file.items())[:_MAX_FILES]:
        cells = []
        for severity in (Severity.ERROR, Severity.WARNING):
            codes = counts.get(severity, Counter())
            cells.append(", ".join(f"{code} x{n}" if n > 1 else code for code, n in sorted(codes.items())) or "-")
        lines.append(f"| `{_cell(path)}` | {cells[0]} | {cells[1]} |")
    if len(by_file) > _MAX_FILES:
        lines.append(f"| ... and {len(by_file) - _MAX_FILES} more file(s) | | |")
    by_rule = Counter(f.code for f in findings)
    lines += ["", "By rule: " + ", ".join(f"{code} {n}" for code, n in sorted(by_rule.items())), ""]
    return lines


def _findings(findings: list[Finding], unsafe_fixes: bool) -> list[str]:
    if not findings:
        return []
    lines = ["<details><summary>Every finding</summary>", "", "| where | rule | fix | message |", "|---|---|---|---|"]
    for finding in findings[:_MAX_FINDINGS]:
        fix = "-"
        if finding.fix is not None:
            fix = "safe" if finding.fix.safety is FixSafety.SAFE else "unsafe"
        where = f"`{_cell(finding.path)}:{finding.span.line}`"
        lines.append(f"| {where} | {finding.code} | {fix} | {_cell(finding.message)} |")
    if len(findings) > _MAX_FINDINGS:
        lines.append(f"| ... and {len(findings) - _MAX_FINDINGS} more | | | |")
    lines += ["", "</details>", ""]
    return lines


def _errors(results: list[FileResult]) -> list[str]:
    errors = [e for r in results for e in r.errors]
    if not errors:
        return []
    lines = ["### Files not fully processed", ""]
    for error in errors:
        label = "warning" if error.warning else "error"
        lines.append(f"- `{_cell(error.path)}` ({label}): {_cell(error.message)}")
    return [*lines, ""]


def _rules(findings: list[Finding]) -> list[str]:
    codes = sorted({f.code for f in findings})
    if not codes:
        return []
    lines = ["### The rules", ""]
    for code in codes:
        rule = get_rule(code)
        lines += [
            f"<details><summary>{code} {rule.name}: {rule.summary}</summary>",
            "",
            rule.docs.strip(),
            "",
            "</details>",
            "",
        ]
    return lines

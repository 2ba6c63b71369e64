"""The default, ruff-like report: `path:line:col: CODE [*] message`, then a summary."""

from __future__ import annotations

import re
from collections import Counter

from ..model import FileResult, Finding, FixSafety, Severity
from . import Summary

_RESET = "\033[0m"
_STYLES = {"path": "\033[1m", "code": "\033[1;31m", "warn": "\033[1;33m", "fix": "\033[36m", "ok": "\033[32m"}


class Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.color else text


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Control characters shown escaped: a file named `a\n::error::x.py` must not start a
    line of its own (a GitHub Actions workflow command) or move the terminal's cursor."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def render(results: list[FileResult], findings: list[Finding], mode: str, unsafe_fixes: bool, color: bool) -> str:
    paint = Painter(color)
    lines: list[str] = []
    if mode == "diff":
        lines.extend(r.diff.rstrip("\n") for r in results if r.diff)
    for finding in findings if mode != "diff" else ():  # a diff's findings point into unwritten text
        marker = ""
        if finding.fix is not None and (finding.fix.safety is FixSafety.SAFE or unsafe_fixes):
            marker = paint("fix", "[*]") + " "
        code_style = "code" if finding.severity is Severity.ERROR else "warn"
        location = paint("path", f"{printable(finding.path)}:{finding.span.line}:{finding.span.column}:")
        lines.append(f"{location} {paint(code_style, finding.code)} {marker}{printable(finding.message)}")
    for result in results:
        for error in result.errors:
            label = paint("warn", "warning:") if error.warning else paint("code", "error:")
            lines.append(f"{paint('path', printable(error.path) + ':')} {label} {printable(error.message)}")
    if mode != "diff":
        lines.extend(_migration(findings, paint))
    lines.extend(_summary(Summary.of(results, findings), mode, unsafe_fixes, paint))
    return "\n".join(lines) + "\n"


_MAX_SUMMARY_FILES = 20


def _migration(findings: list[Finding], paint: Painter) -> list[str]:
    """Per file: what keeps it from a stateless deploy (errors) and what is only advisory."""
    by_file: dict[str, dict[Severity, Counter[str]]] = {}
    for finding in findings:
        by_file.setdefault(finding.path, {}).setdefault(finding.severity, Counter())[finding.code] += 1
    if not by_file:
        return []
    out = ["", "Migration summary:"]
    for path, counts in list(by_file.items())[:_MAX_SUMMARY_FILES]:
        parts = []
        for severity, label, style in (
            (Severity.ERROR, "blocks a stateless deploy", "code"),
            (Severity.WARNING, "advisory", "warn"),
        ):
            codes = counts.get(severity)
            if codes:
                listed = ", ".join(f"{code} x{n}" if n > 1 else code for code, n in sorted(codes.items()))
                parts.append(f"{paint(style, label)}: {listed}")
        out.append(f"  {paint('path', printable(path))}: {'; '.join(parts)}")
    if len(by_file) > _MAX_SUMMARY_FILES:
        out.append(f"  ... and {_plural(len(by_file) - _MAX_SUMMARY_FILES, 'more file')}")
    out.append("")
    return out


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _summary(summary: Summary, mode: str, unsafe_fixes: bool, paint: Painter) -> list[str]:
    out: list[str] = []
    if mode == "fix" and summary.fixed:
        out.append(f"Fixed {_plural(summary.fixed, 'finding')} in {_plural(summary.changed_files, 'file')}.")
    elif mode == "diff" and summary.fixed:
        out.append(f"Would fix {_plural(summary.fixed, 'finding')} in {_plural(summary.changed_files, 'file')}.")
    if summary.findings:
        found = f"Found {_plural(summary.findings, 'finding')}"
        out.append(found + (" remaining." if mode != "check" else "."))
        if mode == "check" and summary.fixable_safe:
            out.append(paint("fix", "[*]") + f" {summary.fixable_safe} fixable with `mcp-migrate fix`.")
        if summary.fixable_unsafe and not unsafe_fixes:
            more = _plural(summary.fixable_unsafe, "more fix", "more fixes")
            out.append(f"{more} available with `mcp-migrate fix --unsafe-fixes`.")
    elif not summary.errors and not summary.fixed:
        out.append(paint("ok", "All checks passed!"))
    if summary.errors:
        out.append(paint("code", f"{_plural(summary.errors, 'file')} could not be processed (see errors above)."))
    return out

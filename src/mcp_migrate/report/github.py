"""`--format github`: workflow commands that GitHub Actions shows as annotations on the diff."""

from __future__ import annotations

from ..model import FileResult, Finding, Severity
from ..rules import get_rule


def render(results: list[FileResult], findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        level = "error" if f.severity is Severity.ERROR else "warning"
        properties = (
            f"file={_property(f.path)},line={f.span.line},endLine={f.span.end_line},"
            f"col={f.span.column},endColumn={f.span.end_column},"
            f"title={_property(f'{f.code} {get_rule(f.code).name}')}"
        )
        lines.append(f"::{level} {properties}::{_data(f'{f.code} {f.message}')}")
    for result in results:
        for error in result.errors:
            level = "warning" if error.warning else "error"
            lines.append(f"::{level} file={_property(error.path)},title=mcp-migrate::{_data(error.message)}")
    return "".join(line + "\n" for line in lines)


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")

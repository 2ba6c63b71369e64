"""`--format json`: one object, `{"version": 1, "findings": [...], "summary": {...}}`.

Later versions add keys; they never remove or rename one.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import FileResult, Finding, Span
from ..rules import get_rule
from . import Summary


def render(results: list[FileResult], findings: list[Finding], mode: str, unsafe_fixes: bool) -> str:
    summary = Summary.of(results, findings)
    document = {
        "version": 1,
        "findings": [_finding(f, unsafe_fixes) for f in findings],
        "errors": [
            {"path": e.path, "message": e.message, "level": "warning" if e.warning else "error"}
            for r in results
            for e in r.errors
        ],
        "summary": {
            "mode": mode,
            "files_checked": summary.files,
            "findings": summary.findings,
            "fixable": summary.fixable_safe,
            "fixable_with_unsafe": summary.fixable_unsafe,
            "fixed": summary.fixed,
            "changed_files": summary.changed_files,
            "errors": summary.errors,
            "by_code": _by_code(findings),
        },
    }
    return json.dumps(document, indent=2) + "\n"


def _finding(finding: Finding, unsafe_fixes: bool) -> dict[str, Any]:
    fix = None
    if finding.fix is not None:
        fix = {
            "safety": finding.fix.safety.value,
            "applicable": finding.fix.safety.value == "safe" or unsafe_fixes,
            "description": finding.fix.description,
            "edits": [{**_span(span), "content": content} for span, content in finding.edits],
        }
    rule = get_rule(finding.code)
    return {
        "code": finding.code,
        "name": rule.name,
        "path": finding.path,
        **_span(finding.span),
        "severity": finding.severity.value,
        "message": finding.message,
        "fix": fix,
    }


def _span(span: Span) -> dict[str, int]:
    return {"line": span.line, "column": span.column, "end_line": span.end_line, "end_column": span.end_column}


def _by_code(findings: list[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    return dict(sorted(counts.items()))

"""Rendering a verify report: text for people, JSON for pipelines."""

from __future__ import annotations

import json

from ..report.text import printable
from . import Report

_MARK = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}


def text(report: Report) -> str:
    lines = [f"verify {', '.join(report.urls)}"]
    for url, reason in report.unreachable.items():
        lines.append(f"  UNREACHABLE {printable(url)}: {printable(reason)}")
    width = max((len(c.name) for c in report.checks), default=0)
    for check in report.checks:
        lines.append(f"  {_MARK[check.status]} {check.name.ljust(width)}  {printable(check.evidence)}")
    failed = [c for c in report.checks if c.status == "fail"]
    if report.unreachable:
        lines.append("Result: UNREACHABLE")
    elif failed:
        lines.append(
            f"Result: FAIL ({len(failed)} of {len(report.checks)} checks failed: {', '.join(c.name for c in failed)})"
        )
    else:
        passed = sum(c.status == "pass" for c in report.checks)
        skipped = sum(c.status == "skip" for c in report.checks)
        lines.append(f"Result: PASS ({passed} passed, {skipped} skipped)")
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    result = "unreachable" if report.unreachable else ("pass" if report.passed else "fail")
    return (
        json.dumps(
            {
                "version": 1,
                "urls": report.urls,
                "result": result,
                "unreachable": report.unreachable,
                "checks": [{"name": c.name, "status": c.status, "evidence": c.evidence} for c in report.checks],
            },
            indent=2,
        )
        + "\n"
    )

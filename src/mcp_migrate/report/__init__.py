"""Reporters: turn a run's results into text or JSON."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import FileResult, Finding, FixSafety


@dataclass(frozen=True)
class Summary:
    files: int
    findings: int
    fixable_safe: int
    fixable_unsafe: int
    fixed: int
    errors: int
    changed_files: int

    @classmethod
    def of(cls, results: list[FileResult], findings: list[Finding]) -> Summary:
        return cls(
            files=len(results),
            findings=len(findings),
            fixable_safe=sum(1 for f in findings if f.fix and f.fix.safety is FixSafety.SAFE),
            fixable_unsafe=sum(1 for f in findings if f.fix and f.fix.safety is FixSafety.UNSAFE),
            fixed=sum(r.fixed for r in results),
            errors=sum(1 for r in results for e in r.errors if not e.warning),
            changed_files=sum(1 for r in results if r.diff),
        )

"""`--format gitlab`: a GitLab Code Quality report (the `codequality` artifact)."""

from __future__ import annotations

import json

from ..fingerprint import fingerprints, repo_path
from ..model import FileResult, Finding, Severity

_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor"}


def render(results: list[FileResult], findings: list[Finding]) -> str:
    issues = [
        {
            "type": "issue",
            "check_name": f.code,
            "description": f"{f.code} {f.message}",
            "categories": ["Bug Risk"],
            "severity": _SEVERITY[f.severity],
            "fingerprint": fp,
            "location": {"path": repo_path(f.path), "lines": {"begin": f.span.line, "end": f.span.end_line}},
        }
        for f, fp in zip(findings, fingerprints(findings), strict=True)
    ]
    return json.dumps(issues, indent=2) + "\n"

"""Baselines: adopt the tool on a large repository by recording today's findings and reporting
only new ones (`check --write-baseline FILE`, then `check --baseline FILE`)."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import UsageError
from .fingerprint import fingerprints, repo_path
from .model import Finding

VERSION = 1


def write(path: str, findings: list[Finding]) -> None:
    entries = [
        {"fingerprint": fp, "code": f.code, "path": repo_path(f.path), "line": f.span.line, "message": f.message}
        for f, fp in zip(findings, fingerprints(findings), strict=True)
    ]
    document = {"version": VERSION, "tool": "mcp-migrate", "findings": entries}
    try:
        Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--write-baseline {path}: {exc.strerror or exc}") from None


def load(path: str) -> frozenset[str]:
    """The fingerprints a baseline file records; every problem is one clear UsageError."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--baseline {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--baseline {path}: not a baseline file (invalid JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise UsageError(f"--baseline {path}: not a version {VERSION} mcp-migrate baseline (see --write-baseline)")
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise UsageError(f"--baseline {path}: not a version {VERSION} mcp-migrate baseline (see --write-baseline)")
    return frozenset(e["fingerprint"] for e in entries if isinstance(e, dict) and isinstance(e.get("fingerprint"), str))


def new_findings(findings: list[Finding], known: frozenset[str]) -> list[Finding]:
    return [f for f, fp in zip(findings, fingerprints(findings), strict=True) if fp not in known]

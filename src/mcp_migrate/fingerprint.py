"""Stable identities for findings, shared by baselines and SARIF `partialFingerprints`.

A fingerprint is made of the rule code, the repository-relative path and the text of the
finding's first line with white space folded, plus its occurrence number among identical
ones. Line numbers are left out on purpose: an edit elsewhere in the file moves a finding
without changing what it is, and must not make it look new.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from functools import cache
from pathlib import Path

from .model import Finding


def repo_root() -> Path:
    """The git work tree's top folder, or the working directory outside one."""
    return _repo_root(Path.cwd().resolve())


@cache
def _repo_root(cwd: Path) -> Path:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
        )
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip()).resolve()
    except (OSError, subprocess.SubprocessError):
        pass
    return cwd


def repo_path(path: str) -> str:
    """A finding's path relative to the repository root, with forward slashes."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(repo_root()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def fingerprints(findings: list[Finding]) -> list[str]:
    """One fingerprint per finding, in the same order."""
    seen: dict[str, int] = {}
    result = []
    for finding in findings:
        basis = "\0".join((finding.code, repo_path(finding.path), re.sub(r"\s+", " ", finding.source_line)))
        digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:20]
        seen[digest] = seen.get(digest, 0) + 1
        result.append(f"{digest}:{seen[digest]}")
    return result

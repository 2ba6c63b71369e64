"""Designed expectations in fixtures: a line that should be reported ends in `# expect: MCP201`
(Python, YAML) or `// expect: MCP201, MCP203` (TS/JS), written when the case was designed.
Matching them against the reviewed snapshots measures precision and recall instead of assuming it."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

_MARKER = re.compile(r"(?:#|//)\s*expect:\s*(.+)$")

Sites = Counter[tuple[int, str]]


def expected(case: Path) -> Sites:
    """(line, code) of every designed expectation in the case's input file."""
    found: Sites = Counter()
    source = next(case.glob("input.*"))
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        marker = _MARKER.search(line)
        if marker:
            found.update((number, code.strip()) for code in marker.group(1).split(","))
    return found


def reported(case: Path, codes: tuple[str, ...]) -> Sites:
    """(line, code) of the snapshot's findings of `codes`."""
    found: Sites = Counter()
    for line in (case / "findings.txt").read_text(encoding="utf-8").splitlines():
        position, code = line.split()
        if code in codes:
            found[(int(position.split(":")[0]), code)] += 1
    return found


def score(cases: list[Path], codes: tuple[str, ...]) -> tuple[int, int, int]:
    """(true positives, false positives, misses) over the cases."""
    true_positives = false_positives = misses = 0
    for case in cases:
        want, got = expected(case), reported(case, codes)
        true_positives += sum((want & got).values())
        false_positives += sum((got - want).values())
        misses += sum((want - got).values())
    return true_positives, false_positives, misses

"""A short seeded slice of the mutation fuzzer (scripts/fuzz.py; issue #18): no internal error,
a file the reference parser rejects left alone, every written file accepted, a second fix a
no-op, nothing changed outside the fixes' ranges. The long run is `python scripts/fuzz.py
--mutants 10000`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import fuzz


@pytest.mark.parametrize("seed", [11, 12])
def test_a_seeded_slice_of_mutants_holds(seed: int) -> None:
    counts, failures = fuzz.run(seed, 250)
    assert sum(counts.values()) == 250
    assert {kind for kind, _ in counts} == set(fuzz.MUTATIONS)
    assert not failures, "\n".join(f"{source} [{kind}]: {problem}" for source, kind, problem in failures)


def test_the_reference_parsers_say_no_to_what_they_should() -> None:
    assert not fuzz.accepted(Path("a.py"), b"x = (\n")
    assert not fuzz.accepted(Path("a.py"), b"x = 1  # \x00\n")
    assert fuzz.accepted(Path("a.py"), b"x = 1\n")
    assert not fuzz.accepted(Path("a.yaml"), b"a: [unclosed\n")
    assert not fuzz.accepted(Path("a.ts"), b"const x = ;\n")
    assert fuzz.accepted(Path("a.ts"), b"const x = 1;\n")


def test_the_outside_the_fixes_check_sees_what_it_should() -> None:
    before = b"x = 1\r\ny = f(a)\r\nz = 3\r\n"
    after = b"x = 1\r\ny = f(a, b=True)\r\nz = 3\r\n"
    start = before.index(b")")  # the fix inserted before the closing parenthesis
    assert fuzz._changed_outside(Path("a.py"), before, after, ((start, start),)) is None
    assert fuzz._changed_outside(Path("a.py"), before, after, ()) is not None  # a change nobody made
    crlf_lost = after.replace(b"\r\n", b"\n")
    assert fuzz._changed_outside(Path("a.py"), before, crlf_lost, ((start, start),)) is not None
    bom_added = b"\xef\xbb\xbf" + after
    assert "encoding" in (fuzz._changed_outside(Path("a.ts"), before, bom_added, ((start, start),)) or "")


def test_fixed_ranges_map_later_passes_back_to_the_file_as_read() -> None:
    from mcp_migrate.edits import apply_edits, original_ranges
    from mcp_migrate.model import Edit

    text = "aaaa BBBB cccc DDDD eeee"
    first = [Edit(5, 9, "X"), Edit(15, 19, "YYYYYY")]
    middle = apply_edits(text, first)
    second = [Edit(middle.index("eeee"), middle.index("eeee") + 4, "E"), Edit(0, 0, "+")]
    assert original_ranges([first, second]) == [(0, 0), (5, 9), (15, 19), (20, 24)]
    inside = [Edit(middle.index("X"), middle.index("X") + 1, "Z")]  # rewrites a replacement again
    assert original_ranges([first, inside]) == [(5, 9), (5, 9), (15, 19)]

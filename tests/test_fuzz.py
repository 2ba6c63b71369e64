"""A short seeded slice of the mutation fuzzer (scripts/fuzz.py; issue #18): no internal error,
a file the reference parser rejects left alone, every written file accepted, a second fix a
no-op. The long run is `python scripts/fuzz.py --mutants 10000`."""

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

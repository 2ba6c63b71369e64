"""A seeded mutation fuzzer over every fixture and example (issue #18).

Each mutant is a fixture or example file changed by one mutation (byte flips, inserted
control and line-break characters, deep brackets, deleted, duplicated or swapped lines, a
splice of two files, a truncation), written to a scratch folder and run through `fix
--unsafe-fixes` in process, twice. Asserted for every mutant:

- no internal error and no exception out of the engine;
- a file the language's reference rejects (CPython, PyYAML, tree-sitter) is left byte-identical;
- whatever was written is accepted by the reference parser;
- a second `fix` changes nothing.

`python scripts/fuzz.py --mutants 10000` is the long run (its summary goes in the README);
`tests/test_fuzz.py` runs a short seeded slice in CI.
"""

from __future__ import annotations

import argparse
import ast
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mcp_migrate import engine  # noqa: E402
from mcp_migrate.discovery import discover  # noqa: E402
from mcp_migrate.lang import language_of  # noqa: E402
from mcp_migrate.rules import all_rules  # noqa: E402
from mcp_migrate.source import decode  # noqa: E402

SUFFIXES = (".py", ".ts", ".mts", ".js", ".mjs", ".yaml", ".yml")
CODES = tuple(r.code for r in all_rules())


def corpus() -> list[Path]:
    """Every fixture input and expected file and every example file the tool checks."""
    found = [p for p in (ROOT / "tests" / "fixtures").rglob("*") if p.suffix in SUFFIXES and p.is_file()]
    found += [p for p in (ROOT / "examples").rglob("*") if p.suffix in SUFFIXES and p.is_file()]
    return sorted(found)


# -- mutations --------------------------------------------------------------------------------
Mutation = Callable[[random.Random, str, str], str]  # (rng, text, another file's text) -> mutant

_ODD = ["\x00", "\r", "\u2028", "\u0085", "\ufeff", "\t", "\\", '"', "'", "{{", "}}", "#", ":", "-", "*", "&a", "*a"]


def _flip(rng: random.Random, text: str, other: str) -> str:
    if not text:
        return text
    i = rng.randrange(len(text))
    return text[:i] + chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x800)])) + text[i + 1 :]


def _insert_odd(rng: random.Random, text: str, other: str) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(_ODD) + text[i:]


def _deep(rng: random.Random, text: str, other: str) -> str:
    i = rng.randrange(len(text) + 1)
    depth = rng.choice([50, 300, 1500])
    opener = rng.choice("([{")
    closer = {"(": ")", "[": "]", "{": "}"}[opener]
    return text[:i] + opener * depth + closer * depth + text[i:]


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True) or [""]


def _delete_line(rng: random.Random, text: str, other: str) -> str:
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "".join(lines)


def _duplicate_line(rng: random.Random, text: str, other: str) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return "".join(lines)


def _swap_lines(rng: random.Random, text: str, other: str) -> str:
    lines = _lines(text)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


def _splice(rng: random.Random, text: str, other: str) -> str:
    a, b = _lines(text), _lines(other)
    i, j = rng.randrange(len(a) + 1), rng.randrange(len(b) + 1)
    return "".join(a[:i] + b[j : j + rng.randint(1, 8)] + a[i:])


def _truncate(rng: random.Random, text: str, other: str) -> str:
    return text[: rng.randrange(len(text) + 1)]


def _line_endings(rng: random.Random, text: str, other: str) -> str:
    return text.replace("\n", rng.choice(["\r\n", "\r", "\n\n"]))


MUTATIONS: dict[str, Mutation] = {
    "flip": _flip,
    "odd-char": _insert_odd,
    "deep": _deep,
    "delete-line": _delete_line,
    "duplicate-line": _duplicate_line,
    "swap-lines": _swap_lines,
    "splice": _splice,
    "truncate": _truncate,
    "line-endings": _line_endings,
}


# -- the reference parsers --------------------------------------------------------------------
def accepted(path: Path, data: bytes) -> bool:
    """Does the language's own reference accept these bytes?"""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if path.suffix == ".py":
        try:
            ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
        return True
    if path.suffix in (".yaml", ".yml"):
        from mcp_migrate.lang.yaml import YamlFile

        try:
            return YamlFile(text).valid
        except Exception:
            return False
    from mcp_migrate.lang.typescript import TsModule, dialect_of

    try:
        TsModule(text, dialect=dialect_of(path))
    except Exception:
        return False
    return True


# -- one mutant -------------------------------------------------------------------------------
@dataclass
class Outcome:
    kind: str
    language: str
    problems: list[str] = field(default_factory=list)


def _fix(path: Path) -> engine.FileResult:
    [source] = discover([str(path)])
    return engine.process(source, engine.Job(CODES, engine.Mode.FIX, unsafe_fixes=True, max_seconds=20))


def check_mutant(folder: Path, name: str, data: bytes, kind: str) -> Outcome:
    path = folder / name
    path.write_bytes(data)
    outcome = Outcome(kind, path.suffix.lstrip("."))
    before_ok = accepted(path, data)
    try:
        first = _fix(path)
        after = path.read_bytes()
        second = _fix(path)
    except BaseException as exc:
        outcome.problems.append(f"exception: {type(exc).__name__}: {exc}")
        return outcome
    for result in (first, second):
        for error in result.errors:
            if error.message.startswith("internal error") and "a fix broke the code" not in error.message:
                outcome.problems.append(error.message)
    if not before_ok and after != data:
        outcome.problems.append("a file the reference rejects was rewritten")
    if after != data and not accepted(path, after):
        outcome.problems.append("the written file is rejected by the reference parser")
    if path.read_bytes() != after:
        outcome.problems.append("a second fix changed the file again")
    outside = _changed_outside(path, data, after, first.fixed_ranges)
    if outside is not None:
        outcome.problems.append(outside)
    return outcome


def _changed_outside(path: Path, before: bytes, after: bytes, ranges: tuple[tuple[int, int], ...]) -> str | None:
    """What changed outside the ranges the applied fixes replaced (the engine maps every pass
    back to the file as read): an encoding, BOM or line-ending slip, or an edit nobody made."""
    if before == after:
        return None
    language = language_of(path) or ""
    old, new = decode(before, language), decode(after, language)
    if (old.encoding, old.cr_only) != (new.encoding, new.cr_only):
        return f"the encoding or line endings changed ({old.encoding}, {old.cr_only} -> {new.encoding}, {new.cr_only})"
    gaps, cursor = [], 0
    for start, end in ranges:
        gaps.append(old.text[cursor:start])
        cursor = max(cursor, end)
    gaps.append(old.text[cursor:])
    position = len(gaps[0]) if new.text.startswith(gaps[0]) else -1
    for gap in gaps[1:-1]:
        found = new.text.find(gap, position) if position >= 0 else -1
        position = found + len(gap) if found >= 0 else -1
    if position < 0 or not new.text.endswith(gaps[-1]) or len(new.text) - len(gaps[-1]) < position:
        return f"text outside the fixes' ranges changed ({len(ranges)} ranges)"
    return None


def mutants(seed: int, count: int) -> Iterator[tuple[str, bytes, str, Path]]:
    rng = random.Random(seed)
    files = corpus()
    texts = {p: p.read_text(encoding="utf-8", errors="surrogateescape") for p in files}
    kinds = sorted(MUTATIONS)
    for _ in range(count):
        source = rng.choice(files)
        kind = rng.choice(kinds)
        other = texts[rng.choice(files)]
        text = MUTATIONS[kind](rng, texts[source], other)
        name = "input" + source.suffix if source.stem.startswith(("input", "expected")) else source.name
        yield name, text.encode("utf-8", errors="surrogateescape"), kind, source


def run(seed: int, count: int) -> tuple[Counter[tuple[str, str]], list[tuple[Path, str, str]]]:
    """(mutants per kind and language, failures as (source, kind, problem))."""
    counts: Counter[tuple[str, str]] = Counter()
    failures: list[tuple[Path, str, str]] = []
    scratch = Path(tempfile.mkdtemp(prefix="mcp-migrate-fuzz-"))
    try:
        for index, (name, data, kind, source) in enumerate(mutants(seed, count)):
            folder = scratch / str(index)
            folder.mkdir()
            outcome = check_mutant(folder, name, data, kind)
            counts[(kind, outcome.language)] += 1
            failures.extend((source, kind, problem) for problem in outcome.problems)
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return counts, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.monotonic()
    counts, failures = run(args.seed, args.mutants)
    print(f"{sum(counts.values())} mutants (seed {args.seed}) in {time.monotonic() - started:.0f} s")
    by_kind = Counter(kind for kind, _ in counts.elements())
    by_language = Counter(language for _, language in counts.elements())
    print("by mutation:", ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())))
    print("by language:", ", ".join(f"{k} {v}" for k, v in sorted(by_language.items())))
    for source, kind, problem in failures:
        print(f"FAIL {source.relative_to(ROOT)} [{kind}]: {problem}")
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

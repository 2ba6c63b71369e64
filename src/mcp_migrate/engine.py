"""discover -> prefilter -> parse -> rules -> fixes -> re-parse -> atomic write.

Every file is handled on its own, so a file that cannot be read, decoded, parsed or written
is reported once and the run goes on. Fixes are applied ruff-style: the non-overlapping
ones in one pass, then the result is parsed and checked again, until nothing more applies.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any

from . import lang, rules
from .discovery import SourcePath, matches_glob
from .edits import (
    EditConflict,
    apply_edits,
    atomic_write,
    is_read_only,
    original_ranges,
    select_compatible,
    unified_diff,
)
from .errors import ParseError
from .model import Diagnostic, Edit, FileError, FileResult, Finding, Fix, FixSafety, Gate, Rule, Severity, Span
from .source import LineIndex, SourceText, as_lines, decode

if TYPE_CHECKING:
    from .cache import Cache

MAX_FIX_PASSES = 25  # YAML fixes in one document apply one per pass
PARALLEL_MIN_FILES = 64  # below this a process pool costs more than it saves


class Mode(str, Enum):
    CHECK = "check"
    FIX = "fix"
    DIFF = "diff"  # compute fixes, print the diff, write nothing


@dataclass(frozen=True)
class Job:
    codes: tuple[str, ...]
    mode: Mode = Mode.CHECK
    unsafe_fixes: bool = False
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (glob, selectors)
    fix_tests: bool = False  # test code's findings are advisory and never fixed unless asked
    max_bytes: int = 10_000_000  # a bigger file is skipped, by name
    max_seconds: float = 30.0  # a file whose analysis takes longer is skipped, by name


UNUSED_SUPPRESSION = "MCP001"  # computed here, from what the other rules reported


def _selected(job: Job, source: SourcePath) -> frozenset[str]:
    """The job's rules minus those a per-file-ignores glob turns off for this file."""
    if not job.per_file_ignores:
        return _all_of(job.codes)
    ignored = [
        sel for glob, selectors in job.per_file_ignores if matches_glob(source.display, glob) for sel in selectors
    ]
    return frozenset(code for code in job.codes if not rules.matches_any(code, ignored))


@cache
def _all_of(codes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(codes)


@cache
def _rules(codes: frozenset[str]) -> tuple[Rule, ...]:
    return tuple(rules.get_rule(code) for code in sorted(codes))


@dataclass(frozen=True)
class _Candidate:
    rule: Rule
    literals: tuple[bytes, ...]  # triggers that are plain strings
    combined: tuple[Gate, ...]  # triggers that need a literal and a pattern
    gate: Gate | None


@cache
def _candidates(codes: frozenset[str], language: str) -> tuple[_Candidate, ...]:
    """The rules that check `language`, with their triggers and gate."""
    found = []
    for rule in _rules(codes):
        triggers = rule.triggers.get(language)
        if triggers is not None:
            literals = tuple(t for t in triggers if isinstance(t, bytes))
            combined = tuple(t for t in triggers if isinstance(t, Gate))
            found.append(_Candidate(rule, literals, combined, rule.gates.get(language)))
    return tuple(found)


def _prefilter(
    codes: frozenset[str],
    language: str,
    raw: bytes,
    forced: bool = False,
    aliased: Callable[[Gate], bool] | None = None,
) -> list[Rule]:
    """The rules whose gate (if any) passes and one of whose triggers is in the file.

    A gate with literals goes first: the SDK-import gate is shared by most rules of a language,
    is judged once per file, and fails for nearly every file, sparing their trigger scans. A
    gate that is only a pattern goes after the triggers. Each trigger is looked for once per
    file, however many rules share it. A file the index phase names (`forced`: it holds the
    other half of something a server module does) also goes to the rules that follow servers
    across modules. `aliased` answers for an import gate the file fails as written whether it
    imports the gate's packages through its project's aliases (asked only when a trigger is in
    the file: it reads configuration)."""
    passed: dict[Gate, bool] = {}
    present: dict[bytes, bool] = {}
    active = []
    for candidate in _candidates(codes, language):
        if forced and candidate.rule.follows_project:
            active.append(candidate.rule)
            continue
        gate = candidate.gate
        if gate is not None and gate.literals and not _passes(gate, raw, passed):
            if gate.imports and aliased is not None and _triggered(candidate, raw, present, passed) and aliased(gate):
                active.append(candidate.rule)
            continue
        if not _triggered(candidate, raw, present, passed):
            continue
        if gate is not None and not gate.literals and not _passes(gate, raw, passed):
            continue
        active.append(candidate.rule)
    return active


def _triggered(candidate: _Candidate, raw: bytes, present: dict[bytes, bool], passed: dict[Gate, bool]) -> bool:
    for literal in candidate.literals:
        found = present.get(literal)
        if found is None:
            found = present[literal] = literal in raw
        if found:
            return True
    return any(_passes(gate, raw, passed) for gate in candidate.combined)


def _passes(gate: Gate, raw: bytes, passed: dict[Gate, bool]) -> bool:
    """The gate's answer for this file, remembered in `passed`."""
    answer = passed.get(gate)
    if answer is None:
        answer = passed[gate] = (not gate.literals or any(literal in raw for literal in gate.literals)) and (
            _compiled(gate.pattern).search(raw) is not None
        )
    return answer


@cache
def _compiled(pattern: bytes) -> re.Pattern[bytes]:
    return re.compile(pattern)


def _read(source: SourcePath, stamp: list[tuple[int, int]] | None = None) -> bytes:
    """The file's bytes in one system call when its size is known from discovery (no buffered
    file object: most files are read only to be prefiltered). `stamp` receives the (size,
    mtime_ns) of what was read, for the write to check nothing changed in between."""
    fd = os.open(source.file, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        if stamp is not None:
            info = os.fstat(fd)
            stamp.append((info.st_size, info.st_mtime_ns))
        expected = min(source.stamp[0], _ONE_READ) if source.stamp is not None else 65536
        first = os.read(fd, expected + 1)  # a regular file reads short only at its end...
        if len(first) <= expected and expected < _ONE_READ:
            return first
        chunks = [first]  # ...unless it grew since discovery, or is too big for one read
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


_ONE_READ = 1 << 30  # Linux returns at most ~2 GiB from one read()


def _active_rules(
    source: SourcePath, selected: frozenset[str], lines: bytes, absolute: str
) -> tuple[list[Rule], tuple[str, ...]]:
    """The prefilter's answer for a file, and the configuration files it read to give it (a
    tsconfig whose `paths` alias the SDK: changing it re-checks the file)."""
    indexer = lang.indexer(source.language)
    forced = indexer is not None and indexer.relevant(absolute)
    read: list[str] = []
    answers: dict[Gate, bool] = {}

    def aliased(gate: Gate) -> bool:
        if gate not in answers:
            prefixes, files = lang.import_aliases(source.language, absolute, gate.literals)
            read.extend(str(file) for file in files)
            answers[gate] = any(prefix in lines for prefix in prefixes)
        return answers[gate]

    active = _prefilter(selected, lang.family(source.language), lines, forced, aliased)
    return active, tuple(read)


def process(source: SourcePath, job: Job) -> FileResult:
    """Check (and maybe fix) one file. Never raises for a problem with the file itself."""
    result = FileResult(source.display)
    stamp: list[tuple[int, int]] = []
    try:
        raw = _read(source, stamp)
    except OSError as exc:
        result.errors.append(FileError(source.display, f"cannot read: {exc.strerror or exc}"))
        return result
    selected = _selected(job, source)
    indexer = lang.indexer(source.language)
    absolute = os.path.abspath(source.file)
    lines = as_lines(raw)
    active, alias_files = _active_rules(source, selected, lines, absolute)
    result.depends_on = alias_files
    if not active:
        return result  # the prefilter: most files end here, unparsed
    if len(raw) > job.max_bytes:
        message = f"skipped: {len(raw):,} bytes, over the {job.max_bytes / 1e6:g} MB budget (file-size-limit)"
        result.errors.append(FileError(source.display, message))
        return result
    with _time_budget(job.max_seconds):
        try:
            return _analyse(result, source, raw, job, active, selected, indexer, absolute, stamp)
        except _OverBudget:
            skipped = FileResult(source.display)
            message = f"skipped: analysing it took over {job.max_seconds:g} s (file-time-limit)"
            skipped.errors.append(FileError(source.display, message))
            return skipped


class _OverBudget(BaseException):
    """The file's time budget ran out (a BaseException: rule code's `except Exception` lets it by)."""


@contextlib.contextmanager
def _time_budget(seconds: float) -> Iterator[None]:
    """Raise _OverBudget in the analysis of one file after `seconds` (Unix, main thread; each
    pool worker runs files in its main thread)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _OverBudget

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _budget_stop() -> None:
    """Before a write: a file is written whole or not at all, whatever the clock says."""
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        signal.setitimer(signal.ITIMER_REAL, 0)


def _analyse(
    result: FileResult,
    source: SourcePath,
    raw: bytes,
    job: Job,
    active: list[Rule],
    selected: frozenset[str],
    indexer: Any,
    absolute: str,
    stamp: list[tuple[int, int]],
) -> FileResult:
    """Parse, run the rules, fix: the part of a file's processing under its time budget."""
    path = source.path
    from .sdk.projects import is_sdk_source  # after the prefilter: most runs never need it

    if is_sdk_source(path):
        return result  # an SDK's own internals implement sessions; they are not a server to migrate
    in_tests = lang.is_test_file(path)
    try:
        text = decode(raw, source.language)
    except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
        result.errors.append(FileError(source.display, f"cannot decode: {exc}"))
        return result
    language = lang.load(source.language)
    partial = False
    try:
        parsed = language.parse(text.text, text.newline, path)
    except ParseError as exc:
        try:
            if language.parse_partial is None:
                raise
            parsed, partial = language.parse_partial(text.text, text.newline, path), True
        except ParseError as final:
            result.errors.append(FileError(source.display, f"cannot parse: {final}"))
            return result
        result.errors.append(_partial_parse(source, parsed, exc, active, lang.family(source.language)))
    try:
        diagnostics = _diagnose(language, parsed, active, selected, advisory=in_tests and not job.fix_tests)
        if partial:
            diagnostics = _around_errors(parsed, diagnostics)
        elif job.mode is not Mode.CHECK:
            parsed, diagnostics = _fix(
                result, source, text, language, parsed, diagnostics, active, job, stamp[0] if stamp else None
            )
    except Exception as exc:  # a rule bug must not take the rest of the run down
        result.errors.append(FileError(source.display, f"internal error: {type(exc).__name__}: {exc}"))
        return result
    dependencies = {*result.depends_on, *(str(p) for p in getattr(parsed, "dependencies", ()))}
    if indexer is not None:
        dependencies |= indexer.dependencies(absolute)
    result.depends_on = tuple(sorted(dependencies))
    index: LineIndex = parsed.lines
    # MCP001 reports stale suppressions in files no rule of its own triggers on (YAML, nginx).
    severity = {
        code: Severity.WARNING if in_tests else rules.get_rule(code).severity for code in {d.code for d in diagnostics}
    }
    result.findings = [
        Finding(
            d.code,
            source.display,
            d.span,
            d.message,
            severity[d.code],
            d.fix,
            _edit_spans(index, d.fix),
            index.line_text(d.span.line).strip(),
        )
        for d in diagnostics
    ]
    return result


def _diagnose(
    language: lang.Language, parsed: Any, active: Sequence[Rule], selected: frozenset[str], advisory: bool = False
) -> list[Diagnostic]:
    """Run the rules, drop suppressed findings, and report suppressions that silenced nothing.

    `advisory` (test code): findings are kept, marked as such, and carry no fix: a test that
    sets up a stateful server or asserts on a session keyword is testing that on purpose."""
    suppressions = lang.suppressions(language.comments(parsed))
    lines: LineIndex = parsed.lines
    used: dict[int, set[str]] = {line: set() for line in suppressions}
    found = []
    for rule in active:
        if rule.code == UNUSED_SUPPRESSION:
            continue
        for diagnostic in rules.checker(rule.code, language.name)(parsed):
            line = _suppressing_line(diagnostic, suppressions, lines)
            if line is None:
                found.append(diagnostic)
            else:
                used[line].add(diagnostic.code)
    if UNUSED_SUPPRESSION in selected:
        found.extend(_unused(suppressions, used, selected, lines))
    if advisory:
        found = [replace(d, message=d.message + _ADVISORY, fix=None) for d in found if d.code != UNUSED_SUPPRESSION]
    return sorted(found, key=lambda d: (d.span, d.code))


_ADVISORY = " [test code: advisory, not fixed unless `--fix-tests`]"


def _suppressing_line(
    diagnostic: Diagnostic, suppressions: dict[int, lang.Suppression], lines: LineIndex
) -> int | None:
    """The line of a suppression on the finding's line, or alone on the line above it."""
    line = diagnostic.span.line
    candidates = [line]
    if line > 1 and lines.line_text(line - 1).lstrip().startswith(("#", "//")):
        candidates.append(line - 1)
    for candidate in candidates:
        found = suppressions.get(candidate)
        if found is not None and (found.codes is None or diagnostic.code in found.codes):
            return candidate
    return None


def _unused(
    suppressions: dict[int, lang.Suppression], used: dict[int, set[str]], selected: frozenset[str], lines: LineIndex
) -> Iterator[Diagnostic]:
    """Like ruff's RUF100. Only codes that ran can be judged: a suppression for a rule left out
    by --select is not unused, and neither is a bare one while any rule is left out."""
    everything = frozenset(r.code for r in rules.all_rules())
    for line, suppression in suppressions.items():
        if suppression.codes is None:
            if used[line] or not everything <= selected:
                continue
            unused, keep = "every code", frozenset[str]()
        else:
            judged = suppression.codes & selected | (suppression.codes - everything)
            stale = judged - used[line]
            if not stale:
                continue
            unused, keep = ", ".join(sorted(stale)), suppression.codes - stale
        start = lines.offset(line, suppression.column)
        end = start + len(suppression.comment)
        span = Span(line, suppression.column + 1, line, suppression.column + 1 + len(suppression.comment))
        fix = None
        if keep:
            listed = ", ".join(sorted(keep))
            new = re.sub(r"ignore\s*\[[^\]]*\]", f"ignore[{listed}]", suppression.comment, count=1)
            fix = Fix(FixSafety.SAFE, f"Keep only {listed}", (Edit(start, end, new),))
        elif suppression.whole_comment:
            fix = Fix(FixSafety.SAFE, "Remove the suppression comment", (_comment_removal(lines, line, start, end),))
        message = f"Unused suppression ({unused}): nothing on this line or the next is reported for it"
        yield Diagnostic(UNUSED_SUPPRESSION, span, message, fix)


def _comment_removal(lines: LineIndex, line: int, start: int, end: int) -> Edit:
    """Remove a comment with the blanks before it, or its whole line when it stands alone."""
    line_start = lines.starts[line - 1]
    before = lines.text[line_start:start]
    if not before.strip():
        line_end = lines.starts[line] if line < len(lines.starts) else len(lines.text)
        return Edit(line_start, line_end)
    return Edit(line_start + len(before.rstrip()), end)


def _fix(
    result: FileResult,
    source: SourcePath,
    text: SourceText,
    language: lang.Language,
    parsed: Any,
    diagnostics: list[Diagnostic],
    active: Sequence[Rule],
    job: Job,
    stamp: tuple[int, int] | None = None,
) -> tuple[Any, list[Diagnostic]]:
    original, unchanged = text.text, (parsed, diagnostics)
    selected = _selected(job, source)
    current = original
    passes: list[list[Edit]] = []
    found = len(diagnostics)
    if any(_applicable(d.fix, job) for d in diagnostics):
        rejected = language.rejects(original)
        if rejected is not None:
            result.errors.append(FileError(source.display, f"not fixed: {rejected}; findings are reported as they are"))
            return unchanged
    for _ in range(MAX_FIX_PASSES):
        fixes = [d.fix for d in diagnostics if _applicable(d.fix, job)]
        if not fixes:
            break
        chosen = select_compatible([f for f in fixes if f is not None])
        try:
            edits = [edit for fix in chosen for edit in fix.edits]
            candidate = apply_edits(current, edits)
            reparsed = language.parse(candidate, text.newline, source.path)
        except (EditConflict, ParseError) as exc:
            result.errors.append(
                FileError(source.display, f"internal error: a fix produced invalid code ({exc}); file left unchanged")
            )
            return unchanged
        broken = language.fix_problems(parsed, reparsed)
        rejected = language.rejects(candidate)
        if rejected is not None:
            broken.append(f"the result: {rejected}")
        if broken:
            result.errors.append(
                FileError(
                    source.display, f"internal error: a fix broke the code ({'; '.join(broken)}); file left unchanged"
                )
            )
            return unchanged
        result.fixed += len(chosen)
        passes.append(edits)
        current, parsed = candidate, reparsed
        diagnostics = _diagnose(language, parsed, active, selected)  # advisory findings carry no fix: never here
    if current == original:
        return parsed, diagnostics
    # A finding another fix made go away (MCP102's hooks with MCP101's generator) is fixed too:
    # the counts add up to what `check` reported.
    result.fixed = max(result.fixed, found - len(diagnostics))
    result.diff = unified_diff(source.display, original, current)
    result.fixed_ranges = tuple(original_ranges(passes))
    if job.mode is Mode.FIX:
        try:
            _budget_stop()
            if _parent_gone():
                raise OSError(errno.ECANCELED, "the run was stopped")
            if is_read_only(source.path):
                raise PermissionError("file is read-only")
            atomic_write(source.path, text.encode(current), stamp)
        except (OSError, UnicodeEncodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            result.errors.append(FileError(source.display, f"cannot write fixes: {reason}; file left unchanged"))
            result.fixed = 0
            result.diff = ""
            result.fixed_ranges = ()
            return unchanged
    return parsed, diagnostics


def _partial_parse(
    source: SourcePath, parsed: Any, exc: ParseError, active: Sequence[Rule], language: str
) -> FileError:
    """A warning when the code that does not parse holds nothing the selected rules look for
    (a grammar gap in a test's mock, say); an error that fails the run when it does, since a
    finding may hide in it."""
    codes = frozenset(rule.code for rule in active)
    passed: dict[Gate, bool] = {}
    for statement in parsed.broken_statements():
        raw = parsed.text[parsed.start(statement) : parsed.end(statement)].encode("utf-8")
        if any(_triggered(candidate, raw, {}, passed) for candidate in _candidates(codes, language)):
            line = parsed.lines.position(parsed.start(statement))[0]
            return FileError(
                source.display,
                f"cannot parse: {exc}, in the statement at line {line}, which holds code the selected rules check; "
                "findings elsewhere in the file are reported, nothing in it is fixed",
            )
    return FileError(
        source.display,
        f"cannot parse all of it ({exc}; a grammar gap or a syntax error, in code no selected rule looks at): "
        "findings around it are reported, nothing in this file is fixed",
        warning=True,
    )


def _around_errors(parsed: Any, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """A file parsed around syntax errors: findings in statements with an error go (the rules
    saw a broken tree there), the rest stay, and none carries a fix."""
    kept = []
    for diagnostic in diagnostics:
        offset = parsed.lines.offset(diagnostic.span.line, diagnostic.span.column - 1)
        if not parsed.broken_statement(len(parsed.text[:offset].encode("utf-8"))):
            kept.append(replace(diagnostic, fix=None))
    return kept


def _applicable(fix: Fix | None, job: Job) -> bool:
    return fix is not None and (fix.safety is FixSafety.SAFE or job.unsafe_fixes)


def _edit_spans(index: LineIndex, fix: Fix | None) -> tuple[tuple[Span, str], ...]:
    if fix is None:
        return ()
    spans = []
    for edit in fix.edits:
        line, column = index.position(edit.start)
        end_line, end_column = index.position(edit.end)
        spans.append((Span(line, column + 1, end_line, end_column + 1), edit.text))
    return tuple(spans)


# -- running many files -------------------------------------------------------------------------
def run(
    sources: Sequence[SourcePath],
    job: Job,
    jobs: int,
    advance: Callable[[int], None] | None = None,
    cache: Cache | None = None,
) -> list[FileResult]:
    """Results in the order of `sources`, whatever the number of processes; files the cache
    vouches for are not read at all."""
    lang.new_run()
    results: list[FileResult | None] = [None] * len(sources)
    todo: list[int] = []
    for i, source in enumerate(sources):
        remembered = cache.get(source, clean_only=job.mode is not Mode.CHECK) if cache is not None else None
        if remembered is None:
            todo.append(i)
        else:
            results[i] = remembered
    if advance and len(todo) < len(sources):
        advance(len(sources) - len(todo))
    index = IndexPhase(sources if _wants_index(job) else (), cache)
    for i, result in zip(todo, _run_uncached(index, [sources[i] for i in todo], job, jobs, advance), strict=True):
        results[i] = result
        if cache is not None:
            cache.put(sources[i], result)
    if cache is not None:
        index.keep(cache)
        cache.save(sources)
    return [r for r in results if r is not None]


def _wants_index(job: Job) -> bool:
    """Whether a selected rule checks a language with an index phase (`--select MCP001` or
    deployment rules alone do not)."""
    return any(
        family in rule.triggers
        for rule in _rules(_all_of(job.codes))
        if rule.code != UNUSED_SUPPRESSION
        for family in lang.INDEXED_FAMILIES
    )


class IndexPhase:
    """The index phase of a run: facts the results cache kept for unchanged files, the files
    indexed afresh and what they gave (kept for the next run). A re-run after one edit indexes
    that file, not every file the byte gate would have to read. Nothing happens unless a file
    must be processed (a fully cached run needs no project)."""

    def __init__(self, sources: Sequence[SourcePath], cache: Cache | None) -> None:
        self.sources = sources
        self.cache = cache
        self.fresh: list[tuple[SourcePath, Any]] = []  # (file, facts or None)

    def projects(self, chunks: int = 1, mapper: Callable[..., Iterable[Any]] = map) -> dict[str, Any]:
        """Index the files whose facts are not kept, in `chunks` (strided) through `mapper` (a
        pool's `map` in parallel runs), and build each language's project."""
        kept: list[tuple[str, str, Any]] = []  # (language family, absolute path, facts)
        todo: list[SourcePath] = []
        cwd = os.getcwd()
        for source in self.sources:
            indexer = lang.indexer(source.language)
            if indexer is None:
                continue
            known, data = self.cache.facts(source) if self.cache is not None else (False, None)
            if not known:
                todo.append(source)
            elif data is not None:
                absolute = _absolute(source.file, cwd)
                try:
                    kept.append((lang.family(source.language), absolute, indexer.from_json(absolute, data)))
                except (TypeError, ValueError, KeyError, IndexError, AttributeError):  # not ours: index again
                    todo.append(source)
        parts = [todo[i::chunks] for i in range(chunks)] if todo else []
        for part, found in zip(parts, mapper(_index_facts, parts), strict=True):
            self.fresh.extend((source, facts) for source, facts in zip(part, found, strict=True) if facts is not False)
        fresh = [
            (lang.family(source.language), _absolute(source.file, cwd), facts)
            for source, facts in self.fresh
            if facts is not None
        ]
        return _build(self._followed([*kept, *fresh], cwd))

    def _followed(self, facts: list[tuple[str, str, Any]], cwd: str) -> list[tuple[str, str, Any]]:
        """The second stage: files the byte gate skipped that indexed ones take a name from
        where it matters (`indexer.wanted`), indexed here until nothing new is asked for. They
        are few, and not kept in the cache: whether one is wanted depends on other files."""
        by_family: dict[str, dict[str, Any]] = {}
        for family, path, found in facts:
            by_family.setdefault(family, {})[path] = found
        for family, modules in by_family.items():
            indexer = lang.indexer(family)
            assert indexer is not None
            languages = {s.language for s in self.sources if lang.family(s.language) == family}
            files = {_absolute(s.file, cwd): s for s in self.sources if s.language in languages}
            tried: set[str] = set()
            while wanted := indexer.wanted(modules, files) - tried - modules.keys():
                for path in sorted(wanted):
                    tried.add(path)
                    with contextlib.suppress(OSError):  # reported when the file itself is processed
                        found = indexer.index_forced(path, _read(files[path]))
                        if found is not None:
                            modules[path] = found
                            facts.append((family, path, found))
        return facts

    def keep(self, cache: Cache) -> None:
        for source, facts in self.fresh:
            indexer = lang.indexer(source.language)
            assert indexer is not None
            cache.put_facts(source, None if facts is None else indexer.to_json(facts))


def _absolute(file: str, cwd: str) -> str:
    """`os.path.abspath(file)` (the same string), at a fifth of its cost for the normalised
    relative paths discovery gives: the index phase names every file of a run."""
    joined = os.path.join(cwd, file)
    return os.path.normpath(joined) if f"{os.sep}." in joined or os.sep * 2 in joined else joined


def _index_facts(sources: Sequence[SourcePath]) -> list[Any]:
    """The index phase, per file: its facts, None when it takes no part (a cheap byte gate
    first: most files contribute nothing), False when it cannot be read (reported when the file
    itself is processed; not remembered)."""
    found: list[Any] = []
    cwd = os.getcwd()
    for source in sources:
        indexer = lang.indexer(source.language)
        assert indexer is not None
        try:
            found.append(indexer.index_file(_absolute(source.file, cwd), _read(source)))
        except OSError:
            found.append(False)
    return found


def _build(facts: Iterable[tuple[str, str, Any]]) -> dict[str, Any]:
    """Each language's project from its files' facts."""
    by_language: dict[str, dict[str, Any]] = {}
    for language, path, found in facts:
        by_language.setdefault(language, {})[path] = found
    projects = {}
    for language, files in by_language.items():
        indexer = lang.indexer(language)
        assert indexer is not None
        projects[language] = indexer.build(files)
    return projects


def _activate(projects: dict[str, Any]) -> None:
    """Make the run's projects the ones the rules consult; a language with nothing indexed
    has none (not the previous run's)."""
    for language in lang.INDEXED_FAMILIES:
        indexer = lang.indexer(language)
        if indexer is not None:
            indexer.activate(projects.get(language))


def _run_uncached(
    index: IndexPhase,
    sources: Sequence[SourcePath],
    job: Job,
    jobs: int,
    advance: Callable[[int], None] | None,
) -> list[FileResult]:
    """Index every file (cross-module facts need the unchanged ones too; the cache keeps the
    facts of those that did not change), then process those not vouched for by the cache."""
    if not sources:
        return []
    if jobs <= 1 or len(sources) < PARALLEL_MIN_FILES:
        # `--jobs 1`: the run's own process, as asked (no crash isolation); else one forked child
        results = _in_one_process(index, sources, job) if jobs <= 1 else _in_a_child(index, sources, job)
        if advance:
            advance(len(sources))
        return results
    import multiprocessing  # only big runs pay for the process machinery
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # Strided chunks: the files that need parsing cluster in a few folders of a repository,
    # and contiguous chunks would hand them all to one process.
    # More workers than cores (or than files) only costs forks: `--jobs 400` on 80 files.
    jobs = max(1, min(jobs, os.cpu_count() or 1, len(sources)))
    count = min(len(sources), jobs * 16)
    chunks = [sources[i::count] for i in range(count)]
    ordered: list[FileResult | None] = [None] * len(sources)
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
    ) as pool:
        projects = index.projects(jobs * 4, pool.map)
        _activate(projects)
        futures = [pool.submit(_process_chunk, chunk, job, projects) for chunk in chunks]
        crashed = []
        for start, future in enumerate(futures):
            try:
                chunk_results = future.result()
            except BrokenProcessPool:  # a worker died (a parser crashed): its chunk is redone below
                crashed.append(start)
                continue
            ordered[start::count] = chunk_results
            if advance:
                advance(len(chunk_results))
    for start in crashed:
        ordered[start::count] = [_isolated(source, job, projects, context) for source in chunks[start]]
        if advance:
            advance(len(chunks[start]))
    return [r for r in ordered if r is not None]


def _in_one_process(index: IndexPhase, sources: Sequence[SourcePath], job: Job) -> list[FileResult]:
    _activate(index.projects())
    return [process(source, job) for source in sources]


def _in_a_child(index: IndexPhase, sources: Sequence[SourcePath], job: Job) -> list[FileResult]:
    """A small run (pre-commit's one file) in one forked child, which costs a fork rather than a
    pool: a parser that crashes the process (a segfault) takes the child down, not the run, and
    the files are then redone each in a process of its own, the culprit named and skipped. A
    run that parses nothing (no file passes the prefilter) stays in this process."""
    projects = index.projects()
    _activate(projects)
    if not hasattr(os, "fork") or not any(_parses(source, job) for source in sources):
        return [process(source, job) for source in sources]
    import gc
    import pickle

    gc.freeze()  # the child's collector leaves the parent's objects (and their pages) alone
    parent = os.getpid()
    readable, writable = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's coverage is not collected)
        code = 70
        try:
            os.close(readable)
            _worker_start(parent)
            data = pickle.dumps([process(source, job) for source in sources])
            with os.fdopen(writable, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(writable)
    try:
        with os.fdopen(readable, "rb") as pipe:
            data = pipe.read()
    finally:
        _, status = os.waitpid(child, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        results: list[FileResult] = pickle.loads(data)
        return results
    import multiprocessing

    context = multiprocessing.get_context("fork")
    return [_isolated(source, job, projects, context) for source in sources]


def _parses(source: SourcePath, job: Job) -> bool:
    """Whether `process` would parse the file (it passes the prefilter): the part a crash can hit."""
    try:
        raw = _read(source, [])
    except OSError:
        return False
    return bool(_active_rules(source, _selected(job, source), as_lines(raw), os.path.abspath(source.file))[0])


def _isolated(source: SourcePath, job: Job, projects: dict[str, Any], context: Any) -> FileResult:
    """One file in a process of its own, after a worker died on its chunk: the file that kills
    its process is named and skipped, and the run goes on."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
    ) as pool:
        try:
            return pool.submit(_process_chunk, [source], job, projects).result()[0]
        except BrokenProcessPool:
            result = FileResult(source.display)
            message = "internal error: analysing it crashed the process (a parser bug); file skipped and left as it was"
            result.errors.append(FileError(source.display, message))
            return result


_PARENT: int | None = None  # in a pool worker: the run's process, which must outlive every write


def _worker_start(parent: int) -> None:
    """A worker dies with the run: on Linux the kernel sends SIGKILL when the parent goes
    (however it is killed), and every write first checks the parent is still there."""
    global _PARENT
    _PARENT = parent
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent went before the line above took effect
        os._exit(1)


def _parent_gone() -> bool:
    return _PARENT is not None and os.getppid() != _PARENT


def _process_chunk(chunk: Sequence[SourcePath], job: Job, projects: dict[str, Any]) -> list[FileResult]:
    _activate(projects)
    return [process(source, job) for source in chunk]


def findings_of(results: Iterable[FileResult]) -> list[Finding]:
    return sorted((f for r in results for f in r.findings), key=Finding.sort_key)

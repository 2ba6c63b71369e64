"""Results of unchanged files, remembered between runs (what ruff's cache does).

A re-run over a monorepo spends most of its time parsing the few hundred files that can hold a
finding; when none of them changed, their previous results are as good as new ones.

- Where: `$MCP_MIGRATE_CACHE_DIR`, else `$XDG_CACHE_HOME/mcp-migrate`, else
  `~/.cache/mcp-migrate`; one file per working directory. Nothing is written into the
  repository being checked.
- Valid for: the same mcp-migrate code (its version and the size and mtime of every module),
  the same parsers, the same Python, and the same rule selection and per-file ignores; any
  difference starts an empty cache.
- A file's entry is used when its size, mtime and ctime (ctime changes whenever the file does,
  and no tool sets it back) are those recorded. Entries are only recorded for files last
  modified more than two seconds before the run began, so an edit made while the file was
  being read, within one timestamp tick, cannot hide behind a matching stamp.
- A TypeScript file whose imports were followed through relative re-exports also records the
  stamps of the files and folders that were looked at (a folder's mtime changes when a file
  appears in it): a change to any of them, or its appearance, invalidates the entry.
- Not cached: files that could not be read, and internal errors.
- `fix` uses an entry only when it says the file was clean: anything to fix is recomputed.

A cache that cannot be read or written is ignored: it only ever saves time. It is JSON, not
pickle: a cache restored in CI from another branch's run can hold wrong data, never code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from . import __version__
from .discovery import SourcePath
from .model import Edit, FileError, FileResult, Finding, Fix, FixSafety, Severity, Span

FORMAT = 2
RACY_NS = 2_000_000_000  # entries for files modified this close to the run's start are not kept
_PARSERS = ("libcst", "yaml", "tree_sitter", "tree_sitter_typescript", "tree_sitter_javascript")
_NOT_CACHED = ("cannot read:", "internal error:")

Stamp = tuple[int, int, int]  # size, mtime_ns, ctime_ns
Dependencies = tuple[tuple[str, "Stamp | None"], ...]  # (path, stamp; None: it did not exist)


def default_dir() -> Path:
    configured = os.environ.get("MCP_MIGRATE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mcp-migrate"


def stamp_of(stat_result: os.stat_result) -> Stamp:
    return (stat_result.st_size, stat_result.st_mtime_ns, stat_result.st_ctime_ns)


class Cache:
    """The entries of one working directory, for one job (see the module docstring)."""

    def __init__(self, folder: Path, job_key: object) -> None:
        self.started_ns = time.time_ns()
        self.file = folder / (hashlib.sha256(os.getcwd().encode("utf-8", "surrogateescape")).hexdigest()[:20] + ".json")
        self.key = repr((FORMAT, __version__, sys.version, _code_fingerprint(), job_key))
        self.entries: dict[str, tuple[Stamp, FileResult | None, Dependencies]] = {}
        self.changed = False
        try:
            with open(self.file, "rb") as stream:
                stored = json.load(stream)
            if isinstance(stored, dict) and stored.get("key") == self.key:
                self.entries = {path: _entry(path, value) for path, value in stored["entries"].items()}
            else:
                self.changed = True  # another version or job: start over
        except FileNotFoundError:
            pass
        except Exception:  # a truncated or foreign file: start over
            self.entries = {}
            self.changed = True

    def get(self, source: SourcePath, clean_only: bool) -> FileResult | None:
        """The remembered result of an unchanged file; with `clean_only`, only when it had no
        findings and no errors."""
        entry = self.entries.get(source.display)
        if entry is None or source.stamp is None or entry[0] != source.stamp:
            return None
        if any(_stamp(path) != stamp for path, stamp in entry[2]):
            return None
        result = entry[1]
        if result is None:
            return FileResult(source.display)
        if clean_only:
            return None
        return FileResult(source.display, list(result.findings), list(result.errors))

    def put(self, source: SourcePath, result: FileResult) -> None:
        stamp = source.stamp
        if stamp is None or result.diff or result.fixed:
            return
        dependencies = tuple((path, _stamp(path)) for path in result.depends_on)
        stamps = [stamp, *(s for _, s in dependencies if s is not None)]
        racy = any(s[1] >= self.started_ns - RACY_NS for s in stamps)
        if racy or any(e.message.startswith(_NOT_CACHED) for e in result.errors):
            if self.entries.pop(source.display, None) is not None:
                self.changed = True
            return
        value = None if not result.findings and not result.errors else result
        if value is not None and result.depends_on:
            value = FileResult(result.path, result.findings, result.errors)  # the paths are in `dependencies`
        old = self.entries.get(source.display)
        if old is None or old[0] != stamp or old[2] != dependencies or (old[1] is None) != (value is None):
            self.entries[source.display] = (stamp, value, dependencies)
            self.changed = True

    def save(self, seen: Sequence[SourcePath]) -> None:
        """Write the entries (atomically) if anything changed; entries of files that are gone
        are dropped."""
        shown = {s.display for s in seen}
        for display in [d for d in self.entries if d not in shown]:
            if not os.path.lexists(display):
                del self.entries[display]
                self.changed = True
        if not self.changed:
            return
        entries = {
            path: [list(stamp), _encode(result), [[p, None if s is None else list(s)] for p, s in dependencies]]
            for path, (stamp, result, dependencies) in self.entries.items()
        }
        with contextlib.suppress(OSError):
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.file.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as stream:
                    json.dump({"key": self.key, "entries": entries}, stream, separators=(",", ":"))
                os.replace(temporary, self.file)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise


def _entry(path: str, value: list[Any]) -> tuple[Stamp, FileResult | None, Dependencies]:
    stamp, result, dependencies = value
    return (
        (stamp[0], stamp[1], stamp[2]),
        None if result is None else _decode(path, result),
        tuple((p, None if s is None else (s[0], s[1], s[2])) for p, s in dependencies),
    )


def _encode(result: FileResult | None) -> list[Any] | None:
    if result is None:
        return None
    findings = [
        [
            f.code,
            _span(f.span),
            f.message,
            f.severity.value,
            None
            if f.fix is None
            else [f.fix.safety.value, f.fix.description, [[e.start, e.end, e.text] for e in f.fix.edits]],
            [[_span(span), text] for span, text in f.edits],
            f.source_line,
        ]
        for f in result.findings
    ]
    return [findings, [e.message for e in result.errors]]


def _decode(path: str, data: list[Any]) -> FileResult:
    findings, errors = data
    return FileResult(
        path,
        [
            Finding(
                code,
                path,
                Span(*span),
                message,
                Severity(severity),
                None if fix is None else Fix(FixSafety(fix[0]), fix[1], tuple(Edit(*e) for e in fix[2])),
                tuple((Span(*s), text) for s, text in edits),
                source_line,
            )
            for code, span, message, severity, fix, edits, source_line in findings
        ],
        [FileError(path, message) for message in errors],
    )


def _span(span: Span) -> list[int]:
    return [span.line, span.column, span.end_line, span.end_column]


def _stamp(path: str) -> Stamp | None:
    try:
        return stamp_of(os.stat(path))
    except OSError:
        return None


def _code_fingerprint() -> tuple[object, ...]:
    """Size and mtime of every module of mcp-migrate and of the parsers' packages: an edited
    checkout or an upgraded parser invalidates the cache without a version bump."""
    here = Path(__file__).parent
    found: list[object] = []
    for directory, dirnames, filenames in os.walk(here):
        dirnames[:] = sorted(d for d in dirnames if d not in ("templates", "__pycache__"))
        for name in sorted(filenames):
            if name.endswith(".py"):
                info = os.stat(os.path.join(directory, name))
                found.append((os.path.relpath(os.path.join(directory, name), here), info.st_size, info.st_mtime_ns))
    for package in _PARSERS:
        try:
            spec = find_spec(package)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
        if origin and os.path.exists(origin):
            info = os.stat(origin)
            folder = os.path.dirname(origin)
            found.append((package, origin, info.st_mtime_ns, os.stat(folder).st_mtime_ns))
    return tuple(found)

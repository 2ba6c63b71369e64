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
- The index phase's facts of each Python file (what crossing a module boundary needs, or that
  the file takes no part) are kept by the same stamps, whatever the rule selection's results:
  a re-run after one edit indexes that file, not the repository.
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

FORMAT = 4
RACY_NS = 2_000_000_000  # entries for files modified this close to the run's start are not kept
_PARSERS = ("libcst", "yaml", "tree_sitter", "tree_sitter_typescript", "tree_sitter_javascript")
_NOT_CACHED = ("cannot read:", "internal error:")


def default_dir() -> Path:
    configured = os.environ.get("MCP_MIGRATE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mcp-migrate"


class Cache:
    """The entries of one working directory, for one job (see the module docstring).

    Entries stay in their JSON form, `[stamp, result or null, [[path, stamp or null], ...]]`
    (and, for a file of an indexed language, its index facts or null as a fourth item),
    and a result is decoded only when used: most files are clean, and a re-run of a monorepo
    would otherwise spend its time converting entries it only compares."""

    def __init__(self, folder: Path, job_key: object) -> None:
        self.started_ns = time.time_ns()
        self.file = folder / (hashlib.sha256(os.getcwd().encode("utf-8", "surrogateescape")).hexdigest()[:20] + ".json")
        self.key = repr((FORMAT, __version__, sys.version, _code_fingerprint(), job_key))
        self.entries: dict[str, list[Any]] = {}
        self.changed = False
        try:
            with open(self.file, "rb") as stream:
                stored = json.load(stream)
            if isinstance(stored, dict) and stored.get("key") == self.key and isinstance(stored.get("entries"), dict):
                self.entries = stored["entries"]
            else:
                self.changed = True  # another version or job: start over
        except FileNotFoundError:
            pass
        except Exception:  # a truncated or foreign file: start over
            self.changed = True

    def get(self, source: SourcePath, clean_only: bool) -> FileResult | None:
        """The remembered result of an unchanged file; with `clean_only`, only when it had no
        findings and no errors."""
        entry = self.entries.get(source.display)
        if entry is None or source.stamp is None:
            return None
        try:
            stamp, result, dependencies = entry[:3]
            if stamp != [*source.stamp] or any(_stamp(path) != known for path, known in dependencies):
                return None
            if result is None:
                return FileResult(source.display)
            return None if clean_only else _decode(source.display, result)
        except (TypeError, ValueError, KeyError, IndexError):  # an entry that is not ours
            return None

    def put(self, source: SourcePath, result: FileResult) -> None:
        stamp = source.stamp
        if stamp is None or result.diff or result.fixed:
            return
        stamps = {path: _stamp(path) for path in result.depends_on}
        mtimes = [stamp[1], *(s[1] for s in stamps.values() if s is not None)]
        racy = any(mtime >= self.started_ns - RACY_NS for mtime in mtimes)
        if racy or any(e.message.startswith(_NOT_CACHED) for e in result.errors):
            if self.entries.pop(source.display, None) is not None:
                self.changed = True
            return
        entry = [list(stamp), _encode(result), [[path, known] for path, known in stamps.items()]]
        previous = self.entries.get(source.display)
        if previous is not None and len(previous) == 4 and previous[0] == entry[0]:
            entry.append(previous[3])  # the index facts of the same content still hold
        if previous != entry:
            self.entries[source.display] = entry
            self.changed = True

    def facts(self, source: SourcePath) -> tuple[bool, Any]:
        """The index facts kept for an unchanged file, as JSON: (True, facts, or None when the
        file takes no part), or (False, None) when there are none to use. They are the entry's
        fourth item, valid by the file's own stamp whatever its dependencies did."""
        entry = self.entries.get(source.display)
        if entry is None or source.stamp is None or not isinstance(entry, list) or len(entry) != 4:
            return False, None
        return (True, entry[3]) if entry[0] == [*source.stamp] else (False, None)

    def put_facts(self, source: SourcePath, facts: Any) -> None:
        """Keep a file's index facts beside its result (a file without a kept result, e.g. one
        modified too recently, keeps none)."""
        entry = self.entries.get(source.display)
        if entry is None or source.stamp is None or entry[0] != [*source.stamp]:
            return
        if entry[3:] != [facts]:
            entry[3:] = [facts]
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
        with contextlib.suppress(OSError):
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.file.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as stream:
                    json.dump({"key": self.key, "entries": self.entries}, stream, separators=(",", ":"))
                os.replace(temporary, self.file)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise


def _encode(result: FileResult) -> list[Any] | None:
    """null for a clean file; else [findings, error messages]."""
    if not result.findings and not result.errors:
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
    return [findings, [[e.message, e.warning] for e in result.errors]]


def _decode(path: str, data: list[Any]) -> FileResult:
    findings, errors = data
    from .rules import all_rules

    known = {rule.code for rule in all_rules()}
    if any(entry[0] not in known for entry in findings):  # a hand-edited or foreign entry: a miss
        raise KeyError("unknown rule code in a cache entry")
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
        [FileError(path, message, warning) for message, warning in errors],
    )


def _span(span: Span) -> list[int]:
    return [span.line, span.column, span.end_line, span.end_column]


def _stamp(path: str) -> list[int] | None:
    """A file's or folder's stamp as stored (None: it does not exist)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns]


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

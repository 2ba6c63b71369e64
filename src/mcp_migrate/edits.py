"""Applying span edits, choosing non-conflicting fixes, diffs and atomic writes."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path

from .model import Edit, Fix

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # str.splitlines() also splits on \f, \v, ...


class EditConflict(ValueError):
    """Two edits of one fix overlap: a rule bug, never applied."""


def _overlaps(a: Edit, b: Edit) -> bool:
    """Touching spans are fine, and so is an insertion at either end of a replacement."""
    return a.start < b.end and b.start < a.end


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply edits given in any order; raises EditConflict when two overlap."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for first, second in pairwise(ordered):
        if _overlaps(first, second):
            raise EditConflict(f"edits overlap at offsets {first.start}-{first.end}")
    parts: list[str] = []
    cursor = 0
    for edit in ordered:
        parts.append(text[cursor : edit.start])
        parts.append(edit.text)
        cursor = edit.end
    parts.append(text[cursor:])
    return "".join(parts)


def original_ranges(applied: Sequence[Sequence[Edit]]) -> list[tuple[int, int]]:
    """The ranges of the first text that successive passes of edits touched: pass k's edits are
    in the coordinates of the text pass k-1 produced, and are mapped back through every earlier
    pass (a position inside a replacement widens to the whole replaced range)."""
    ranges: list[tuple[int, int]] = []
    for number, edits in enumerate(applied):
        for edit in edits:
            start, end = edit.start, edit.end
            for earlier in reversed(applied[:number]):
                start, end = _back(earlier, start, at_end=False), _back(earlier, end, at_end=True)
            ranges.append((start, max(start, end)))
    return sorted(ranges)


def _back(edits: Sequence[Edit], position: int, at_end: bool) -> int:
    """A position in the text `edits` produced, in the text they were applied to."""
    shift = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        new_start = edit.start + shift
        new_end = new_start + len(edit.text)
        if position < new_start or (position == new_start and not at_end and edit.text):
            return position - shift
        if position <= new_end:
            return edit.end if at_end else edit.start
        shift += len(edit.text) - (edit.end - edit.start)
    return position - shift


def select_compatible(fixes: Sequence[Fix]) -> list[Fix]:
    """Greedily keep fixes whose edits touch none of an earlier kept fix (ruff's approach).

    Fixes left out are not lost: the engine re-checks the fixed text and offers them again.
    """
    kept: list[Fix] = []
    taken: list[Edit] = []
    for fix in fixes:
        if any(_overlaps(edit, other) or _same_point(edit, other) for edit in fix.edits for other in taken):
            continue
        kept.append(fix)
        taken.extend(fix.edits)
    return kept


def _same_point(a: Edit, b: Edit) -> bool:
    """Two insertions at one offset from different fixes would have an arbitrary order."""
    return a.start == a.end == b.start == b.end


def unified_diff(path: str, before: str, after: str) -> str:
    import difflib  # `fix --diff` only

    lines = difflib.unified_diff(
        _LINES.findall(before),
        _LINES.findall(after),
        fromfile=path if path.startswith("/") else f"a/{path}",
        tofile=path if path.startswith("/") else f"b/{path}",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def is_read_only(path: Path) -> bool:
    """True when no write bit is set: respected even when running as root."""
    mode = path.stat().st_mode
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


class ChangedOnDisk(OSError):
    """The file is no longer what was read: not overwritten."""


def atomic_write(path: Path, data: bytes, expect: tuple[int, int] | None = None) -> None:
    """Write through a temp file in the same folder and rename it over the original.

    The original's permission bits (and owner, when we are allowed to set it) are kept, so
    an executable script stays executable and a reader never sees a half-written file.
    Never through a symbolic link (the link may lead out of the tree), and, given the
    (size, mtime_ns) the file had when it was read, never over a file changed since.
    """
    target = path
    info = os.lstat(target)
    if stat.S_ISLNK(info.st_mode):
        raise OSError(errno.ELOOP, "is a symbolic link (not written through)")
    if expect is not None and (info.st_size, info.st_mtime_ns) != expect:
        raise ChangedOnDisk(errno.EAGAIN, "changed on disk since it was read (not overwritten)")
    import tempfile  # writes only: `check` never needs it

    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".mcp-migrate", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, stat.S_IMODE(info.st_mode))
        if hasattr(os, "chown"):
            with contextlib.suppress(PermissionError):
                os.chown(tmp_name, info.st_uid, info.st_gid)
        if expect is not None:  # the last moment to notice a writer that came in between
            now = os.lstat(target)
            if stat.S_ISLNK(now.st_mode) or (now.st_size, now.st_mtime_ns) != expect:
                raise ChangedOnDisk(errno.EAGAIN, "changed on disk since it was read (not overwritten)")
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise

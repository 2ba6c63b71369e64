"""Reading a file into text and back to the exact same bytes.

A fix must not change anything the rule did not mean to change: the encoding (PEP 263
cookies included), a UTF-8 BOM and the line endings all survive a read/write round trip.
"""

from __future__ import annotations

import bisect
import codecs
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class SourceText:
    text: str
    encoding: str  # a codec name; "utf-8-sig" keeps the BOM on write
    newline: str  # the file's first line ending, used for inserted lines
    # Old Mac line endings (CR only, no LF anywhere): analysed as LF, which every parser and
    # position here expects, and written back as CR.
    cr_only: bool = False

    def encode(self, text: str) -> bytes:
        if self.cr_only:
            text = text.replace("\n", "\r")
        return text.encode(self.encoding)


def decode(raw: bytes, language: str) -> SourceText:
    """Decode a file's bytes; raises UnicodeDecodeError / SyntaxError with a reason."""
    if language == "python":
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    else:
        encoding = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    if encoding == "utf-8" and raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    text = raw.decode(encoding)
    if "\r" in text and "\n" not in text:
        return SourceText(text=text.replace("\r", "\n"), encoding=encoding, newline="\n", cr_only=True)
    match = _LINE_BREAK.search(text)
    return SourceText(text=text, encoding=encoding, newline=match.group() if match else "\n")


def as_lines(raw: bytes) -> bytes:
    """The bytes the prefilter's line-anchored patterns see: CR-only files as LF."""
    return raw.replace(b"\r", b"\n") if b"\r" in raw and b"\n" not in raw else raw


class LineIndex:
    """Converts between (1-based line, 0-based column) positions and string offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1]

    def line_start(self, offset: int) -> int:
        return self.starts[bisect.bisect_right(self.starts, offset) - 1]

    def line_text(self, line: int) -> str:
        """The line without its line break ("" for a line the text does not have)."""
        if not 1 <= line <= len(self.starts):
            return ""
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")


_BRACKET = re.compile(r"[\[\](){}]")


def bracket_depth(text: str) -> int:
    """How deep brackets nest (strings and comments counted too: a bound, not a parse). Deep
    nesting needs runs of openers, so most texts are answered by one substring test."""
    if "(((" not in text and "[[[" not in text and "{{{" not in text:
        return 0
    depth = deepest = 0
    for match in _BRACKET.finditer(text):
        depth += 1 if match.group() in "([{" else -1
        deepest = max(deepest, depth)
    return deepest


def file_stamp(path: Path) -> tuple[int, int]:
    """(mtime_ns, size) of a file, (0, 0) when it cannot be read: a cache key for what was
    read from it."""
    try:
        info = path.stat()
    except OSError:
        return (0, 0)
    return (info.st_mtime_ns, info.st_size)

"""HAProxy configuration: line-oriented, split into words the way HAProxy reads a line.

A section starts with its keyword (`global`, `defaults`, `frontend`, `backend`, `listen`,
...) and runs to the next one; indentation means nothing. On a line, words are separated by
blanks, `"..."` and `'...'` quote, a backslash escapes the next character, and a `#` outside
quotes (and not escaped) starts a comment that runs to the end of the line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import ParseError
from ..model import Span
from ..source import LineIndex

SECTIONS = frozenset(
    {
        "global",
        "defaults",
        "frontend",
        "backend",
        "listen",
        "peers",
        "resolvers",
        "userlist",
        "mailers",
        "program",
        "http-errors",
        "ring",
        "cache",
        "fcgi-app",
        "log-forward",
        "crt-store",
        "traces",
        "acme",
    }
)
PROXIES = frozenset({"defaults", "frontend", "backend", "listen"})


@dataclass(frozen=True)
class Word:
    value: str  # quotes removed, escapes resolved
    start: int  # offsets into the text; end is exclusive
    end: int


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    words: tuple[Word, ...]

    @property
    def keyword(self) -> str:
        return self.words[0].value if self.words else ""

    @property
    def values(self) -> list[str]:
        return [w.value for w in self.words]


@dataclass
class Section:
    header: Line | None  # None: lines before the first section keyword
    lines: list[Line] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.header.keyword if self.header else ""

    @property
    def name(self) -> str:
        return self.header.words[1].value if self.header and len(self.header.words) > 1 else ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name!r}" if self.name else self.kind


class HaproxyConfig:
    def __init__(self, text: str, newline: str = "\n") -> None:
        self.text = text
        self.newline = newline
        self.lines = LineIndex(text)
        self.comments: dict[int, tuple[int, str]] = {}
        self.sections: list[Section] = [Section(None)]
        for number in range(1, len(self.lines.starts) + 1):
            line = self._split(number)
            if not line.words:
                continue
            if line.keyword in SECTIONS:
                self.sections.append(Section(line))
            else:
                self.sections[-1].lines.append(line)

    def _split(self, number: int) -> Line:
        start = self.lines.starts[number - 1]
        content = self.lines.line_text(number)
        words: list[Word] = []
        i, n = 0, len(content)
        while i < n:
            if content[i] in " \t":
                i += 1
                continue
            if content[i] == "#":
                self.comments[number] = (i, content[i:])
                break
            begin, value, quote = i, [], ""
            while i < n:
                char = content[i]
                if quote:
                    if char == quote:
                        quote = ""
                    elif char == "\\" and quote == '"' and i + 1 < n:
                        i += 1
                        value.append(content[i])
                    else:
                        value.append(char)
                elif char in " \t#":
                    break
                elif char in "\"'":
                    quote = char
                elif char == "\\" and i + 1 < n:
                    i += 1
                    value.append(content[i])
                else:
                    value.append(char)
                i += 1
            if quote:
                raise ParseError(f"unmatched quote at line {number}, column {begin + 1}")
            words.append(Word("".join(value), start + begin, start + i))
        return Line(number, tuple(words))

    def proxies(self) -> Iterator[Section]:
        return (s for s in self.sections if s.kind in PROXIES)

    def span(self, line: Line) -> Span:
        first, last = line.words[0], line.words[-1]
        start_line, start_column = self.lines.position(first.start)
        end_line, end_column = self.lines.position(last.end)
        return Span(start_line, start_column + 1, end_line, end_column + 1)

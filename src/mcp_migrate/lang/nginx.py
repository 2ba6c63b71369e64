"""nginx configuration: crossplane's lexer for the tokens, exact offsets for the edits.

crossplane (nginxinc's nginx config parser) implements nginx's grammar: directives end with
`;`, blocks are `{ ... }`, `#` starts a comment only where a token could start, quotes and
backslash escapes, and the `*_by_lua_block` directives whose Lua body is one token. It gives
each token with its line but no column, so every token is located again in the text, in
order, by the same rules the lexer followed; a token that does not re-read as crossplane
read it is a parse error, never a guess. Nothing is re-serialised: fixes splice the text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from crossplane.errors import NgxParserBaseException
from crossplane.lexer import EXTERNAL_LEXERS, _balance_braces, _lex_file_object

from ..errors import ParseError
from ..model import Edit, Span
from ..source import LineIndex

_SPECIAL = ("{", ";", "}")


@dataclass(frozen=True)
class Token:
    value: str  # as nginx reads it: quotes removed, `\"` unescaped
    start: int  # offsets into the text; end is exclusive
    end: int
    quoted: bool = False


@dataclass(eq=False)
class Directive:
    """`name args... ;` or `name args... { block }`."""

    name: Token
    args: list[Token]
    end: int  # just after the `;` or the block's `}`
    block: list[Directive] | None = None
    parent: Directive | None = field(default=None, repr=False)

    @property
    def directive(self) -> str:
        return self.name.value

    @property
    def arguments(self) -> list[str]:
        return [a.value for a in self.args]

    def children(self, name: str) -> Iterator[Directive]:
        return (d for d in self.block or () if d.directive == name)


class NginxConfig:
    """A parsed nginx configuration file (includes are not followed: each file stands alone)."""

    def __init__(self, text: str, newline: str = "\n") -> None:
        self.text = text
        self.newline = newline
        self.lines = LineIndex(text)
        self.comments: dict[int, tuple[int, str]] = {}
        self.directives: list[Directive] = []
        try:
            tokens = _tokens(text)
            self.directives = self._build(tokens)
        except ParseError:
            if "upstream" not in text:  # a `.conf` that is not nginx (or has nothing for us)
                self.comments, self.directives = {}, []
                return
            raise

    # -- parsing -----------------------------------------------------------------------------
    def _build(self, tokens: list[Token]) -> list[Directive]:
        top: list[Directive] = []
        levels: list[list[Directive]] = [top]  # the directive lists of the open blocks
        opened: list[Directive] = []  # the directives whose blocks are open
        pending: Directive | None = None
        for token in tokens:
            if not token.quoted and token.value.startswith("#"):
                line, column = self.lines.position(token.start)
                self.comments[line] = (column, token.value)
                continue
            special = not token.quoted and token.value in _SPECIAL
            if pending is None:
                if special and token.value == "}" and opened:
                    opened.pop().end = token.end
                    levels.pop()
                elif special:
                    raise self._error(f'unexpected "{token.value}"', token)
                else:
                    pending = Directive(token, [], token.end, parent=opened[-1] if opened else None)
                continue
            if not special:
                pending.args.append(token)
                continue
            if token.value == "}":
                raise self._error('unexpected "}"', token)
            pending.end = token.end
            levels[-1].append(pending)
            if token.value == "{":
                pending.block = []
                opened.append(pending)
                levels.append(pending.block)
            pending = None
        if pending is not None or opened:
            raise ParseError('unexpected end of file, expecting ";" or "}"')
        return top

    def _error(self, message: str, token: Token) -> ParseError:
        line, column = self.lines.position(token.start)
        return ParseError(f"{message} at line {line}, column {column + 1}")

    # -- navigation ----------------------------------------------------------------------------
    def walk(self, directives: list[Directive] | None = None) -> Iterator[Directive]:
        for directive in self.directives if directives is None else directives:
            yield directive
            if directive.block is not None:
                yield from self.walk(directive.block)

    # -- positions and edits -------------------------------------------------------------------
    def span(self, directive: Directive) -> Span:
        """From the directive's name to its `;` (or, for a block, its opening `{`)."""
        end = (
            directive.end
            if directive.block is None
            else (directive.args[-1].end if directive.args else directive.name.end)
        )
        line, column = self.lines.position(directive.name.start)
        end_line, end_column = self.lines.position(end)
        return Span(line, column + 1, end_line, end_column + 1)

    def remove_line(self, directive: Directive) -> Edit | None:
        """Delete the lines of a directive that stands alone on them (a comment after it goes
        too); None when other text shares its first or last line."""
        start = self.lines.line_start(directive.name.start)
        if self.text[start : directive.name.start].strip():
            return None
        last, _ = self.lines.position(directive.end)
        line_end = self.lines.starts[last] if last < len(self.lines.starts) else len(self.text)
        rest = self.text[directive.end : line_end].strip()
        if rest and not rest.startswith("#"):  # after a `;`, a `#` starts a comment
            return None
        return Edit(start, line_end)


def _tokens(text: str) -> list[Token]:
    """crossplane's tokens, each with its exact offsets in `text`."""
    # A comment that ends the file without a line break would be dropped by the lexer.
    source = text if text.endswith("\n") else text + "\n"
    try:
        raw = list(_balance_braces(_lex_file_object([source])))
    except NgxParserBaseException as exc:
        raise ParseError(f"{exc.strerror} at line {exc.lineno}") from None
    located: list[Token] = []
    cursor = 0
    expect_directive = True
    external = 0  # tokens still to come from an external (Lua block) lexer
    for value, line, quoted in raw:
        if external:
            external -= 1
            if external == 0:  # the synthetic `;` after the Lua body: not in the text
                located.append(Token(value, cursor, cursor))
                expect_directive = True
                continue
            if external > 1:  # set_by_lua_block's plain argument
                token = _plain(text, value, _skip_space(text, cursor), line)
            else:
                token = _lua_block(text, value, _skip_space(text, cursor), line)
            located.append(token)
            cursor = token.end
            continue
        start = _skip_space(text, cursor)
        if quoted:
            token = _quoted(text, value, start, line)
        elif value.startswith("#"):
            token = _comment(text, value, start, line)
        else:
            token = _plain(text, value, start, line)
        located.append(token)
        cursor = token.end
        if token.value.startswith("#") and not quoted:
            continue  # comments leave the lexer's state alone
        if not quoted and value in _SPECIAL:
            expect_directive = True
        elif expect_directive and value in EXTERNAL_LEXERS and (quoted or _space_after(text, token.end)):
            external = 3 if value == "set_by_lua_block" else 2
            expect_directive = False
        else:
            expect_directive = False
    return located


def _skip_space(text: str, offset: int) -> int:
    while offset < len(text) and text[offset].isspace():
        offset += 1
    return offset


def _space_after(text: str, offset: int) -> bool:
    return offset >= len(text) or text[offset].isspace()


def _mismatch(value: str, line: int) -> ParseError:
    return ParseError(f"cannot locate token {value!r} of line {line} in the text")


def _plain(text: str, value: str, start: int, line: int) -> Token:
    end = start + len(value)
    if text[start:end] != value:
        raise _mismatch(value, line)
    return Token(value, start, end)


def _comment(text: str, value: str, start: int, line: int) -> Token:
    """To the end of the line (the lexer drops a trailing backslash, the text keeps it)."""
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    if text[end - 1 : end] == "\r":
        end -= 1
    if not text.startswith(value.rstrip("\r"), start):
        raise _mismatch(value, line)
    return Token(text[start:end], start, end)


def _quoted(text: str, value: str, start: int, line: int) -> Token:
    quote = text[start : start + 1]
    if quote not in ('"', "'"):
        raise _mismatch(value, line)
    offset = start + 1
    read = []
    while offset < len(text) and text[offset] != quote:
        if text[offset] == "\\" and offset + 1 < len(text):
            pair = text[offset : offset + 2]
            read.append(quote if pair == "\\" + quote else pair)
            offset += 2
        else:
            read.append(text[offset])
            offset += 1
    if offset >= len(text) or "".join(read) != value:
        raise _mismatch(value, line)
    return Token(value, start, offset + 1, quoted=True)


def _lua_block(text: str, value: str, start: int, line: int) -> Token:
    """The `{ ... }` body of a `*_by_lua_block`, scanned as crossplane's Lua lexer does."""
    if text[start : start + 1] != "{":
        raise _mismatch(value, line)
    depth, offset = 1, start + 1
    while offset < len(text):
        char = text[offset]
        if char == "\\":
            offset += 2
            continue
        if text.startswith("--", offset):
            newline = text.find("\n", offset)
            offset = len(text) if newline < 0 else newline
        elif char in ('"', "'"):
            offset += 1
            while offset < len(text) and text[offset] != char:
                offset += 2 if text[offset] == "\\" else 1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return Token(value, start, offset + 1, quoted=True)
        offset += 1
    raise _mismatch(value, line)

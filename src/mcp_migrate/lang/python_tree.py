"""Reading libcst trees without libcst's visitors, and placing single nodes.

A libcst visitor rebuilds every node it passes (`_visit_and_replace_children` constructs and
validates a copy), and `PositionProvider` places every node of the module through a code
generation that creates two position objects and a context manager per node. The analyses here
only read: `structure()` lists a node's children straight from its fields, in the order
libcst's own visitors visit them (whitespace and punctuation left out), and `Positions` places
nodes with the same code generation but plain integers, one top-level statement at a time,
only for the statements asked about.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields
from types import TracebackType

import libcst as cst
from libcst._nodes.internal import CodegenState

# -- children ----------------------------------------------------------------------------------
_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}
_DEFAULT = cst.MaybeSentinel.DEFAULT


class _FieldRecorder(cst.CSTVisitor):
    """Records which fields of one node libcst's visitors visit, in their order, without
    descending into them."""

    def __init__(self, node: cst.CSTNode) -> None:
        self.node = node
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        pass

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if node is self.node and attribute not in self.fields:
            self.fields.append(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


def _learn(node: cst.CSTNode) -> tuple[str, ...]:
    """The fields holding children of `node`'s type, in visiting order. Every libcst helper
    reports a field to the visitor whether or not it holds anything, except an optional field
    left None (a format spec): those are appended, and read only when they hold a node."""
    recorder = _FieldRecorder(node)
    node._visit_and_replace_children(recorder)
    known = recorder.fields
    extra = [f.name for f in fields(node) if f.name not in known and getattr(node, f.name) is None]
    found = _FIELDS[type(node)] = (*known, *extra)
    return found


def child_fields(node: cst.CSTNode) -> tuple[str, ...]:
    """The names of the fields that may hold children of `node`, in visiting order."""
    found = _FIELDS.get(type(node))
    return found if found is not None else _learn(node)


# Whitespace, comments and punctuation: no analysis asks about them (comments are read from the
# tokens), and they are over half the nodes of a tree.
TRIVIA: frozenset[type[cst.CSTNode]] = frozenset(
    {
        cst.SimpleWhitespace,
        cst.ParenthesizedWhitespace,
        cst.EmptyLine,
        cst.TrailingWhitespace,
        cst.Newline,
        cst.Comment,
        cst.Comma,
        cst.Dot,
        cst.Colon,
        cst.Semicolon,
        cst.AssignEqual,
        cst.LeftParen,
        cst.RightParen,
        cst.LeftSquareBracket,
        cst.RightSquareBracket,
        cst.LeftCurlyBrace,
        cst.RightCurlyBrace,
    }
)


def structure(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children other than trivia (a trivia node only ever holds trivia), in the
    order libcst's visitors visit them, without rebuilding the node."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _learn(node)
    found: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        kind = value.__class__
        if kind is tuple or kind is list:
            found.extend([child for child in value if child.__class__ not in TRIVIA])
        elif value is not None and value is not _DEFAULT and kind is not str and kind not in TRIVIA:
            found.append(value)
    return found


class Index:
    """Parents, nodes by type and source order, from one pre-order traversal of the tree's
    nodes other than `TRIVIA`."""

    def __init__(self, root: cst.CSTNode) -> None:
        self.parents: dict[int, cst.CSTNode] = {}
        self.by_type: dict[type[cst.CSTNode], list[cst.CSTNode]] = {}
        self.order: dict[int, int] = {}
        self.children: dict[int, list[cst.CSTNode]] = {}  # id(node) -> structure(node)
        parents, by_type, order, kids = self.parents, self.by_type, self.order, self.children
        stack = [root]
        while stack:
            node = stack.pop()
            order[id(node)] = len(order)
            kind = type(node)
            same = by_type.get(kind)
            if same is None:
                by_type[kind] = [node]
            else:
                same.append(node)
            below = kids[id(node)] = structure(node)
            for child in below:
                parents[id(child)] = node
            stack.extend(reversed(below))


# -- positions ---------------------------------------------------------------------------------
_NEWLINE = re.compile(r"\r\n?|\n")  # as libcst's position provider counts lines
Range = tuple[int, int, int, int]  # start line (1-based), start column, end line, end column (0-based)


class _Syntactic:
    """`record_syntactic_position` as a plain context manager (libcst's is a generator)."""

    __slots__ = ("column", "end_node", "line", "node", "start_node", "state")

    def __init__(
        self, state: _PositionState, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None
    ) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node
        self.line, self.column = state.line, state.column

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        state, ranges = self.state, self.state.ranges
        start = ranges[id(self.start_node)][:2] if self.start_node is not None else (self.line, self.column)
        end = ranges[id(self.end_node)][2:] if self.end_node is not None else (state.line, state.column)
        ranges[id(self.node)] = (start[0], start[1], end[0], end[1])


class _PositionState(CodegenState):
    """libcst's `PositionProvidingCodegenState` with (line, column) integers instead of
    `CodePosition` objects, keyed by node id; starts at any line of the module."""

    def __init__(self, module: cst.Module, line: int) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = line
        self.column = 0
        self.ranges: dict[int, Range] = {}
        self._starts: list[tuple[int, int]] = []

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        line, column = self._starts.pop()
        if id(node) not in self.ranges:  # a syntactic position recorded inside wins
            self.ranges[id(node)] = (line, column, self.line, self.column)

    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


class Positions:
    """`PositionProvider`'s ranges, computed one top-level statement at a time.

    A top-level statement starts at column 0 of a line, unindented, so generating its code
    from that line places its nodes exactly where generating the whole module would. The line
    is counted from the code of the statements on the shorter side of it (plain code
    generation), as the module's code is the file's text."""

    def __init__(self, module: cst.Module, text: str, top: Callable[[cst.CSTNode], cst.CSTNode | None]) -> None:
        self.module = module
        self.text = text
        self.top = top  # the top-level statement holding a node (None: the module, header, footer)
        self.ranges: dict[int, Range] = {}
        self._breaks: dict[int, int] = {}  # id(top-level node) -> line breaks in its code
        self._placed: set[int] = set()

    def __getitem__(self, node: cst.CSTNode) -> Range:
        """The range of `node`; KeyError for a node not in the module."""
        found = self.ranges.get(id(node))
        if found is None:
            statement = self.top(node)
            if statement is None or id(statement) in self._placed:
                self._place(self.module, 1)
                self._placed.update(id(s) for s in self.module.body)
            else:
                self._place(statement, self._first_line(statement))
                self._placed.add(id(statement))
            found = self.ranges[id(node)]
        return found

    def _place(self, node: cst.CSTNode, line: int) -> None:
        state = _PositionState(self.module, line)
        node._codegen(state)
        self.ranges.update(state.ranges)

    def _first_line(self, statement: cst.CSTNode) -> int:
        module = self.module
        body = module.body
        at = next(i for i, s in enumerate(body) if s is statement)
        if at <= len(body) // 2:
            return 1 + sum(self._count(n) for n in (*module.header, *body[:at]))
        # The module's code generation ends with a line break it drops when the file has none.
        total = len(_NEWLINE.findall(self.text)) + (0 if module.has_trailing_newline else 1)
        return 1 + total - sum(self._count(n) for n in (*body[at:], *module.footer))

    def _count(self, node: cst.CSTNode) -> int:
        found = self._breaks.get(id(node))
        if found is None:
            state = CodegenState(default_indent=self.module.default_indent, default_newline=self.module.default_newline)
            node._codegen(state)
            found = self._breaks[id(node)] = sum(
                len(_NEWLINE.findall(t)) for t in state.tokens if "\n" in t or "\r" in t
            )
        return found

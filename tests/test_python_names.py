"""`PythonModule` reads the tree, resolves names and places nodes without libcst's metadata
providers (python_tree, python_names): these tests hold the answers to libcst's own, node for
node, on every Python fixture and on a module of scoping corner cases."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst._metadata_dependent import LazyValue
from libcst.metadata import Assignment, MetadataWrapper, PositionProvider, QualifiedNameProvider, ScopeProvider

from mcp_migrate.lang.python import PythonModule
from mcp_migrate.lang.python_tree import TRIVIA

FIXTURES = Path(__file__).parent / "fixtures"

CORNERS = '''\
"""Scoping corner cases: libcst's answer is the reference, quirks included."""
import os.path
import a.b.c
import a.b as ab
from . import rel
from .pkg import thing as other
from typing import TypeVar, NewType, cast, Literal
from mcp.server.fastmcp import FastMCP
import mcp.types

mcp = FastMCP("x")
mcp.types.Tool
mcp.run()
os.path.join(a.b.c.d, a.b.x, ab.y, (a.b)[0].c, a.b().c)
T = TypeVar(os.name, bound=int)
U = NewType(mcp, int)
V = cast("int", mcp)
W: Literal["a"] = "a"
print(x)
x = 1
x += 1
del x

def f(p=x, *args, q: "int" = mcp, **kw) -> mcp:
    global mcp
    mcp = 2
    y = mcp
    def g():
        nonlocal y
        y = 3
        return y + p
    return g

@mcp.tool()
async def h(ctx):
    async for i in ctx:
        print(i)
    async with ctx as (c1, *c2):
        print(c1, c2)
    [z := 1 for _ in range(3)]
    print(z)

class K(Base, metaclass=Meta):
    attr = 1
    other = attr + 1
    lst = [attr for _ in range(2)]
    def m(self):
        print(attr)
        attr = 2
        return attr
    class Inner:
        v = attr

class C[T: int, *Ts, **P]:
    def meth[S](self, x: S) -> T: ...

type Alias[K] = dict[K, C]

lam = lambda a, b=mcp: a + b + lam
gen = (i for i in range(i) for j in i if j)
d = {k: v for k, v in d.items()}
for q in q:
    pass
try:
    pass
except ValueError as err:
    print(err)
match mcp:
    case [first, *rest]:
        print(first, rest)
    case {"k": val, **others}:
        print(val)
    case K(attr=aa) as whole:
        print(aa, whole)
with open(os.path) as fh, fh as fh2:
    fh.read()
def shadow(FastMCP):
    return FastMCP()
def late():
    return later_name
later_name = 1
while (n := 10) > 0:
    n -= 1
(a1, (b1, c1)), d1 = 1
a2 = b2 = 3
f"{x!r:{later_name}}"
FastMCP = None
if __name__ == "__main__":
    mcp.run(transport="streamable-http")
# a footer comment, and no line break at the end'''


class _Collector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []
        self.parents: dict[int, cst.CSTNode] = {}
        self._stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        if self._stack:
            self.parents[id(node)] = self._stack[-1]
        self._stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()


def _sources() -> list[tuple[str, str]]:
    found = [("corners", CORNERS), ("corners-crlf", CORNERS.replace("\n", "\r\n") + "\r\n")]
    found += [(str(p.relative_to(FIXTURES)), p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.rglob("*.py"))]
    return found


@pytest.mark.parametrize(("name", "source"), _sources(), ids=[name for name, _ in _sources()])
def test_same_answers_as_libcst_metadata(name: str, source: str) -> None:
    module = PythonModule(source)
    wrapper = MetadataWrapper(module.tree, unsafe_skip_copy=True)
    collector = _Collector()
    module.tree.visit(collector)
    nodes = collector.nodes
    structural = [n for n in nodes if type(n) not in TRIVIA]
    assert all(type(n) in TRIVIA for n in nodes if type(collector.parents.get(id(n))) in TRIVIA)

    # traversal: the same nodes (trivia left out), in the same order, with the same parents
    assert sorted(module._index.order, key=module._index.order.__getitem__) == [id(n) for n in structural]
    kept = {id(n) for n in structural}
    theirs = {k: id(v) for k, v in collector.parents.items() if k in kept}
    assert {k: id(v) for k, v in module._index.parents.items()} == theirs

    scopes = wrapper.resolve(ScopeProvider)
    qualified = wrapper.resolve(QualifiedNameProvider)
    positions = wrapper.resolve(PositionProvider)
    for node in reversed(nodes):  # positions asked out of order, statement by statement
        start, end = positions[node].start, positions[node].end
        assert module._range(node) == (start.line, start.column, end.line, end.column)
    for node in nodes:
        # who reads a binding
        scope = scopes.get(node)
        if isinstance(node, (cst.Name, cst.FunctionDef, cst.ClassDef)) and scope is not None:
            bound = node.value if isinstance(node, cst.Name) else node.name.value
            theirs = {
                id(ref.node)
                for a in scope.assignments[bound]
                if isinstance(a, Assignment) and a.node is node
                for ref in a.references
                if isinstance(ref.node, cst.Name)
            }
            assert {id(n) for n in module.references(node)} == theirs
        # what a read refers to
        if isinstance(node, cst.Name):
            access = next((a for a in scope.accesses[node] if a.node is node), None) if scope is not None else None
            mine = module._names.referents(node)
            if access is None:
                assert mine is None
            else:
                assert mine is not None
                assert {id(b.node) if b.node is not None else b.name for b in mine} == {
                    id(r.node) if isinstance(r, Assignment) else r.name for r in access.referents
                }
        # qualified names (names inside string annotations are not followed: see python_names)
        if not isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = qualified.get(node, ())
            if isinstance(value, LazyValue):
                value = value()
            assert module._names.qualified_names(node) == {q.name for q in value}


@pytest.mark.parametrize("source", ["x = 1\n", "def broken(:\n"])
def test_nodes_built_outside_the_parser_are_still_validated(source: str) -> None:
    """Parsing skips libcst's per-node validation; everything else (fixes) keeps it."""
    import contextlib

    from mcp_migrate.errors import ParseError

    with contextlib.suppress(ParseError):
        PythonModule(source)
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")

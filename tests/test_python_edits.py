"""Property test for argument-list edits: any layout, any removal, the result parses and says
exactly what was asked, and the code around the call is untouched."""

from __future__ import annotations

import libcst as cst
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_migrate.edits import apply_edits
from mcp_migrate.lang.python import PythonModule, edit_arguments

SEPARATORS = [", ", ",", ",\n    ", ",  # note\n    ", ",\n\n    ", ",\n        "]


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, list[str], set[int], bool]:
    count = draw(st.integers(min_value=0, max_value=6))
    names = [f"k{i}" for i in range(count)]
    items = ['"name"'] + [f"{n}={draw(st.sampled_from(['1', 'None', 'x.y', '[1, 2]', 'f(a, b=2)']))}" for n in names]
    opening = draw(st.sampled_from(["", "\n    ", "  # open\n    "]))
    body = items[0]
    for item in items[1:]:
        body += draw(st.sampled_from(SEPARATORS)) + item
    closing = draw(st.sampled_from(["", ",", "\n", ",\n", ",  # last\n", " "]))
    if "\n" in body + opening and not closing.endswith("\n"):
        closing += "\n"
    source = f"before = 1\nserver = Server({opening}{body}{closing})\nafter = 2\n"
    removed = draw(st.sets(st.integers(min_value=1, max_value=count), max_size=count)) if count else set()
    return source, items, removed, draw(st.booleans())


@settings(max_examples=200, deadline=None)
@given(calls())
def test_edit_arguments_keeps_code_valid_and_exact(case: tuple[str, list[str], set[int], bool]) -> None:
    source, items, removed, append = case
    module = PythonModule(source)
    call = next(module.walk(cst.Call))
    args = list(call.args)
    edits = edit_arguments(
        module, call, remove=[args[i] for i in removed], append=["stateless_http=True"] if append else []
    )
    fixed = apply_edits(source, edits)
    tree = cst.parse_module(fixed)  # must parse
    new_call = next(PythonModule(fixed).walk(cst.Call))
    got = [cst.Module([]).code_for_node(a.value) if a.keyword is None else a.keyword.value for a in new_call.args]
    want = ['"name"'] + [items[i].split("=")[0] for i in range(1, len(items)) if i not in removed]
    want += ["stateless_http"] if append else []
    assert got == want, fixed
    assert fixed.startswith("before = 1\nserver = Server(")
    assert fixed.endswith(")\nafter = 2\n")
    assert tree.code == fixed

"""MCP201-MCP205 for Python: what the snapshot fixtures cannot say on their own.

Every Python fixture of these rules marks each line it expects a finding on with
`# expect: MCP201` (several codes: `# expect: MCP205, MCP205`), written when the case was
designed. The markers are checked against the reviewed snapshots, so precision and recall over
the fixture set are measured, not assumed. The rest: test files, helper depth, scope discovery,
what silences a finding and why, and the per-file migration summary of the text report.
"""

from __future__ import annotations

import json
from pathlib import Path

import libcst as cst
import pytest
from conftest import Run, write
from support import expectations

from mcp_migrate.lang.python import PythonModule
from mcp_migrate.sdk.python_handlers import HELPER_DEPTH, context_path, request_scopes

FIXTURES = Path(__file__).parent / "fixtures"
STATE_CODES = ("MCP201", "MCP202", "MCP203", "MCP204", "MCP205")


def _python_cases() -> list[Path]:
    return sorted(p.parent for code in STATE_CODES for p in (FIXTURES / code).glob("*/input.py"))


@pytest.mark.parametrize("case", _python_cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_snapshot_matches_the_designed_expectations(case: Path) -> None:
    expected, reported = expectations.expected(case), expectations.reported(case, STATE_CODES)
    assert not reported - expected, f"false positives {sorted(reported - expected)}"
    assert not expected - reported, f"misses {sorted(expected - reported)}"
    if case.name.startswith("ok_"):
        assert not expected, "a negative case expects nothing"


def test_precision_and_recall_over_the_fixture_set() -> None:
    true_positives, false_positives, misses = expectations.score(_python_cases(), STATE_CODES)
    assert true_positives >= 80  # the set is not trivially small
    assert true_positives / (true_positives + false_positives) == 1.0
    assert true_positives / (true_positives + misses) == 1.0
    every_rule = {code for case in _python_cases() for _, code in expectations.expected(case)}
    assert every_rule == set(STATE_CODES)


# -- test code is skipped ---------------------------------------------------------------------
REMEMBER = FIXTURES / "MCP201" / "v1_remember_fact_by_session" / "input.py"


def _codes(run: Run, *paths: str) -> dict[str, list[str]]:
    code, out, err = run("check", "--format", "json", "--no-progress", "--select", "MCP2", *paths)
    assert code in (0, 1), err
    found: dict[str, list[str]] = {}
    for finding in json.loads(out)["findings"]:
        found.setdefault(Path(finding["path"]).name, []).append(finding["code"])
    return found


@pytest.mark.usefixtures("workdir")
@pytest.mark.parametrize("name", ["test_server.py", "server_test.py", "conftest.py", "tests/test_memory.py"])
def test_test_files_are_silent(run: Run, name: str) -> None:
    text = REMEMBER.read_text(encoding="utf-8")
    write("server.py", text)
    write(name, text)
    found = _codes(run, ".")
    assert found.get("server.py", []).count("MCP201") == 7
    assert Path(name).name not in found


@pytest.mark.usefixtures("workdir")
def test_a_tests_folder_alone_does_not_make_test_code(run: Run) -> None:
    write("tests/fixtures/server.py", REMEMBER.read_text(encoding="utf-8"))
    assert _codes(run, ".").get("server.py", []).count("MCP201") == 7


# -- scopes -------------------------------------------------------------------------------------
def _chain(depth: int) -> str:
    """A tool that passes its context down `depth` helpers; each reads `ctx.session_id`."""
    lines = ["from fastmcp import Context, FastMCP", "", 'mcp = FastMCP("deep")', ""]
    for level in range(1, depth + 1):
        call = f"    helper{level + 1}(c)\n" if level < depth else ""
        lines.append(f"def helper{level}(c):\n    print(c.session_id)\n{call}")
    lines.append("@mcp.tool\ndef tool(ctx: Context) -> str:\n    helper1(ctx)\n    return 'ok'\n")
    return "\n".join(lines)


def test_helpers_are_followed_to_the_configured_depth() -> None:
    module = PythonModule(_chain(HELPER_DEPTH + 1))
    scopes = {s.name: s for s in request_scopes(module)}
    assert scopes["tool"].kind == "tool"
    for level in range(1, HELPER_DEPTH + 1):
        helper = scopes[f"helper{level}"]
        assert (helper.kind, helper.via, helper.paths) == ("helper", "tool `tool`", {"c": ()})
    assert f"helper{HELPER_DEPTH + 1}" not in scopes


@pytest.mark.usefixtures("workdir")
def test_helper_findings_stop_at_the_depth_limit(run: Run) -> None:
    path = write("deep.py", _chain(HELPER_DEPTH + 1))
    code, out, _ = run("check", "--format", "json", "--no-progress", "--select", "MCP201", str(path))
    lines = sorted(f["line"] for f in json.loads(out)["findings"])
    text = path.read_text(encoding="utf-8").splitlines()
    assert code == 1
    assert [text[n - 1].strip() for n in lines] == ["print(c.session_id)"] * HELPER_DEPTH
    assert all("(called by tool `tool`)" in f["message"] for f in json.loads(out)["findings"])


REGISTRATIONS = """
from typing import Optional

from fastmcp import FastMCP
from mcp.server import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import Context, MCPServer
from myapp.context import Context as AppContext

v2 = MCPServer("a")
fm = FastMCP("b")
legacy = Server("c")


@v2.tool()
def decorated(x: int, c: Context) -> None: ...


@fm.tool
def bare(context) -> None: ...


def added(ctx: Context | None = None) -> None: ...


def called(ctx: Optional[Context] = None) -> None: ...


def curried(ctx: "Context") -> None: ...


@v2.resource("r://x")
def lookalike(ctx: AppContext) -> None: ...


@legacy.call_tool()
async def v1_lowlevel(name: str, arguments: dict) -> list: ...


async def v2_lowlevel(request_ctx, params) -> None: ...


async def v2_typed(rc: ServerRequestContext, params) -> None: ...


def utility(ctx: Context) -> None: ...


def unrelated(context: dict) -> None: ...


v2.add_tool(added)
fm.tool(called)
v2.prompt()(curried)
modern = Server("d", on_call_tool=v2_lowlevel, on_list_tools=v2_typed)
"""


def test_registrations_and_context_parameters() -> None:
    found = {s.name: (s.kind, s.paths) for s in request_scopes(PythonModule(REGISTRATIONS))}
    assert found == {
        "decorated": ("tool", {"c": ()}),
        "bare": ("tool", {"context": ()}),
        "added": ("tool", {"ctx": ()}),
        "called": ("tool", {"ctx": ()}),
        "curried": ("prompt", {}),  # a string annotation is not followed
        "lookalike": ("resource", {}),  # typed, but not the SDK's Context
        "v1_lowlevel": ("tool", {}),  # context through `legacy.request_context`
        "v2_lowlevel": ("tool", {"request_ctx": ()}),
        "v2_typed": ("handler", {"rc": ()}),
        "utility": ("function", {"ctx": ()}),  # takes the SDK's Context: runs in some request
    }


def test_context_paths_fold_request_context() -> None:
    source = """
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import Context, MCPServer

mcp = MCPServer("x")
low = Server("y")


@mcp.tool()
async def tool(ctx: Context) -> None:
    s = ctx.request_context.session
    a = ctx.session.create_message
    b = s.create_message
    c = ctx.request_context.lifespan_context


@low.call_tool()
async def call(name: str, arguments: dict) -> None:
    d = low.request_context.session.create_message
"""
    module = PythonModule(source)
    paths = {}
    for scope in request_scopes(module):
        for assign in module.walk(cst.Assign):
            target = assign.targets[0].target
            if isinstance(target, cst.Name) and target.value in "abcd" and context_path(module, scope, assign.value):
                paths[target.value] = context_path(module, scope, assign.value)
    assert paths == {
        "a": ("session", "create_message"),
        "b": ("session", "create_message"),
        "c": ("lifespan_context",),
        "d": ("session", "create_message"),
    }


# -- what silences a finding, and why ----------------------------------------------------------
MIDDLEWARE = FIXTURES / "MCP201" / "ok_fastmcp_middleware_state" / "input.py"


@pytest.mark.usefixtures("workdir")
def test_state_is_silent_because_the_middleware_rebuilds_it(run: Run) -> None:
    text = MIDDLEWARE.read_text(encoding="utf-8")
    without = text.replace("mcp.add_middleware(TenantMiddleware())\n", "").replace(
        "class TenantMiddleware(Middleware):", "class TenantMiddleware:"
    )
    write("with_middleware.py", text)
    write("without_middleware.py", without)
    found = _codes(run, ".")
    assert "with_middleware.py" not in found
    # the two reads of `tenant`; `dsn` and `scratch` are only ever set request-scoped
    assert found["without_middleware.py"] == ["MCP201"] * 2


@pytest.mark.usefixtures("workdir")
def test_process_state_is_silent_only_while_every_serve_is_stdio(run: Run) -> None:
    text = (FIXTURES / "MCP202" / "ok_stdio_only" / "input.py").read_text(encoding="utf-8")
    write("stdio.py", text)
    write("http.py", text.replace("mcp.run()", 'mcp.run(transport="streamable-http")'))
    write("both.py", text.replace("mcp.run()", 'mcp.run()\n    mcp.run(transport="sse")'))
    write("elsewhere.py", text.replace("    mcp.run()", "    pass"))  # served by another module
    found = _codes(run, ".")
    assert "stdio.py" not in found
    assert found["http.py"] == found["both.py"] == found["elsewhere.py"] == ["MCP202"] * 2


@pytest.mark.usefixtures("workdir")
def test_session_keyed_module_state_is_one_finding_not_two(run: Run) -> None:
    path = write(
        "memory.py",
        "from mcp.server.fastmcp import Context, FastMCP\n"
        'mcp = FastMCP("m", stateless_http=True)\n'
        "notes: dict = {}\n"
        "@mcp.tool()\n"
        "def remember(fact: str, ctx: Context) -> None:\n"
        "    key = id(ctx.session)\n"
        "    notes.setdefault(key, []).append(fact)\n"
        "    notes[f'{key}:last'] = fact\n"
        "@mcp.tool()\n"
        "def share(fact: str) -> None:\n"
        "    notes['shared'] = fact\n",
    )
    code, out, _ = run("check", "--format", "json", "--no-progress", "--select", "MCP2", str(path))
    found = [(f["line"], f["code"]) for f in json.loads(out)["findings"]]
    assert code == 1
    assert found == [(6, "MCP201"), (11, "MCP202")]


@pytest.mark.usefixtures("workdir")
def test_inline_suppression(run: Run) -> None:
    text = REMEMBER.read_text(encoding="utf-8").replace(
        "    return facts.get(id(ctx.session), [])  # expect: MCP201",
        "    return facts.get(id(ctx.session), [])  # mcp-migrate: ignore[MCP201]",
    )
    write("server.py", text)
    assert _codes(run, ".")["server.py"] == ["MCP201"] * 6


# -- the text report ----------------------------------------------------------------------------
@pytest.mark.usefixtures("workdir")
def test_migration_summary_per_file(run: Run) -> None:
    write("a_memory.py", REMEMBER.read_text(encoding="utf-8"))
    write("b_plugins.py", (FIXTURES / "MCP204" / "v1_list_changed_in_tools" / "input.py").read_text("utf-8"))
    write("c_pings.py", (FIXTURES / "MCP205" / "fastmcp_keepalive_pings" / "input.py").read_text("utf-8"))
    write("d_clean.py", MIDDLEWARE.read_text(encoding="utf-8"))
    code, out, _ = run("check", "--no-progress", ".")
    assert code == 1
    summary = out[out.index("Migration summary:") :].splitlines()
    assert summary[:4] == [
        "Migration summary:",
        "  a_memory.py: blocks a stateless deploy: MCP201 x7",
        "  b_plugins.py: blocks a stateless deploy: MCP202; advisory: MCP204 x3",
        "  c_pings.py: advisory: MCP205 x2",
    ]
    assert "d_clean.py" not in out
    assert out.rstrip().endswith("Found 13 findings.")

"""MCP201-MCP205 for TypeScript/JavaScript: what the snapshot fixtures cannot say on their own.

Every `ts_*` fixture of these rules marks each line it expects a finding on with
`// expect: MCP201` (several: `// expect: MCP201, MCP203`), written when the case was designed;
the markers are checked against the reviewed snapshots, so precision and recall over the fixture
set are measured, not assumed. The rest: test files, how the context parameter is found, helper
depth, and the handler named in messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Run, write
from support import expectations

from mcp_migrate.lang.typescript import TsModule
from mcp_migrate.sdk import typescript_handlers
from mcp_migrate.sdk.typescript_handlers import request_scopes

FIXTURES = Path(__file__).parent / "fixtures"
STATE_CODES = ("MCP201", "MCP202", "MCP203", "MCP204", "MCP205")


def _ts_cases() -> list[Path]:
    return sorted(p.parent for code in STATE_CODES for p in (FIXTURES / code).glob("ts_*/input.*"))


@pytest.mark.parametrize("case", _ts_cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_snapshot_matches_the_designed_expectations(case: Path) -> None:
    expected, reported = expectations.expected(case), expectations.reported(case, STATE_CODES)
    assert not reported - expected, f"false positives {sorted(reported - expected)}"
    assert not expected - reported, f"misses {sorted(expected - reported)}"
    if case.name.startswith("ts_ok_"):
        assert not expected, "a negative case expects nothing"


def test_precision_and_recall_over_the_fixture_set() -> None:
    true_positives, false_positives, misses = expectations.score(_ts_cases(), STATE_CODES)
    assert true_positives >= 60  # the set is not trivially small
    assert true_positives / (true_positives + false_positives) == 1.0
    assert true_positives / (true_positives + misses) == 1.0
    for code in STATE_CODES:  # each rule has positives and negatives of its own
        cases = sorted((FIXTURES / code).glob("ts_*"))
        assert any(c.name.startswith("ts_ok_") for c in cases), code
        assert sum(1 for c in cases if not c.name.startswith("ts_ok_")) >= 3, code


# -- test code is skipped ---------------------------------------------------------------------
BOOKING = FIXTURES / "MCP201" / "ts_elicitation_per_session" / "input.ts"


def _codes(run: Run, *paths: str) -> dict[str, list[str]]:
    code, out, err = run("check", "--format", "json", "--no-progress", "--select", "MCP2", *paths)
    assert code in (0, 1), err
    found: dict[str, list[str]] = {}
    for finding in json.loads(out)["findings"]:
        found.setdefault(Path(finding["path"]).as_posix(), []).append(finding["code"])
    return found


@pytest.mark.usefixtures("workdir")
@pytest.mark.parametrize("name", ["server.test.ts", "server.spec.mjs", "src/__tests__/server.ts"])
def test_test_files_are_silent(run: Run, name: str) -> None:
    text = BOOKING.read_text(encoding="utf-8")
    write("server.ts", text)
    write(name, text)
    found = _codes(run, ".")
    assert sorted(found["server.ts"]) == ["MCP201", "MCP201", "MCP203"]
    assert name not in found


# -- the context parameter --------------------------------------------------------------------
HEADER = """import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
const server = new McpServer({ name: "t", version: "1" });
const low = new Server({ name: "t", version: "1" }, { capabilities: {} });
declare const config: { description: string };
"""


@pytest.mark.parametrize(
    ("registration", "context"),
    [
        # no input schema: the SDK calls `(extra)`, whatever it is named
        ('server.registerTool("a", { description: "d" }, async (meta) => meta)', {"meta": ()}),
        ('server.tool("a", async (m) => m)', {"m": ()}),
        ('server.tool("a", "description", async (m) => m)', {"m": ()}),
        ('server.tool("a", { readOnlyHint: true }, async (m) => m)', {"m": ()}),
        ('server.registerPrompt("p", { description: "d" }, (m) => m)', {"m": ()}),
        # a schema: `(args, extra)`; a lone parameter is the arguments
        ('server.registerTool("a", { inputSchema: { x: z.string() } }, async ({ x }, m) => m)', {"m": ()}),
        ('server.tool("a", { sessionId: z.string() }, async ({ sessionId }) => sessionId)', {}),
        ('server.prompt("p", { topic: z.string() }, ({ topic }, m) => m)', {"m": ()}),
        # options the file does not show: only the SDK's two-parameter shape says it
        ('server.registerTool("a", { ...config }, async (x) => x)', {}),
        ('server.registerTool("a", { ...config }, async (x, m) => m)', {"m": ()}),
        # resources: `(uri, extra)`, templates `(uri, variables, extra)`
        ('server.resource("r", "r://x", async (uri, m) => m)', {"m": ()}),
        (
            'server.resource("r", new ResourceTemplate("r://{id}", { list: undefined }), async (u, v, m) => m)',
            {"m": ()},
        ),
        # low level: `(request, extra)`; a name or type wins over the position
        ("low.setRequestHandler(CallToolRequestSchema, async (request, m) => m)", {"m": ()}),
        ('server.registerTool("a", { description: "d" }, async (extra) => extra)', {"extra": ()}),
        # destructured, and aliases of what it holds
        (
            'server.registerTool("a", { description: "d" }, async ({ sessionId, requestInfo: info }) => info)',
            {"sessionId": ("sessionId",), "info": ("requestInfo",)},
        ),
    ],
)
def test_the_context_parameter_follows_the_sdk_calling_convention(
    registration: str, context: dict[str, tuple[str, ...]]
) -> None:
    [scope] = request_scopes(TsModule(HEADER + registration + ";\n"))
    assert scope.context == context


def test_locals_taken_from_the_context_are_followed() -> None:
    module = TsModule(
        HEADER
        + 'server.registerTool("a", { description: "d" }, async (extra) => {\n'
        + "  const e = extra;\n  const sid = e.sessionId;\n  const { requestInfo } = e;\n"
        + "  const headers = requestInfo?.headers;\n  return { content: [] };\n});\n"
    )
    [scope] = request_scopes(module)
    assert scope.context == {
        "extra": (),
        "e": (),
        "sid": ("sessionId",),
        "requestInfo": ("requestInfo",),
        "headers": ("requestInfo", "headers"),
    }


def _chain(depth: int) -> str:
    """A tool that passes its context down `depth` helpers, each typed only structurally."""
    lines = [HEADER]
    for level in range(1, depth + 1):
        call = f"  helper{level + 1}(c);\n" if level < depth else ""
        lines.append(f"function helper{level}(c: {{ sessionId?: string }}): void {{\n  void c.sessionId;\n{call}}}\n")
    lines.append('server.registerTool("deep", { description: "d" }, async (extra) => {\n  helper1(extra);\n')
    lines.append("  return { content: [] };\n});\n")
    return "".join(lines)


def test_helpers_are_followed_to_the_configured_depth() -> None:
    depth = typescript_handlers._HELPER_DEPTH
    scopes = {s.label: s for s in request_scopes(TsModule(_chain(depth + 1)))}
    assert scopes["tool `deep`"].kind == "tool"
    for level in range(1, depth + 1):
        helper = scopes[f"`helper{level}` (called by tool `deep`)"]
        assert (helper.kind, helper.via, helper.context) == ("helper", "tool `deep`", {"c": ()})
    assert f"`helper{depth + 1}` (called by tool `deep`)" not in scopes


# -- messages ---------------------------------------------------------------------------------
@pytest.mark.usefixtures("workdir")
def test_messages_name_the_handler_the_write_runs_in(run: Run) -> None:
    for case in ("MCP201/ts_register_tools_helper", "MCP202/ts_low_level_subscriptions"):
        write(Path(case).name + ".ts", (FIXTURES / case / "input.ts").read_text(encoding="utf-8"))
    code, out, _ = run("check", "--format", "json", "--no-progress", "--select", "MCP2", ".")
    messages = [f["message"] for f in json.loads(out)["findings"]]
    assert code == 1
    assert any(m.startswith("`sessionPart` (called by tool `track_visit`) reads `info.sessionId`") for m in messages)
    written = "module-level `subscriptions` is written by the `resources/subscribe` handler (and 1 more)"
    assert any(m.startswith(written) for m in messages)

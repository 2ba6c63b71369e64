"""MCP105 (TypeScript session routing): what the fixtures cannot say on their own.

- Every rewritten fixture is a working stateless server: nothing routes by session any more,
  no transport mints ids, one server and one transport per request closed with the response,
  GET/DELETE answered 405; and the rewrite only touches routing code and what it frees.
- Shapes the rewrite cannot cover with certainty are refused whole, with the reason.
- Header reads and "no valid session" answers are told apart from look-alikes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mcp_migrate.edits import apply_edits
from mcp_migrate.lang.typescript import Node, TsModule, dialect_of
from mcp_migrate.model import Edit, FixSafety
from mcp_migrate.rules._typescript import header_reads, session_routing, transports
from mcp_migrate.rules.mcp105_session_routing._rewrite import rewrite
from mcp_migrate.rules.mcp105_session_routing.typescript import check

FIXTURES = Path(__file__).parent / "fixtures" / "MCP105"
REWRITTEN = sorted(p.parent for p in FIXTURES.glob("*/expected.unsafe.*"))


def _module(text: str, suffix: str = ".ts") -> TsModule:
    return TsModule(text, path=None, dialect=dialect_of(Path("x" + suffix)))


def _fixture(case: Path) -> TsModule:
    source = next(case.glob("input.*"))
    return TsModule(source.read_text("utf-8"), path=source, dialect=dialect_of(source))


# -- the rewritten fixtures -------------------------------------------------------------------
def test_rewritten_cases_exist() -> None:
    assert {p.name for p in REWRITTEN} >= {
        "express_canonical",
        "express_map",
        "node_http_single_handler",
        "sdk_example_try_block",
    }


@pytest.mark.parametrize("case", REWRITTEN, ids=lambda p: p.name)
def test_fixed_server_is_stateless(case: Path) -> None:
    expected = next(case.glob("expected.unsafe.*"))
    text = expected.read_text("utf-8")
    after = TsModule(text, path=expected, dialect=dialect_of(expected))
    assert session_routing(after) == []
    assert [t for t in transports(after) if t.stateful] == []
    assert text.count("sessionIdGenerator: undefined") == 1
    assert "405" in text and "Method not allowed." in text
    if "WebStandardStreamableHTTPServerTransport" in text:
        # fetch-style: the transport's Response is the answer; nothing outlives it
        assert "return transport.handleRequest(" in text and ".on('close'" not in text.replace('"', "'")
        return
    assert ".on('close', () => {" in text.replace('"', "'")
    # both the transport and the server made for the request are closed with it
    close = text.replace('"', "'").split(".on('close', () => {", 1)[1].split("});", 1)[0]
    assert close.count(".close();") == 2, close


_FREEABLE = ("lexical_declaration", "interface_declaration", "type_alias_declaration", "function_declaration")


@pytest.mark.parametrize("case", REWRITTEN, ids=lambda p: p.name)
def test_rewrite_only_touches_routing_code(case: Path) -> None:
    """Every edit lies in a routing function, an import, or a module-level declaration the
    rewrite leaves unused: the rest of the file is byte-identical."""
    module = _fixture(case)
    edits, reason = rewrite(module)
    assert edits, reason
    allowed: list[Node] = [r.function for r in session_routing(module) if r.function is not None]
    allowed += module.walk("import_statement")
    allowed += [s for s in module.root.named_children if s.type in _FREEABLE]
    local = [
        s for s in module.walk("lexical_declaration") if s.parent is not None and s.parent.type == "statement_block"
    ]
    allowed += local
    # loops and calls that walk a session map nothing fills any more (shutdown code)
    walks = module.walk("for_in_statement")
    walks += [s for s in module.walk("expression_statement") if re.search(r"\.(clear|forEach)\(", module.source(s))]
    allowed += walks + module.walk("comment")  # comment lines go with what they describe
    registrations = {module.end(s) for s in module.walk("expression_statement") if "(" in module.source(s)}
    functions = allowed[: len(allowed) - len(module.walk("import_statement"))]

    def within(edit: Edit, node: Node) -> bool:  # give or take the blank space around it
        start, end = module.start(node), module.end(node)
        outside = module.text[edit.start : max(edit.start, start)] + module.text[min(edit.end, end) : edit.end]
        return edit.start < end and edit.end > start - 1 and not outside.strip()

    for edit in edits:
        if edit.start == edit.end and edit.start in registrations:  # a 405 route added after the POST one
            assert ".get(" in edit.text or ".delete(" in edit.text, edit
            continue
        covered = {i for n in allowed for i in range(module.start(n), module.end(n))}
        touched = {i for i in range(edit.start, edit.end) if not module.text[i].isspace()}
        assert any(within(edit, n) for n in allowed) or touched <= covered, edit
        if edit.start == edit.end or any(
            module.lines.line_start(module.start(f)) <= edit.start < module.end(f)
            for f in functions + walks + local + module.walk("comment")
        ):
            continue
        # outside the routing functions a module-level statement goes whole
        top = [s for s in module.root.named_children if module.start(s) <= edit.start < module.end(s)]
        assert top and edit.end >= module.end(top[0]), edit


@pytest.mark.parametrize("case", REWRITTEN, ids=lambda p: p.name)
def test_every_finding_carries_the_one_rewrite(case: Path) -> None:
    findings = list(check(_fixture(case)))
    assert findings
    fixes = {f.fix for f in findings}
    assert len(fixes) == 1 and None not in fixes
    assert all("not rewritten" not in f.message for f in findings)


REFUSED = {
    "class_map": None,  # rewritten: listed to make sure it stays that way
    "hono_header_lookup": None,  # fetch-style (Hono `app.all`): rewritten with a 405 guard
    "singleton_server": "which is not created per request",
    "sse_and_streamable_shared_map": "also filled outside the session routing",
}


@pytest.mark.parametrize("case", sorted(REFUSED), ids=str)
def test_refusals_name_their_reason(case: str) -> None:
    findings = [f for f in check(_fixture(FIXTURES / case))]
    reason = REFUSED[case]
    assert findings
    for finding in findings:
        if reason is None:
            assert finding.fix is not None
        else:
            assert finding.fix is None
            assert "(not rewritten: " in finding.message and reason in finding.message, finding.message


# -- shapes the rewrite must refuse -----------------------------------------------------------
HEADER = """import express from 'express';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

const getServer = () => new McpServer({ name: 't', version: '1.0.0' });
const transports: Record<string, StreamableHTTPServerTransport> = {};
const app = express();
"""

CANONICAL_IF = """    let transport: StreamableHTTPServerTransport;
    if (sessionId && transports[sessionId]) {
        transport = transports[sessionId];
    } else if (!sessionId && isInitializeRequest(req.body)) {
        transport = new StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (id) => {
                transports[id] = transport;
            }
        });
        CREATE_EXTRA
        await getServer().connect(transport);
    } else {
        res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'No valid session ID' }, id: null });
        return;
    }
"""


def _server(before: str = "", create_extra: str = "", after: str = "", tail: str = "") -> str:
    body = (
        "    const sessionId = req.headers['mcp-session-id'] as string | undefined;\n"
        + before
        + CANONICAL_IF.replace("CREATE_EXTRA", create_extra)
        + "    await transport.handleRequest(req, res, req.body);\n"
        + after
    )
    return HEADER + "app.post('/mcp', async (req, res) => {\n" + body + "});\n" + tail


def _reason(text: str) -> str | None:
    return rewrite(_module(text))[1]


def test_canonical_template_is_rewritten() -> None:
    text = _server()
    edits, reason = rewrite(_module(text))
    assert reason is None
    fixed = apply_edits(text, edits)
    for gone in ("sessionId", "transports", "randomUUID", "isInitializeRequest", "mcp-session-id"):
        assert not re.search(rf"\b{gone}\b", fixed), gone


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (  # a guard before the routing `if` answers 400 to every request without a session
            _server(
                before="    if (!sessionId && !isInitializeRequest(req.body)) {\n"
                "        res.status(400).send('Bad Request: No valid session ID provided');\n"
                "        return;\n    }\n"
            ),
            "is outside the code the rewrite replaces",
        ),
        (  # the session is used again after the `if`
            _server(after="    console.log(transports[sessionId!]);\n"),
            "is outside the code the rewrite replaces",
        ),
        (  # the creating branch leaves early on its own, and does something else otherwise
            _server(create_extra="if (!req.body) { return; } else { audit(req.body); }"),
            "answers or leaves the request",
        ),
        (  # the creating branch hands the transport to something else
            _server(create_extra="register(transport);"),
            "also does `register(transport);`",
        ),
        (  # no server connected here: the transport is relayed to one held elsewhere (a Redis relay)
            _server().replace(
                "await getServer().connect(transport);", "transport.onclose = await relayToServer(transport);"
            ),
            "hands it to `relayToServer(...)`, a relay to a server held elsewhere",
        ),
        (  # a lookup in a helper the rewrite does not own
            _server(
                tail="export function transportFor(req: express.Request) {\n"
                "    return transports[req.headers['mcp-session-id'] as string];\n}\n"
            ),
            "not only a GET/DELETE route handler",
        ),
        (  # the reuse branch does more than reuse
            _server().replace(
                "transport = transports[sessionId];", "transport = transports[sessionId];\n        touch(sessionId);"
            ),
            "a branch of the session `if` also does `touch(sessionId);`",
        ),
        (  # two session-minting transports
            _server(tail="const other = new StreamableHTTPServerTransport({ sessionIdGenerator: () => 'x' });\n"),
            "2 transports in this file mint session ids",
        ),
        (  # options from a shared variable
            _server()
            .replace(
                "new StreamableHTTPServerTransport({\n            sessionIdGenerator: () => randomUUID(),",
                "new StreamableHTTPServerTransport({\n            ...base,",
            )
            .replace(
                "const app = express();",
                "const app = express();\nconst base = { sessionIdGenerator: () => randomUUID() };",
            ),
            "`sessionIdGenerator` comes from a spread",
        ),
        (  # a guard that answers something else than 400/404 still branches on the session id
            _server(
                before="    if (!sessionId && req.body?.method !== 'initialize') {\n        res.sendStatus(401);\n"
                "        return;\n    }\n"
            ),
            "still uses the session id outside the code the rewrite replaces",
        ),
        (  # an initialize check outside the routing `if` would turn every later request away
            _server(
                before="    if (!isInitializeRequest(req.body) && !req.headers.authorization) {\n"
                "        res.sendStatus(403);\n        return;\n    }\n"
            ),
            "checks for initialize requests outside the code the rewrite replaces",
        ),
    ],
    ids=[
        "guard-before",
        "lookup-after",
        "early-return",
        "transport-escapes",
        "relayed",
        "helper",
        "reuse-extra",
        "two",
        "spread",
        "guard-401",
        "initialize-check-left",
    ],
)
def test_uncertain_shapes_are_refused(text: str, reason: str) -> None:
    module = _module(text)
    assert session_routing(module), "the case must route by session"
    edits, why = rewrite(module)
    assert edits == ()
    assert why is not None and reason in why, why
    for finding in check(module):
        assert finding.fix is None and f"(not rewritten: {why})" in finding.message


# -- what the rewrite writes ------------------------------------------------------------------
def test_handler_registered_for_get_and_post_gets_a_method_guard() -> None:
    text = _server().replace(
        "app.post('/mcp', async (req, res) => {",
        "const handle = async (req: express.Request, res: express.Response) => {",
    )
    assert text.endswith("});\n")
    text = text[: -len("});\n")] + "};\napp.get('/mcp', handle);\napp.post('/mcp', handle);\n"
    edits, reason = rewrite(_module(text))
    assert reason is None
    fixed = apply_edits(text, edits)
    assert "    if (req.method !== 'POST') {\n        res.status(405)" in fixed


def test_post_only_handler_gets_no_guard() -> None:
    fixed = apply_edits(_server(), rewrite(_module(_server()))[0])
    assert "req.method" not in fixed


def test_server_name_does_not_shadow_one_in_use() -> None:
    text = _server(after="    console.log(server.listening);\n", tail="const server = app.listen(3000);\n")
    edits, reason = rewrite(_module(text))
    assert reason is None
    fixed = apply_edits(text, edits)
    assert "const mcpServer = getServer();" in fixed and "await mcpServer.connect(transport);" in fixed
    assert "console.log(server.listening);" in fixed


def test_kept_options_keep_their_comments_and_commas() -> None:
    text = _server().replace(
        "            sessionIdGenerator: () => randomUUID(),\n",
        "            // fresh id per client\n"
        "            sessionIdGenerator: () => randomUUID(),\n"
        "            eventStore: undefined, // resumability\n"
        "            // JSON instead of SSE\n"
        "            enableJsonResponse: true,\n",
    )
    fixed = apply_edits(text, rewrite(_module(text))[0])
    assert (
        "    const transport = new StreamableHTTPServerTransport({\n"
        "        sessionIdGenerator: undefined,\n"
        "        // JSON instead of SSE\n"
        "        enableJsonResponse: true\n"
        "    });\n"
    ) in fixed
    assert "fresh id" not in fixed and "resumability" not in fixed


def test_double_quotes_and_trailing_commas_follow_the_file() -> None:
    text = _server().replace("'", '"').replace("id: null });", "id: null, });")
    text = text.replace("transports[id] = transport;\n            }\n", "transports[id] = transport;\n            },\n")
    fixed = apply_edits(text, rewrite(_module(text))[0])
    assert 'res.on("close", () => {' in fixed


def test_node_http_response_gets_write_head() -> None:
    text = (
        "import { createServer } from 'node:http';\n"
        + HEADER.split("\n", 1)[1].replace("const app = express();\n", "")
        + "createServer(async (req, res) => {\n"
        "    const sessionId = req.headers['mcp-session-id'] as string | undefined;\n"
        + CANONICAL_IF.replace("CREATE_EXTRA", "")
        .replace("res.status(400).json(", "res.writeHead(400).end(JSON.stringify(")
        .replace("id: null });", "id: null }));")
        + "    await transport.handleRequest(req, res);\n"
        "}).listen(3000);\n"
    )
    fixed = apply_edits(text, rewrite(_module(text))[0])
    guard = "if (req.method !== 'POST') {\n        res.writeHead(405, "
    guard += "{ 'Content-Type': 'application/json', Allow: 'POST' })"
    assert guard in fixed
    assert _module(fixed) is not None


# -- what is and is not a session read --------------------------------------------------------
def test_response_headers_and_deletes_are_not_reads() -> None:
    module = _module(
        "app.post('/mcp', (req: any, res: any) => {\n"
        "    res.get('mcp-session-id');\n"
        "    res.getHeader('mcp-session-id');\n"
        "    delete req.headers['mcp-session-id'];\n"
        "    req.headers['mcp-session-id'] = 'x';\n"
        "    const a = req.headers['mcp-session-id'];\n"
        "    const b = req.header('Mcp-Session-Id');\n"
        "    const c = req.get('MCP-SESSION-ID');\n"
        "});\n"
        "const h = (c: any) => c.req.header('mcp-session-id');\n"
        "const f = (request: Request) => request.headers.get('mcp-session-id');\n"
        "server.setRequestHandler(S, async (request: any, extra: any) => {\n"
        "    return extra.requestInfo?.headers['mcp-session-id'];\n"
        "});\n"
    )
    reads = [module.source(r) for r in header_reads(module)]
    assert reads == [
        "req.headers['mcp-session-id']",
        "req.header('Mcp-Session-Id')",
        "req.get('MCP-SESSION-ID')",
        "c.req.header('mcp-session-id')",
        "request.headers.get('mcp-session-id')",
        "extra.requestInfo?.headers['mcp-session-id']",
    ]


def test_logged_session_text_is_not_a_rejection() -> None:
    module = _module(
        "app.post('/mcp', (req: any, res: any) => {\n"
        "    const sid = req.headers['mcp-session-id'];\n"
        "    console.warn(`Invalid session ID ${sid} ignored`);\n"
        "    logger.info('no valid session id');\n"
        "    res.json({});\n"
        "});\n"
    )
    assert session_routing(module) == []
    module = _module(
        "app.post('/mcp', (req: any, res: any) => {\n"
        "    if (!req.headers['mcp-session-id']) {\n"
        "        res.status(400).send('Bad Request: No valid session ID provided');\n"
        "    }\n"
        "});\n"
    )
    [routing] = session_routing(module)
    assert routing.rejects and not routing.lookups


def test_lookup_keyed_by_something_else_is_not_routing() -> None:
    module = _module(
        "const sessions: Record<string, number> = {};\n"
        "app.post('/mcp', (req: any, res: any) => {\n"
        "    const seen = req.headers['mcp-session-id'];\n"
        "    const user = req.header('x-user-id');\n"
        "    res.json({ n: sessions[user], seen });\n"
        "});\n"
        "app.post('/messages', (req: any, res: any) => {\n"
        "    const sessionId = req.query.sessionId as string;\n"
        "    res.json(sessions[sessionId]);\n"
        "});\n"
    )
    assert session_routing(module) == []


def test_session_id_followed_into_helpers_and_wrappers() -> None:
    module = _module(
        "class S {\n"
        "    private map = new Map<string, unknown>();\n"
        "    register(app: any) {\n"
        "        app.get('/mcp', (req: any, res: any) => this.stream(req, res));\n"
        "    }\n"
        "    private lookup(id: string) { return this.map.get(id); }\n"
        "    private stream(req: any, res: any) {\n"
        "        const sid = req.headers['mcp-session-id'];\n"
        "        res.json(this.lookup(sid));\n"
        "    }\n"
        "}\n"
    )
    labels = sorted(r.label for r in session_routing(module))
    assert labels == ["function `lookup`"]
    module = _module(
        "const transports: Record<string, unknown> = {};\n"
        "class S {\n"
        "    register(app: any) {\n"
        "        app.get('/mcp', (req: any, res: any) => this.stream(req, res));\n"
        "    }\n"
        "    private stream(req: any, res: any) {\n"
        "        res.json(transports[req.headers['mcp-session-id']]);\n"
        "    }\n"
        "}\n"
    )
    assert [r.label for r in session_routing(module)] == ["handler `stream` (GET /mcp)"]


def test_transport_made_by_a_factory_is_refused_with_where() -> None:
    text = HEADER + (
        "const createTransport = async () => {\n"
        "    const transport = new StreamableHTTPServerTransport({\n"
        "        sessionIdGenerator: () => randomUUID(),\n"
        "        onsessioninitialized: (id) => {\n"
        "            transports[id] = transport;\n"
        "        }\n"
        "    });\n"
        "    await getServer().connect(transport);\n"
        "    return transport;\n"
        "};\n"
        "app.post('/mcp', async (req, res) => {\n"
        "    const sessionId = req.header('mcp-session-id');\n"
        "    const transport = sessionId ? transports[sessionId] : await createTransport();\n"
        "    await transport.handleRequest(req, res, req.body);\n"
        "});\n"
    )
    assert rewrite(_module(text)) == (
        (),
        "the transport is created in `createTransport`, outside the request handler that routes by session id",
    )


EARLY_RETURN = HEADER + (
    "app.post('/mcp', async (req, res) => {\n"
    "    const sessionId = req.header('mcp-session-id');\n"
    "    // a known session\n"
    "    if (sessionId && transports[sessionId]) {\n"
    "        await transports[sessionId].handleRequest(req, res, req.body);\n"
    "        return;\n"
    "    }\n"
    "    if (!isInitializeRequest(req.body)) {\n"
    "        res.status(400).json({ error: 'expected initialize' });\n"
    "        return;\n"
    "    }\n"
    "    const transport = new StreamableHTTPServerTransport({\n"
    "        sessionIdGenerator: () => randomUUID(),\n"
    "        onsessioninitialized: (id) => {\n"
    "            transports[id] = transport;\n"
    "        }\n"
    "    });\n"
    "    await getServer().connect(transport);\n"
    "    await transport.handleRequest(req, res, req.body);\n"
    "});\n"
)


def test_early_return_shape_is_rewritten() -> None:
    edits, reason = rewrite(_module(EARLY_RETURN))
    assert reason is None
    fixed = apply_edits(EARLY_RETURN, edits)
    assert "app.get('/mcp', (_req, res) => {\n    res.status(405)" in fixed  # there was no GET route
    assert "app.delete('/mcp', (_req, res) => {\n    res.status(405)" in fixed
    assert fixed.split("app.get(")[0].endswith(
        "app.post('/mcp', async (req, res) => {\n"
        "    const server = getServer();\n"
        "    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });\n"
        "    res.on('close', () => {\n"
        "        void transport.close();\n"
        "        void server.close();\n"
        "    });\n"
        "    await server.connect(transport);\n"
        "    await transport.handleRequest(req, res, req.body);\n"
        "});\n"
    )


def test_early_return_guard_that_falls_through_is_refused() -> None:
    text = EARLY_RETURN.replace(
        "        res.status(400).json({ error: 'expected initialize' });\n        return;\n",
        "        res.status(400);\n",
    )
    assert rewrite(_module(text))[1] == (
        "`if (!isInitializeRequest(req.body)) {` (line 17) routes by session but does not return"
    )


def test_what_the_rewrite_stops_is_said_before_it_is_lost() -> None:
    """A file whose tools ask the client mid-call (MCP203) or push outside a request (MCP204) is
    rewritten only as an unsafe fix, and the finding names both and their replacements."""
    module = _fixture(FIXTURES / "back_channel_tools")
    [post, *_] = list(check(module))
    assert post.fix is not None and post.fix.safety is FixSafety.UNSAFE
    assert "MCP203, line 24" in post.message and "InputRequiredResult" in post.message
    assert "MCP204, line 33" in post.message and "subscriptions/listen" in post.message
    plain = list(check(_fixture(FIXTURES / "express_canonical")))
    assert all("stops working" not in d.message for d in plain)


def test_test_titles_are_not_rejections() -> None:
    """A scenario or test file that names its cases after sessions does not answer anyone."""
    module = _module(
        """
import express from 'express';
const app = express();
app.post('/mcp', (req, res) => {
  const sessionId = req.headers['mcp-session-id'];
  console.log(sessionId);
  res.json({});
});
describe('sessions', () => {
  it('rejects an unknown session ID with 404', () => {});
});
"""
    )
    assert session_routing(module) == []


def test_mock_servers_in_test_helper_folders_are_test_code() -> None:
    from mcp_migrate.lang import is_test_file

    assert is_test_file(Path("packages/remote/src/testHelpers/mockRemote.ts"))
    assert is_test_file(Path("src/__mocks__/server.ts"))
    assert not is_test_file(Path("src/helpers/server.ts"))


def test_a_guard_unrelated_to_sessions_in_the_creating_branch_is_kept() -> None:
    text = _server(create_extra="if (!req.body) { return; }")
    edits, reason = rewrite(_module(text))
    assert reason is None
    fixed = apply_edits(text, edits)
    assert fixed.index("if (!req.body) { return; }") < fixed.index("new StreamableHTTPServerTransport")


def test_inserted_code_follows_the_files_indentation_step() -> None:
    from mcp_migrate.rules.mcp105_session_routing._rewrite import _indent_unit

    four_with_a_two_space_continuation = (
        "function f() {\n    const a = {\n      b: 1,\n    };\n    if (a) {\n        g();\n    }\n}\n"
    )
    assert _indent_unit(_module(four_with_a_two_space_continuation)) == "    "
    assert _indent_unit(_module("function f() {\n  if (a) {\n    g();\n  }\n}\n")) == "  "
    assert _indent_unit(_module("function f() {\n\tg();\n}\n")) == "\t"
    text = _server().replace("    ", "  ")  # the canonical server, two-space indented
    fixed = apply_edits(text, rewrite(_module(text))[0])
    assert "\n  res.on('close', () => {\n    void transport.close();" in fixed


def test_session_header_of_a_request_kept_on_this_is_the_handlers() -> None:
    """Reads rooted at a parameter or at `this` (a per-request object) are the request's; a
    response fetched by this code or a recorded request is not."""
    module = _module(
        """
import type { IncomingMessage } from 'node:http';
const transports: Record<string, unknown> = {};
export class RequestScope {
  constructor(private readonly req: IncomingMessage) {}
  transport() {
    return transports[this.req.headers['mcp-session-id'] as string];
  }
}
"""
    )
    assert [r.label for r in session_routing(module)]

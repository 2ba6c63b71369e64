"""The TypeScript/JavaScript language module: positions, bytes, parse errors, name resolution
through imports, `require`, dynamic `import()` and relative barrels, scopes, list edits.

CLI tests run in a private working folder (conftest's `workdir`); the rest parse text directly.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
from conftest import Run, write

from mcp_migrate.edits import apply_edits
from mcp_migrate.errors import ParseError
from mcp_migrate.lang import language_of
from mcp_migrate.lang.typescript import TsModule, remove_list_item, remove_list_items
from mcp_migrate.sdk.typescript import header_reads, query_param_reads, sse_transports, streamable_transports

SDK = "@modelcontextprotocol/sdk/server/streamableHttp.js"
HANDLER = """import {{ randomUUID }} from "node:crypto";
{imports}

export async function handle(req: any, res: any) {{
    const transport = new {name}({{ sessionIdGenerator: () => randomUUID() }});
    await transport.handleRequest(req, res);
}}
"""


def server(name: str = "StreamableHTTPServerTransport", imports: str | None = None) -> str:
    if imports is None:
        imports = f'import {{ StreamableHTTPServerTransport }} from "{SDK}";'
    return HANDLER.format(name=name, imports=imports)


def fixed(text: str) -> str:
    return text.replace("sessionIdGenerator: () => randomUUID()", "sessionIdGenerator: undefined")


def findings(run: Run, *args: str) -> list[dict]:
    code, out, err = run("check", "--format", "json", "--select", "MCP1", *args)
    assert code in (0, 1), err
    result: list[dict] = json.loads(out)["findings"]
    return result


def module(text: str, dialect: str = "typescript", path: Path | None = None) -> TsModule:
    return TsModule(text, path=path, dialect=dialect)


# -- positions and bytes ------------------------------------------------------------------------
@pytest.mark.usefixtures("workdir")
def test_columns_count_characters_after_non_ascii_text(run: Run) -> None:
    prefix = "/* réglage ✓ 😀 */ "
    text = server().replace("    const transport", "    " + prefix + "const transport")
    write("wide.ts", text)
    [finding] = findings(run, "wide.ts")
    line = text.splitlines()[finding["line"] - 1]
    assert line.index("sessionIdGenerator") + 1 == finding["column"]
    assert finding["end_column"] - finding["column"] == len("sessionIdGenerator: () => randomUUID()")

    run("fix", "wide.ts")
    assert Path("wide.ts").read_text(encoding="utf-8") == fixed(text)


@pytest.mark.usefixtures("workdir")
def test_crlf_and_bom_survive_a_fix_byte_for_byte(run: Run) -> None:
    lines = [
        f'import {{ StreamableHTTPServerTransport }} from "{SDK}";',
        "",
        "export async function handle(req: any, res: any) {",
        "    const transport = new StreamableHTTPServerTransport({",
        "        sessionIdGenerator: () => crypto.randomUUID(),",
        "        onsessioninitialized: (id) => {",
        "            console.log(id);",
        "        },",
        "        onsessionclosed: (id) => console.log(id)",
        "    });",
        "    await transport.handleRequest(req, res);",
        "}",
        "",
    ]
    path = write("crlf.ts", codecs.BOM_UTF8 + "\r\n".join(lines).encode("utf-8"))
    code, _, err = run("fix", "crlf.ts")
    assert code == 1, err  # something changed

    expected = [*lines[:4], "        sessionIdGenerator: undefined", *lines[9:]]
    data = path.read_bytes()
    assert data == codecs.BOM_UTF8 + "\r\n".join(expected).encode("utf-8")
    assert data.count(b"\n") == data.count(b"\r\n")
    assert not data[3:].startswith(codecs.BOM_UTF8)


@pytest.mark.usefixtures("workdir")
def test_a_file_with_a_syntax_error_is_reported_and_never_edited(run: Run) -> None:
    broken = write("broken.ts", server().replace("randomUUID() })", "randomUUID() )"))
    good = write("good.ts", server())
    before = broken.read_bytes()

    code, out, _ = run("check", "broken.ts")
    assert code == 1
    assert "cannot parse" in out and "syntax error at line" in out

    code, out, err = run("fix", ".")
    assert code == 1
    assert "Traceback" not in out + err
    assert broken.read_bytes() == before
    assert good.read_text(encoding="utf-8") == fixed(server())


def test_parse_error_names_the_first_error_position() -> None:
    with pytest.raises(ParseError, match="line 2"):
        module("const a = 1;\nconst b = (;\n")


@pytest.mark.parametrize("name", ["types.d.ts", "bundle.min.js", "dist/app.min.js", "lib/index.d.ts"])
def test_declarations_and_bundles_are_not_checked(name: str) -> None:
    assert language_of(Path(name)) is None


@pytest.mark.usefixtures("workdir")
def test_declaration_files_and_minified_bundles_are_skipped(run: Run) -> None:
    write("types.d.ts", "export declare const transportOptions: { sessionIdGenerator: () => string };\n")
    write("bundle.min.js", fixed_free_js())
    write("server.js", fixed_free_js())
    assert [f["path"] for f in findings(run, ".")] == ["server.js"]


def fixed_free_js() -> str:
    return (
        f'const {{ StreamableHTTPServerTransport }} = require("{SDK}");\n'
        "exports.handle = async (req, res) => {\n"
        "  const t = new StreamableHTTPServerTransport({ sessionIdGenerator: () => crypto.randomUUID() });\n"
        "  await t.handleRequest(req, res);\n"
        "};\n"
    )


# -- dialects -----------------------------------------------------------------------------------
@pytest.mark.usefixtures("workdir")
@pytest.mark.parametrize("name", ["app.tsx", "app.jsx"])
def test_jsx_parses_in_tsx_and_jsx_files(run: Run, name: str) -> None:
    text = server().replace(
        "export async function", 'export const Page = () => <main className="x">{1}</main>;\n\nexport async function'
    )
    if name.endswith(".jsx"):
        text = text.replace("req: any, res: any", "req, res")
    write(name, text)
    [finding] = findings(run, name)
    assert finding["code"] == "MCP101"


def test_angle_bracket_cast_parses_in_ts_and_is_unwrapped() -> None:
    text = (
        f'import {{ StreamableHTTPServerTransport, StreamableHTTPServerTransportOptions }} from "{SDK}";\n'
        "export function handle(req: any, res: any) {\n"
        "    const options = <StreamableHTTPServerTransportOptions>{ sessionIdGenerator: () => crypto.randomUUID() };\n"
        "    const t = new StreamableHTTPServerTransport(options);\n"
        "    return t.handleRequest(req, res);\n"
        "}\n"
    )
    [transport] = streamable_transports(module(text))
    assert transport.options is not None
    with pytest.raises(ParseError):  # the same cast is JSX to the TSX grammar
        module(text, "tsx")


# -- names: imports, require, dynamic import, barrels ---------------------------------------------
IMPORT_FORMS = {
    "named": f'import {{ StreamableHTTPServerTransport }} from "{SDK}";',
    "alias": f'import {{ StreamableHTTPServerTransport as T }} from "{SDK}";',
    "namespace": f'import * as sdk from "{SDK}";',
    "import-require": f'import sdk = require("{SDK}");',
    "require": f'const sdk = require("{SDK}");',
    "require-member": f'const T = require("{SDK}").StreamableHTTPServerTransport;',
    "require-destructured": f'const {{ StreamableHTTPServerTransport: T }} = require("{SDK}");',
    "dynamic-import": f'const {{ StreamableHTTPServerTransport: T }} = await import("{SDK}");',
    "dynamic-namespace": f'const sdk = await import("{SDK}");',
}
CONSTRUCTOR = {"named": "StreamableHTTPServerTransport"} | dict.fromkeys(
    ("alias", "require-member", "require-destructured", "dynamic-import"), "T"
)


@pytest.mark.parametrize("form", sorted(IMPORT_FORMS))
def test_every_import_form_is_resolved(form: str) -> None:
    name = CONSTRUCTOR.get(form, "sdk.StreamableHTTPServerTransport")
    [transport] = streamable_transports(module(server(name, IMPORT_FORMS[form])))
    assert transport.kind == "StreamableHTTPServerTransport"


def test_dynamic_import_inside_a_function_is_resolved_in_its_scope() -> None:
    text = (
        "export async function handle(req: any, res: any) {\n"
        f'    const {{ StreamableHTTPServerTransport }} = await import("{SDK}");\n'
        "    const t = new StreamableHTTPServerTransport({ sessionIdGenerator: () => crypto.randomUUID() });\n"
        "    return t.handleRequest(req, res);\n"
        "}\n"
        "export function elsewhere(StreamableHTTPServerTransport: any) {\n"
        "    return new StreamableHTTPServerTransport({ sessionIdGenerator: () => 'x' });\n"
        "}\n"
    )
    found = streamable_transports(module(text))
    assert [module_line(text, t.call) for t in found] == [3]


def module_line(text: str, node: object) -> int:
    return text[: getattr(node, "start_byte", 0)].count("\n") + 1


@pytest.mark.parametrize(
    "shadow",
    [
        "function f(StreamableHTTPServerTransport: any) { return new StreamableHTTPServerTransport({}); }",
        "function f({ StreamableHTTPServerTransport }: any) { return new StreamableHTTPServerTransport({}); }",
        "const f = (StreamableHTTPServerTransport: any) => new StreamableHTTPServerTransport({});",
        "if (1) { class StreamableHTTPServerTransport {} new StreamableHTTPServerTransport(); }",
        "{ const StreamableHTTPServerTransport = Object; new StreamableHTTPServerTransport(); }",
        "try {} catch (StreamableHTTPServerTransport) { new (StreamableHTTPServerTransport as any)(); }",
        "for (const StreamableHTTPServerTransport of [Object]) { new StreamableHTTPServerTransport(); }",
        "function f() { function StreamableHTTPServerTransport() {}\n"
        "  return new (StreamableHTTPServerTransport as any)(); }",
    ],
)
def test_a_name_rebound_in_an_enclosing_scope_is_local(shadow: str) -> None:
    text = f'import {{ StreamableHTTPServerTransport }} from "{SDK}";\n{shadow}\n'
    assert streamable_transports(module(text)) == []


def test_the_same_shapes_without_a_rebinding_are_the_sdk() -> None:
    text = (
        f'import {{ StreamableHTTPServerTransport }} from "{SDK}";\n'
        "function f(Other: any) { return new StreamableHTTPServerTransport({}); }\n"
        "if (1) { class Other {} new (StreamableHTTPServerTransport as any)(); }\n"
        "try {} catch (Other) { new StreamableHTTPServerTransport(); }\n"
    )
    assert len(streamable_transports(module(text))) == 3


def test_a_local_class_with_the_sdk_name_is_not_the_sdk() -> None:
    text = "class StreamableHTTPServerTransport { constructor(o: object) {} }\n" + server().split("\n", 2)[2]
    assert streamable_transports(module(text)) == []
    other = server(imports='import { StreamableHTTPServerTransport } from "my-framework/transport";')
    assert streamable_transports(module(other)) == []


BARRELS = {
    "explicit": f'export {{ StreamableHTTPServerTransport as T }} from "{SDK}";\n',
    "star": f'export * from "{SDK}";\n',
    "imported": (
        f'import {{ StreamableHTTPServerTransport }} from "{SDK}";\nexport {{ StreamableHTTPServerTransport as T }};\n'
    ),
    "star-same-scope": f'export * from "@modelcontextprotocol/sdk/server/mcp.js";\nexport * from "{SDK}";\n',
}


@pytest.mark.parametrize("barrel", sorted(BARRELS))
def test_names_re_exported_by_a_relative_barrel_are_resolved(tmp_path: Path, barrel: str) -> None:
    write(tmp_path / "mcp.ts", BARRELS[barrel])
    name = "T" if "T }" in BARRELS[barrel] else "StreamableHTTPServerTransport"
    main = tmp_path / "server.ts"
    text = server(name, f'import {{ {name} }} from "./mcp.js";')
    [transport] = streamable_transports(module(text, path=main))
    assert transport.kind == "StreamableHTTPServerTransport"


def test_barrels_are_followed_through_several_relative_modules(tmp_path: Path) -> None:
    write(tmp_path / "lib" / "transport.ts", f'export {{ StreamableHTTPServerTransport as Http }} from "{SDK}";\n')
    write(
        tmp_path / "lib" / "index.ts",
        'export * from "./transport.js";\nexport { Http as Transport } from "./transport";\n',
    )
    write(tmp_path / "lib" / "ns.ts", f'export * as streamable from "{SDK}";\n')
    text = server("Transport", 'import { Transport } from "./lib/index.js";')
    assert len(streamable_transports(module(text, path=tmp_path / "a.ts"))) == 1
    text = server("Http", 'import { Http } from "./lib";')
    assert len(streamable_transports(module(text, path=tmp_path / "b.ts"))) == 1
    text = server("streamable.StreamableHTTPServerTransport", 'import { streamable } from "./lib/ns.js";')
    assert len(streamable_transports(module(text, path=tmp_path / "c.ts"))) == 1
    text = server("m.Http", 'import * as m from "./lib/index.js";')
    assert len(streamable_transports(module(text, path=tmp_path / "d.ts"))) == 1


@pytest.mark.parametrize(
    "barrel",
    [
        "export class StreamableHTTPServerTransport { constructor(o: object) {} }\n",  # defined there
        f'export * from "other-framework";\nexport * from "{SDK}";\n',  # two packages: unknowable
        "this is not TypeScript (\n",  # does not parse
    ],
)
def test_unresolvable_barrels_are_not_the_sdk(tmp_path: Path, barrel: str) -> None:
    write(tmp_path / "mcp.ts", barrel)
    text = server(imports='import { StreamableHTTPServerTransport } from "./mcp.js";')
    assert streamable_transports(module(text, path=tmp_path / "server.ts")) == []


@pytest.mark.usefixtures("workdir")
def test_a_barrel_import_is_reported_and_fixed_through_the_cli(run: Run) -> None:
    write("src/mcp.ts", f'export {{ StreamableHTTPServerTransport as T }} from "{SDK}";\n')
    text = server("T", 'import { T } from "./mcp.ts";')
    write("src/server.ts", text)
    assert [f["path"] for f in findings(run, ".")] == ["src/server.ts"]
    run("fix", ".")
    assert Path("src/server.ts").read_text(encoding="utf-8") == fixed(text)


# -- bindings --------------------------------------------------------------------------------------
def test_options_declared_in_a_nested_block_are_followed() -> None:
    text = (
        f'import {{ StreamableHTTPServerTransport }} from "{SDK}";\n'
        "export function handle(req: any, res: any, json: boolean) {\n"
        "    if (json) {\n"
        "        const options = { sessionIdGenerator: () => crypto.randomUUID(), enableJsonResponse: true };\n"
        "        return new StreamableHTTPServerTransport(options).handleRequest(req, res);\n"
        "    }\n"
        "}\n"
    )
    [transport] = streamable_transports(module(text))
    assert set(transport.properties(module(text))) == {"sessionIdGenerator", "enableJsonResponse"}


def test_a_generator_variable_holding_undefined_is_no_generator() -> None:
    from mcp_migrate.rules._typescript import transports

    text = (
        server()
        .replace("() => randomUUID()", "noSessions")
        .replace("export async", "const noSessions = undefined;\nexport async")
    )
    [transport] = transports(module(text))
    assert not transport.stateful


def test_mcp_agent_with_type_arguments_is_recognised_in_typescript() -> None:
    from mcp_migrate.rules.mcp101_stateful_http_transport.typescript import check

    text = 'import { McpAgent } from "agents/mcp";\nexport class Notes extends McpAgent<Env, State> {}\n'
    [finding] = check(module(text))
    assert "McpAgent" in finding.message


# -- list edits ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "remove", "expected"),
    [
        ("f({\n  a: 1,\n  b: 2,\n  c: 3\n});\n", "bc", "f({\n  a: 1\n});\n"),
        ("f({\n  a: 1,\n  b: 2,\n  c: 3\n});\n", "ab", "f({\n  c: 3\n});\n"),
        ("f({\n  a: 1,\n  b: 2,\n  c: 3,\n});\n", "bc", "f({\n  a: 1,\n});\n"),
        ("f({ a: 1, b: 2, c: 3 });\n", "bc", "f({ a: 1 });\n"),
        ("f({ a: 1, b: 2, c: 3 });\n", "ac", "f({ b: 2 });\n"),
        ("f({\n  a: 1,\n  // about b\n  b: 2\n});\n", "b", "f({\n  a: 1\n  // about b\n});\n"),
        ("f({\n  b: 2\n});\n", "b", "f({\n});\n"),
        ("f({\r\n  a: 1,\r\n  b: 2,\r\n  c: 3\r\n});\r\n", "bc", "f({\r\n  a: 1\r\n});\r\n"),
    ],
)
def test_removing_list_members_keeps_commas_and_lines_right(text: str, remove: str, expected: str) -> None:
    parsed = module(text)
    members = [p for p in parsed.walk("pair") if parsed.source(p.named_children[0]) in remove]
    assert apply_edits(text, remove_list_items(parsed, members)) == expected
    module(expected)  # still parses


def test_removing_one_member_is_removing_a_list_of_one() -> None:
    text = "f({ a: 1, b: 2 });\n"
    parsed = module(text)
    [b] = [p for p in parsed.walk("pair") if parsed.source(p).startswith("b")]
    assert remove_list_item(parsed, b) == remove_list_items(parsed, [b])


# -- HTTP idioms -----------------------------------------------------------------------------------
def test_header_and_query_reads() -> None:
    text = (
        "app.get('/x', (req: any, res: any) => {\n"
        "    const a = req.headers['last-event-id'];\n"
        "    const b = req.get('Last-Event-ID');\n"
        "    const c = request.headers.get('LAST-EVENT-ID');\n"
        "    req.headers['last-event-id'] = 'written';\n"
        "    res.setHeader('Last-Event-ID', '1');\n"
        "    const h = { 'last-event-id': '2' };\n"
        "    const s = req.query.sessionId, t = req.query['sessionId'], u = url.searchParams.get('sessionId');\n"
        "    const v = c.req.query('sessionId'), w = req.body.sessionId, x = other.get('sessionId');\n"
        "});\n"
    )
    parsed = module(text)
    assert [module_line(text, n) for n in header_reads(parsed, "Last-Event-ID")] == [2, 3, 4]
    assert [parsed.source(n) for n in query_param_reads(parsed, "sessionId")] == [
        "req.query.sessionId",
        "req.query['sessionId']",
        "url.searchParams.get('sessionId')",
        "c.req.query('sessionId')",
    ]


def test_sse_transports_come_from_the_sdk_only() -> None:
    text = (
        'import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";\n'
        'import { SSEServerTransport as Legacy } from "@modelcontextprotocol/server-legacy/sse";\n'
        'import { SSEServerTransport as Other } from "some-sse-lib";\n'
        "new SSEServerTransport('/messages', res);\nnew Legacy('/m', res);\nnew Other('/m', res);\n"
    )
    assert len(sse_transports(module(text))) == 2


# -- the rules' documentation ---------------------------------------------------------------------
DOC_PRELUDE = f"""import express from "express";
import {{ randomUUID }} from "node:crypto";
import {{ StreamableHTTPServerTransport }} from "{SDK}";
import {{ SSEServerTransport }} from "@modelcontextprotocol/sdk/server/sse.js";
import {{ InMemoryEventStore }} from "@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js";
declare function createServer(): any;
const app = express();
const transports: any = {{}};
"""


@pytest.mark.usefixtures("workdir")
@pytest.mark.parametrize("code", ["MCP101", "MCP102", "MCP103", "MCP104"])
def test_typescript_examples_in_the_docs_do_what_they_say(run: Run, code: str) -> None:
    """The first ```ts block is reported; `fix` turns it into the second (MCP104: reported,
    and the second is clean)."""
    from mcp_migrate.rules import get_rule

    blocks = get_rule(code).docs.split("```ts\n")[1:]
    before, after = (block.split("```", 1)[0] for block in blocks[:2])
    path = write("example.ts", DOC_PRELUDE + before)
    assert code in {f["code"] for f in findings(run, "example.ts")}
    run("fix", "example.ts")
    if code == "MCP104":
        assert path.read_text(encoding="utf-8") == DOC_PRELUDE + before
        write("example.ts", DOC_PRELUDE + after)
        assert findings(run, "example.ts") == []
    else:
        assert path.read_text(encoding="utf-8") == DOC_PRELUDE + after

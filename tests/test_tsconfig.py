"""tsconfig `paths` aliases (lang/tsconfig.py): SDK imports written through an alias are the SDK's
(issue #15)."""

from __future__ import annotations

from pathlib import Path

from mcp_migrate import lang
from mcp_migrate.lang.tsconfig import aliases_for, resolve_alias
from mcp_migrate.lang.typescript import TsModule
from mcp_migrate.rules._typescript import transports

SERVER = (
    "import { StreamableHTTPServerTransport } from '@mcp/sdk/server/streamableHttp.js';\n"
    "export const t = new StreamableHTTPServerTransport({ sessionIdGenerator: () => 'x' });\n"
)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonc_extends_and_both_kinds_of_target(tmp_path: Path) -> None:
    _write(
        tmp_path / "tsconfig.base.json",
        '{\n  /* shared */ "compilerOptions": { "baseUrl": ".", "paths": {\n'
        '    "@mcp/sdk/*": ["node_modules/@modelcontextprotocol/sdk/dist/esm/*"],\n'
        '    "@/*": ["src/*"], // local\n  } },\n}\n',
    )
    _write(tmp_path / "app" / "tsconfig.json", '{ "extends": "../tsconfig.base.json", "compilerOptions": {} }')
    importer = _write(tmp_path / "app" / "src" / "server.ts", SERVER)
    aliases = aliases_for(importer.parent)
    assert aliases is not None
    assert resolve_alias("@mcp/sdk/server/mcp.js", importer, aliases) == (
        "@modelcontextprotocol/sdk/dist/esm/server/mcp.js"
    )
    assert resolve_alias("@/lib/tools", importer, aliases) == "../../src/lib/tools"
    assert resolve_alias("express", importer, aliases) is None


def test_an_aliased_sdk_transport_is_the_sdks(tmp_path: Path) -> None:
    path = _write(tmp_path / "server.ts", SERVER)
    assert transports(TsModule(SERVER, path=path)) == []  # no tsconfig: an unknown package
    _write(
        tmp_path / "tsconfig.json",
        '{"compilerOptions": {"paths": {"@mcp/sdk/*": ["./node_modules/@modelcontextprotocol/sdk/dist/esm/*"]}}}',
    )
    assert transports(TsModule(SERVER, path=path)) == []  # where tsconfig files are is remembered for a run
    lang.new_run()
    module = TsModule(SERVER, path=path)
    [transport] = transports(module)
    assert transport.stateful
    assert tmp_path / "tsconfig.json" in module.dependencies  # the results cache watches it

"""Whose code a file is: test code is advisory and left alone, an SDK's own source is not a server."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Run, write

STATEFUL = """\
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("notes")
app = mcp.streamable_http_app()
"""


def _findings(run: Run, *args: str) -> list[dict]:  # type: ignore[type-arg]
    code, out, err = run("check", "--format", "json", "--no-progress", "--no-cache", *args)
    assert code in (0, 1), err
    return json.loads(out)["findings"]  # type: ignore[no-any-return]


def test_test_code_is_advisory_and_not_fixed_by_default(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "notes"\ndependencies = ["mcp>=1.23,<2"]\n')
    test = write("tests/test_server.py", STATEFUL)
    server = write("notes/server.py", STATEFUL)
    findings = {f["path"]: f for f in _findings(run, ".")}
    assert findings["tests/test_server.py"]["severity"] == "warning"
    assert "advisory" in findings["tests/test_server.py"]["message"]
    assert findings["tests/test_server.py"]["fix"] is None
    assert findings["notes/server.py"]["severity"] == "error"
    assert findings["notes/server.py"]["fix"]["safety"] == "safe"
    run("fix", "--no-cache", ".")
    assert test.read_text() == STATEFUL
    assert "stateless_http=True" in server.read_text()


def test_fix_tests_option_and_config_key_fix_test_code(workdir: Path, run: Run) -> None:
    test = write("tests/test_server.py", STATEFUL)
    run("fix", "--no-cache", "--fix-tests", ".")
    assert "stateless_http=True" in test.read_text()
    test.write_text(STATEFUL)
    write(".mcp-migrate.toml", "fix-tests = true\n")
    run("fix", "--no-cache", ".")
    assert "stateless_http=True" in test.read_text()


def test_an_sdks_own_source_is_not_reported(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "mcp"\nversion = "1.30.0"\n')
    write("src/mcp/server/fastmcp/demo.py", STATEFUL)
    write("examples/servers/notes/pyproject.toml", '[project]\nname = "mcp-notes-example"\n')
    write("examples/servers/notes/server.py", STATEFUL)
    write("node/package.json", '{"name": "@modelcontextprotocol/sdk", "version": "1.32.2"}')
    write(
        "node/src/server/demo.ts",
        'import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";\n'
        'import { randomUUID } from "node:crypto";\n'
        "export const t = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });\n",
    )
    paths = {f["path"] for f in _findings(run, ".")}
    assert paths == {"examples/servers/notes/server.py"}


def test_a_look_alike_project_name_is_checked(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "mcp-notes"\n')  # a server named after the protocol
    write("server.py", STATEFUL)
    assert {f["path"] for f in _findings(run, ".")} == {"server.py"}

"""Servers followed across modules: the index phase (sdk/python_project.py) at work.

Each case is a small repository as real ones are laid out: the server built in one module,
run from another, its statelessness decided by a value in a third.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from conftest import Run, write

from mcp_migrate.cli import CACHE_MIN_FILES

ARGPARSE_MAIN = """\
import argparse

from notes.server import mcp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    args = parser.parse_args()
    mcp.run(transport=args.transport)


if __name__ == "__main__":
    main()
"""


def _check(run: Run, *args: str) -> list[tuple[str, int, str, str | None]]:
    code, out, err = run("check", "--format", "json", "--no-progress", "--jobs", "1", *args, ".")
    assert code in (0, 1), err
    return [(f["path"], f["line"], f["code"], (f["fix"] or {}).get("safety")) for f in json.loads(out)["findings"]]


def test_v1_server_run_from_another_module_is_fixed_at_its_constructor(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "notes"\ndependencies = ["mcp>=1.23,<2"]\n')
    write("notes/__init__.py", "")
    server = write("notes/server.py", 'from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP("notes")\n')
    write("notes/__main__.py", ARGPARSE_MAIN)
    assert _check(run) == [("notes/server.py", 3, "MCP101", "safe")]
    run("fix", "--no-cache", ".")
    assert (
        server.read_text() == 'from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP("notes", stateless_http=True)\n'
    )
    assert _check(run) == []


def test_without_the_index_the_constructor_alone_is_silent(workdir: Path, run: Run) -> None:
    """The negative of the case above: the same server module with nothing running it."""
    write("pyproject.toml", '[project]\nname = "notes"\ndependencies = ["mcp>=1.23,<2"]\n')
    write("notes/server.py", 'from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP("notes")\n')
    write("notes/__main__.py", ARGPARSE_MAIN.replace('"stdio", "streamable-http"', '"stdio"'))
    assert _check(run) == []


def test_v2_server_is_fixed_where_it_is_served(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "notes"\ndependencies = ["mcp>=2.1,<3"]\n')
    write("notes/__init__.py", "")
    write("notes/server.py", 'from mcp.server.mcpserver import MCPServer\n\nmcp = MCPServer("notes")\n')
    main = write("notes/__main__.py", ARGPARSE_MAIN)
    assert _check(run) == [("notes/__main__.py", 10, "MCP101", "safe")]
    run("fix", "--no-cache", ".")
    assert "mcp.run(transport=args.transport, stateless_http=True)" in main.read_text()


def test_relative_import_and_locked_fastmcp_3(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "tickets"\ndependencies = ["fastmcp>=2.12"]\n')
    write("uv.lock", 'version = 1\n\n[[package]]\nname = "fastmcp"\nversion = "3.4.3"\n')
    write("src/tickets/__init__.py", "")
    write("src/tickets/server.py", 'from fastmcp import FastMCP\n\nmcp = FastMCP("tickets")\n')
    cli = write("src/tickets/cli.py", 'from .server import mcp\n\n\ndef main():\n    mcp.run(transport="http")\n')
    assert _check(run) == [("src/tickets/cli.py", 5, "MCP101", "safe")]
    run("fix", "--no-cache", ".")
    assert 'mcp.run(transport="http", stateless_http=True)' in cli.read_text()


def test_a_stateful_default_is_reported_where_it_is_defined(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "aws-api"\ndependencies = ["fastmcp>=3.2"]\n')
    write("pkg/__init__.py", "")
    write("pkg/core/__init__.py", "")
    write(
        "pkg/core/env.py",
        "import os\n\n\ndef get_env_bool(name, default):\n    return os.getenv(name, str(default)).lower() == 'true'\n",
    )
    config = write(
        "pkg/core/config.py",
        "from .env import get_env_bool\n\nSTATELESS_HTTP = get_env_bool('AWS_API_MCP_STATELESS_HTTP', False)\n",
    )
    write(
        "pkg/server.py",
        "from fastmcp import FastMCP\n\nfrom pkg.core.config import STATELESS_HTTP\n\nserver = FastMCP('aws')\n\n\n"
        "def main():\n    server.run(transport='streamable-http', stateless_http=STATELESS_HTTP)\n",
    )
    assert _check(run) == [("pkg/core/config.py", 3, "MCP101", "unsafe")]
    _code, out, _ = run("check", "--no-progress", ".")
    assert "`AWS_API_MCP_STATELESS_HTTP` environment variable" in out and "../server.py:9" in out
    run("fix", "--no-cache", "--unsafe-fixes", ".")
    assert "get_env_bool('AWS_API_MCP_STATELESS_HTTP', True)" in config.read_text()
    assert _check(run) == []


def test_a_default_that_is_already_stateless_is_silent(workdir: Path, run: Run) -> None:
    write("config.py", "import os\n\nSTATELESS = os.getenv('STATELESS', 'true').lower() == 'true'\n")
    write(
        "server.py",
        "from fastmcp import FastMCP\nfrom config import STATELESS\n\nmcp = FastMCP('x')\n"
        "app = mcp.http_app(stateless_http=STATELESS)\n",
    )
    assert _check(run) == []


def test_a_subclass_defined_in_another_module_is_a_server(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "kb"\ndependencies = ["mcp>=1.23,<2"]\n')
    write("kb/__init__.py", "")
    write("kb/base.py", "from mcp.server.fastmcp import FastMCP\n\n\nclass KnowledgeServer(FastMCP):\n    pass\n")
    write(
        "kb/server.py",
        'from kb.base import KnowledgeServer\n\nmcp = KnowledgeServer("kb")\n\n'
        'if __name__ == "__main__":\n    mcp.run(transport="streamable-http")\n',
    )
    assert _check(run) == [("kb/server.py", 3, "MCP101", "safe")]


def test_editing_a_user_module_rechecks_the_default_it_decides(workdir: Path, run: Run) -> None:
    write("config.py", "STATELESS = False\n")
    server = write(
        "server.py",
        "from fastmcp import FastMCP\nfrom config import STATELESS\n\nmcp = FastMCP('x')\n"
        "app = mcp.http_app(stateless_http=STATELESS)\n",
    )
    for i in range(CACHE_MIN_FILES):
        write(f"lib/module_{i}.py", f"VALUE = {i}\n")
    then = time.time() - 3600
    for path in [workdir, *workdir.rglob("*")]:
        os.utime(path, (then, then))
    _code, out, _ = run("check", "--format", "json", "--no-progress", "--jobs", "1", ".")
    assert [(f["path"], f["code"]) for f in json.loads(out)["findings"]] == [("config.py", "MCP101")]
    server.write_text(server.read_text().replace("stateless_http=STATELESS", "stateless_http=True"))
    os.utime(server, (then + 60, then + 60))
    _code, out, _ = run("check", "--format", "json", "--no-progress", "--jobs", "1", ".")
    assert json.loads(out)["findings"] == []


def test_a_server_run_elsewhere_over_stdio_only_is_silent(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "notes"\ndependencies = ["mcp>=1.23,<2"]\n')
    write("notes/server.py", 'from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP("notes")\n')
    write("notes/__main__.py", "from notes.server import mcp\n\nmcp.run()\n")
    write("notes/other.py", 'from notes.server import mcp\n\nmcp.run("stdio")\n')
    assert _check(run) == []


TOOLS_WITH_STATE = """\
from mcp.server.fastmcp import Context

_LAST_REQUEST_BY_REGION: dict[str, object] = {}


async def remember(region: str, ctx: Context) -> str:
    _LAST_REQUEST_BY_REGION[region] = ctx.request_id
    return region
"""


def _tools_project(main: str) -> None:
    write("pyproject.toml", '[project]\nname = "cw"\ndependencies = ["mcp>=1.23,<2"]\n')
    write("cw/__init__.py", "")
    write("cw/tools.py", TOOLS_WITH_STATE)
    write(
        "cw/server.py",
        "from mcp.server.fastmcp import FastMCP\nfrom cw.tools import remember\n\n"
        'mcp = FastMCP("cw", stateless_http=True)\nmcp.add_tool(remember)\n\n\n' + main,
    )


def test_tools_of_a_project_served_over_stdio_only_keep_their_state(workdir: Path, run: Run) -> None:
    """One client per process: module state in a tools module of a stdio-only project is that
    client's (the same judgement MCP201/MCP202 make for TypeScript and for one-module servers)."""
    _tools_project("def main():\n    mcp.run()\n")
    assert _check(run) == []


def test_tools_of_a_project_served_over_http_are_reported(workdir: Path, run: Run) -> None:
    _tools_project('def main():\n    mcp.run(transport="streamable-http")\n')
    assert [(path, code) for path, _, code, _ in _check(run)] == [("cw/tools.py", "MCP202")]


def test_an_http_app_built_in_another_module_keeps_the_project_off_stdio_only(workdir: Path, run: Run) -> None:
    """`streamable_http_app()` serves HTTP whatever it is passed: stdio in `main()` does not make
    the project one client per process when another module mounts the app."""
    _tools_project("def main():\n    mcp.run()\n")
    write("cw/asgi.py", "from cw.server import mcp\n\napp = mcp.streamable_http_app()\n")
    assert [(path, code) for path, _, code, _ in _check(run)] == [("cw/tools.py", "MCP202")]


def test_a_server_reexported_by_a_package_init_and_run_with_an_options_dict(workdir: Path, run: Run) -> None:
    """mcp-atlassian's shape: a FastMCP[...] subclass instance re-exported by the package's
    `__init__`, imported inside `main()` and run with `run_async(**run_kwargs)`."""
    write("pyproject.toml", '[project]\nname = "atl"\ndependencies = ["fastmcp>=3.4,<4"]\n')
    write("src/atl/servers/__init__.py", "from .main import main_mcp\n\n__all__ = ['main_mcp']\n")
    write(
        "src/atl/servers/main.py",
        "from fastmcp import FastMCP\n\n\nclass AtlMCP(FastMCP[dict]):\n    pass\n\n\nmain_mcp = AtlMCP(name='atl')\n",
    )
    write(
        "src/atl/__init__.py",
        "import asyncio\nimport os\n\n\n"
        "def main(transport: str = 'stdio', stateless: bool = False, given: bool = False) -> None:\n"
        "    from atl.servers import main_mcp\n\n"
        "    final_stateless = os.getenv('STATELESS', 'false').lower() == 'true'\n"
        "    if given:\n        final_stateless = stateless\n"
        "    run_kwargs = {'transport': transport}\n"
        "    run_kwargs['stateless_http'] = final_stateless\n"
        "    asyncio.run(main_mcp.run_async(**run_kwargs))\n",
    )
    assert [(path, code, safety) for path, _, code, safety in _check(run)] == [
        ("src/atl/__init__.py", "MCP101", "unsafe")
    ]


def test_a_subclass_of_the_sse_transport_in_another_module_is_legacy_sse(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "gw"\ndependencies = ["mcp>=1.23,<2"]\n')
    write("gw/__init__.py", "")
    write(
        "gw/transport.py",
        "from mcp.server.sse import SseServerTransport\n\n\nclass TracedSse(SseServerTransport):\n    pass\n",
    )
    write("gw/app.py", 'from gw.transport import TracedSse\n\nsse = TracedSse("/messages/")\n')
    write("gw/other.py", "from gw.transport import TracedSse as Other\n\nclass Local:\n    pass\n\nx = Local()\n")
    assert [(path, line, code) for path, line, code, _ in _check(run)] == [("gw/app.py", 3, "MCP104")]


def test_the_index_walks_modules_in_ast_walks_order() -> None:
    """The index phase's own walk: `ast.walk`'s nodes in `ast.walk`'s order (last binding wins)."""
    import ast

    from mcp_migrate.lang.python_modules import _walk

    for module in ("engine.py", "lang/python_modules.py", "rules/mcp105_session_routing/_rewrite.py"):
        tree = ast.parse((Path(__file__).parents[1] / "src/mcp_migrate" / module).read_text(encoding="utf-8"))
        assert [id(node) for node in _walk(tree)] == [id(node) for node in ast.walk(tree)]


_SETTINGS = """\
from dataclasses import dataclass


@dataclass
class Settings:
    host: str = "0.0.0.0"
    stateless: bool = {default}


settings = Settings({built})
"""
_MANAGER = """\
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from app.settings import settings

server = Server("inventory")
manager = StreamableHTTPSessionManager(app=server, stateless=settings.stateless)
"""


def test_a_settings_field_used_by_another_module_is_reported_and_fixed_where_it_is_declared(
    workdir: Path, run: Run
) -> None:
    write("pyproject.toml", '[project]\nname = "inventory"\ndependencies = ["mcp>=1.23,<2"]\n')
    write("app/__init__.py", "")
    settings = write("app/settings.py", _SETTINGS.format(default="False", built=""))
    write("app/server.py", _MANAGER)
    assert _check(run) == [("app/settings.py", 10, "MCP101", "unsafe")]
    _code, out, _ = run("check", "--no-progress", "--no-cache", ".")
    assert "`settings.stateless` is passed as the session flag" in out and "server.py:7" in out
    run("fix", "--no-cache", "--unsafe-fixes", ".")
    assert "stateless: bool = True" in settings.read_text()
    assert _check(run) == []


@pytest.mark.parametrize(
    ("default", "built"), [("True", ""), ("False", "stateless=True")], ids=["stateless-default", "set-when-built"]
)
def test_a_settings_field_that_is_stateless_is_silent(workdir: Path, run: Run, default: str, built: str) -> None:
    write("app/__init__.py", "")
    write("app/settings.py", _SETTINGS.format(default=default, built=built))
    write("app/server.py", _MANAGER)
    assert _check(run) == []


_SERVE = """\
from fastmcp import FastMCP

mcp = FastMCP("reports")


def serve(port: int, stateless: bool) -> None:
    mcp.run(transport="http", port=port, stateless_http=stateless)
"""


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ('@click.option("--stateless/--no-stateless", default=False)', "unsafe"),
        ('@click.option("--stateless", is_flag=True)', None),  # flipping it would make it impossible to turn off
    ],
    ids=["switch", "flag"],
)
def test_a_cli_option_passed_to_another_modules_serving_function_is_reported_there(
    workdir: Path, run: Run, option: str, expected: str | None
) -> None:
    write("pyproject.toml", '[project]\nname = "reports"\ndependencies = ["fastmcp>=2.12,<3"]\n')
    write("app/__init__.py", "")
    write("app/server.py", _SERVE)
    cli = write(
        "app/cli.py",
        f"import click\n\nfrom app.server import serve\n\n\n@click.command()\n{option}\n"
        "def main(stateless: bool) -> None:\n    serve(8000, stateless)\n",
    )
    assert _check(run) == [("app/cli.py", 9, "MCP101", expected)]
    _code, out, _ = run("check", "--no-progress", "--no-cache", ".")
    assert "passed to `serve()` (server.py)" in out
    if expected:
        run("fix", "--no-cache", "--unsafe-fixes", ".")
        assert "default=True" in cli.read_text()
        assert _check(run) == []


@pytest.mark.parametrize(
    "call",
    ["serve(8000, True)", "serve(8000, stateless=True)", "serve(8000, stateless)"],
    ids=["literal", "keyword-literal", "stateless-option"],
)
def test_what_is_passed_on_stateless_is_silent(workdir: Path, run: Run, call: str) -> None:
    write("app/__init__.py", "")
    write("app/server.py", _SERVE)
    write(
        "app/cli.py",
        "import click\n\nfrom app.server import serve\n\n\n@click.command()\n"
        '@click.option("--stateless/--no-stateless", default=True)\n'
        f"def main(stateless: bool) -> None:\n    {call}\n",
    )
    assert _check(run) == []


_FACTORY = """\
{import_line}


def create_server(name: str):
    server = {cls}(name)

    @server.tool()
    def ping() -> str:
        return "pong"

    return server
"""
_MAIN = """\
from app.factory import create_server


def main() -> None:
    mcp = create_server("notes")
    mcp.run(transport={transport!r})
"""


def _factory_project(pin: str, import_line: str, cls: str, transport: str) -> Path:
    write("pyproject.toml", f'[project]\\nname = "notes"\\ndependencies = ["{pin}"]\\n')
    write("app/__init__.py", "")
    factory = write("app/factory.py", _FACTORY.format(import_line=import_line, cls=cls))
    write("app/main.py", _MAIN.format(transport=transport))
    return factory


def test_a_v1_server_made_by_another_modules_factory_is_fixed_at_its_constructor(workdir: Path, run: Run) -> None:
    factory = _factory_project("mcp>=1.23,<2", "from mcp.server.fastmcp import FastMCP", "FastMCP", "streamable-http")
    assert _check(run) == [("app/factory.py", 5, "MCP101", "safe")]
    run("fix", "--no-cache", ".")
    assert "FastMCP(name, stateless_http=True)" in factory.read_text()
    assert _check(run) == []


def test_a_v2_server_made_by_another_modules_factory_is_fixed_where_it_is_served(workdir: Path, run: Run) -> None:
    _factory_project("mcp>=2.3,<3", "from mcp.server.mcpserver import MCPServer", "MCPServer", "streamable-http")
    assert _check(run) == [("app/main.py", 6, "MCP101", "safe")]
    run("fix", "--no-cache", ".")
    assert "mcp.run(transport='streamable-http', stateless_http=True)" in (workdir / "app/main.py").read_text()
    assert _check(run) == []


def test_a_factory_made_server_run_over_stdio_or_a_look_alike_factory_is_silent(workdir: Path, run: Run) -> None:
    _factory_project("mcp>=1.23,<2", "from mcp.server.fastmcp import FastMCP", "FastMCP", "stdio")
    assert _check(run) == []
    write("app/factory.py", _FACTORY.format(import_line="from notes_lib import Notes", cls="Notes"))
    write("app/main.py", _MAIN.format(transport="streamable-http"))
    assert _check(run) == []


def _settings_class_project() -> Path:
    """A v1 project whose settings class (`stateless: bool = False`, line 6) is in `app/models.py`."""
    write("pyproject.toml", '[project]\nname = "inventory"\ndependencies = ["mcp>=1.23,<2"]\n')
    write("app/__init__.py", "")
    return write(
        "app/models.py",
        "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
        "    port: int = 8000\n    stateless: bool = False\n",
    )


def test_a_settings_class_from_another_module_is_fixed_where_its_field_is_declared(workdir: Path, run: Run) -> None:
    models = _settings_class_project()
    write(
        "app/server.py",
        _MANAGER.replace(
            "from app.settings import settings", "from app.models import Settings\n\nsettings = Settings()"
        ),
    )
    assert _check(run) == [("app/models.py", 6, "MCP101", "unsafe")]
    run("fix", "--no-cache", "--unsafe-fixes", ".")
    assert "stateless: bool = True" in models.read_text()
    assert _check(run) == []
    write(
        "app/server.py",
        _MANAGER.replace(
            "from app.settings import settings",
            "from app.models import Settings\n\nsettings = Settings(stateless=True)",
        ),
    )
    models.write_text(models.read_text().replace("= True", "= False"))
    assert _check(run) == []  # set where the instance is built


# -- modules the byte gate does not pass, reached from one it does --------------------------------
def test_a_settings_instance_built_in_a_module_with_nothing_mcp_in_it(workdir: Path, run: Run) -> None:
    """`settings = Settings()` in `config.py` (no SDK, no flag name in it: the index's byte gate
    does not pass it), the class in `models.py`, the flag in `server.py`: followed by name."""
    models = _settings_class_project()
    config = write("app/config.py", "from app.models import Settings\n\nsettings = Settings()\n")
    write("app/server.py", _MANAGER.replace("from app.settings import settings", "from app.config import settings"))
    assert _check(run) == [("app/models.py", 6, "MCP101", "unsafe")]
    run("fix", "--no-cache", "--unsafe-fixes", ".")
    assert "stateless: bool = True" in models.read_text()
    assert _check(run) == []
    models.write_text(models.read_text().replace("= True", "= False"))
    config.write_text("from app.models import Settings\n\nsettings = Settings(port=9000, stateless=True)\n")
    assert _check(run) == []  # set where the instance is built


def test_a_flag_value_from_a_module_with_nothing_mcp_in_it(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "inventory"\ndependencies = ["mcp>=1.23,<2"]\n')
    write("app/__init__.py", "")
    flags = write("app/flags.py", "import os\n\nSHARED_NOTHING = False\nPORT = int(os.environ.get('PORT', 8000))\n")
    write(
        "app/server.py",
        _MANAGER.replace("from app.settings import settings", "from app.flags import SHARED_NOTHING").replace(
            "stateless=settings.stateless", "stateless=SHARED_NOTHING"
        ),
    )
    assert _check(run) == [("app/flags.py", 3, "MCP101", "unsafe")]
    run("fix", "--no-cache", "--unsafe-fixes", ".")
    assert "SHARED_NOTHING = True" in flags.read_text()
    assert _check(run) == []


def test_a_v2_lowlevel_server_built_in_a_module_the_gate_does_not_pass(workdir: Path, run: Run) -> None:
    write("pyproject.toml", '[project]\nname = "inventory"\ndependencies = ["mcp>=2.1,<3"]\n')
    write("inv/__init__.py", "")
    write("inv/server.py", 'from mcp.server.lowlevel import Server\n\nserver = Server("inventory")\n')
    write("inv/app.py", "from inv.server import server\n\napp = server.streamable_http_app()\n")
    assert [(path, code) for path, _line, code, _safety in _check(run)] == [("inv/app.py", "MCP101")]


_SERVED_ELSEWHERE = """\
from app.server import mcp


def main() -> None:
    mcp.run(transport={transport!r})
"""


@pytest.mark.parametrize(
    ("pin", "import_line", "cls", "expected"),
    [
        ("mcp>=1.23,<2", "from mcp.server.fastmcp import FastMCP", "FastMCP", ("app/factory.py", 5)),
        ("mcp>=2.3,<3", "from mcp.server.mcpserver import MCPServer", "MCPServer", ("app/main.py", 5)),
    ],
    ids=["v1-at-the-constructor", "v2-where-served"],
)
def test_a_factory_made_server_assigned_in_one_module_and_served_in_another(
    workdir: Path, run: Run, pin: str, import_line: str, cls: str, expected: tuple[str, int]
) -> None:
    """`mcp = create_server("notes")` in `server.py` (nothing the byte gate looks for in it), the
    factory in `factory.py`, `mcp.run(...)` in `main.py`."""
    _factory_project(pin, import_line, cls, "streamable-http")
    server = write("app/server.py", 'from app.factory import create_server\n\nmcp = create_server("notes")\n')
    write("app/main.py", _SERVED_ELSEWHERE.format(transport="streamable-http"))
    assert _check(run) == [(*expected, "MCP101", "safe")]
    run("fix", "--no-cache", ".")
    assert _check(run) == []
    for transport in ("stdio", "streamable-http"):  # negatives: stdio, and a look-alike factory
        _factory_project(pin, import_line, cls, transport)
        write("app/main.py", _SERVED_ELSEWHERE.format(transport=transport))
        if transport == "streamable-http":
            write("app/factory.py", _FACTORY.format(import_line="from notes_lib import Notes", cls="Notes"))
        assert server.exists()
        assert _check(run) == []


@pytest.mark.parametrize(
    ("import_line", "flags_path"),
    [
        ("from app import flags", "app/flags.py"),
        ("from . import flags", "app/flags.py"),
        ("import app.flags as flags", "app/flags.py"),
        ("import flags", "flags.py"),
    ],
    ids=["from-package", "relative", "import-as", "top-level"],
)
def test_a_flag_read_off_a_module_is_reported_where_the_module_defines_it(
    workdir: Path, run: Run, import_line: str, flags_path: str
) -> None:
    """`stateless=flags.SHARED_NOTHING` with `flags` a module of the repository."""
    write("pyproject.toml", '[project]\nname = "inventory"\ndependencies = ["mcp>=1.23,<2"]\n')
    write("app/__init__.py", "")
    flags = write(flags_path, "import os\n\nSHARED_NOTHING = False\nPORT = int(os.environ.get('PORT', 8000))\n")
    write(
        "app/server.py",
        _MANAGER.replace("from app.settings import settings", import_line).replace(
            "stateless=settings.stateless", "stateless=flags.SHARED_NOTHING"
        ),
    )
    assert _check(run) == [(flags_path, 3, "MCP101", "unsafe")]
    run("fix", "--no-cache", "--unsafe-fixes", ".")
    assert "SHARED_NOTHING = True" in flags.read_text()
    assert _check(run) == []


def test_a_module_attribute_that_is_not_the_flag_or_not_a_module_is_silent(workdir: Path, run: Run) -> None:
    write("app/__init__.py", "")
    write("app/flags.py", "SHARED_NOTHING = True\nOTHER = False\n")  # already stateless
    server = _MANAGER.replace("from app.settings import settings", "from app import flags")
    write("app/server.py", server.replace("stateless=settings.stateless", "stateless=flags.SHARED_NOTHING"))
    assert _check(run) == []
    # `flags` is an object of a third-party package here, not a module of the repository
    write(
        "app/server.py",
        server.replace("from app import flags", "from feature_flags import flags").replace(
            "stateless=settings.stateless", "stateless=flags.OTHER"
        ),
    )
    assert _check(run) == []


def test_facts_survive_the_results_cache_unchanged() -> None:
    """What the cache keeps (JSON) gives back the same facts, every kind of them."""
    from mcp_migrate.lang.python_modules import facts_from_json, facts_to_json, module_facts

    source = b"""\
import argparse
import app.flags as flags
from . import config
from fastmcp import FastMCP
from app.factory import create_server


class Traced(FastMCP[dict]):
    pass


mcp = FastMCP("x", stateless_http=True, port=8000)
other = create_server("y")
LIMIT = 3


def serve(port, stateless):
    mcp.run(transport="http", port=port, stateless_http=stateless)


def make():
    server = Traced("z")
    return server


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["stdio", "http"])
    args = parser.parse_args()
    made = create_server("w")
    made.run(transport=args.transport, stateless_http=config.STATELESS, **{})
    serve(8000, flags.OFF)
"""
    facts = module_facts("/repo/app/main.py", source)
    assert facts is not None and facts.factories and facts.results_used and facts.choices and facts.flag_params
    kept = json.loads(json.dumps(facts_to_json(facts)))
    assert facts_from_json("/repo/app/main.py", kept) == facts


@pytest.mark.parametrize("class_in", ["models", "config"], ids=["class-in-a-third-module", "class-beside-instance"])
def test_a_settings_instance_read_off_a_module(workdir: Path, run: Run, class_in: str) -> None:
    """`stateless=config.settings.stateless` after `from app import config`."""
    models = _settings_class_project()
    if class_in == "models":
        write("app/config.py", "from app.models import Settings\n\nsettings = Settings()\n")
        field, line = models, 6  # at the field
    else:
        models.unlink()
        field = write(
            "app/config.py",
            "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
            "    port: int = 8000\n    stateless: bool = False\n\n\nsettings = Settings()\n",
        )
        line = 9  # at the instance, as when the flag is read off an imported instance
    server = _MANAGER.replace("from app.settings import settings", "from app import config")
    write("app/server.py", server.replace("stateless=settings.stateless", "stateless=config.settings.stateless"))
    assert _check(run) == [(f"app/{class_in}.py", line, "MCP101", "unsafe")]
    run("fix", "--no-cache", "--unsafe-fixes", ".")
    assert "stateless: bool = True" in field.read_text()
    assert _check(run) == []

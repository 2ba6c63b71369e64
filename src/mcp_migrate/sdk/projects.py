"""Whose code a file is: an MCP SDK's own sources are not a server to migrate.

The SDKs implement sessions, SSE and event stores on purpose, and their repositories are full
of code every rule would flag. A file belongs to an SDK when the nearest project manifest above
it (`pyproject.toml`, `setup.cfg`, `package.json`) names one of the SDK distributions; example
servers inside an SDK repository have manifests of their own and are checked as usual.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

from ..toml_reader import read_toml

# Distribution names of the SDKs and frameworks this tool models (sdk/python_versions.py,
# sdk/typescript.py), on PyPI and npm.
SDK_DISTRIBUTIONS = frozenset(
    {
        "mcp",
        "fastmcp",
        "@modelcontextprotocol/sdk",
        "@modelcontextprotocol/server",
        "@modelcontextprotocol/node",
        "@modelcontextprotocol/express",
        "@modelcontextprotocol/hono",
        "@modelcontextprotocol/fastify",
        "@modelcontextprotocol/core",
        "agents",
    }
)
_MANIFESTS = ("pyproject.toml", "setup.cfg", "package.json")


def is_sdk_source(path: Path | None) -> bool:
    if path is None:
        return False
    return _project_name(os.path.dirname(os.path.abspath(path))) in SDK_DISTRIBUTIONS


@lru_cache(maxsize=1024)
def _project_name(folder: str) -> str | None:
    """The distribution name in the nearest manifest above `folder` that has one."""
    current = Path(folder)
    for candidate in (current, *current.parents):
        for manifest in _MANIFESTS:
            file = candidate / manifest
            if file.is_file():
                name = _name_in(file)
                if name is not None:
                    return re.sub(r"[-_.]+", "-", name).lower() if not name.startswith("@") else name
        if (candidate / ".git").exists():
            return None
    return None


def _name_in(file: Path) -> str | None:
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
        if file.name == "package.json":
            name = json.loads(text).get("name")
        elif file.name == "pyproject.toml":
            data = read_toml(text)
            name = data.get("project", {}).get("name") or data.get("tool", {}).get("poetry", {}).get("name")
        else:
            name = _setup_cfg_name(text)
    except (OSError, ValueError, AttributeError, RecursionError):  # TOMLDecodeError is a ValueError
        return None
    return name if isinstance(name, str) else None


def _setup_cfg_name(text: str) -> str | None:
    import configparser  # only for projects that have a setup.cfg

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
        return parser.get("metadata", "name", fallback=None)
    except configparser.Error:
        return None

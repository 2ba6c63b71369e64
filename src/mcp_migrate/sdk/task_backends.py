"""Where a project's deployment keeps tasks, and whether its proxy routes them: read from the
project's own configuration files (environment files, compose files, manifests, proxy configs).

fastmcp runs task-enabled tools on Docket, whose backend is FASTMCP_DOCKET_URL: `memory://`
(one process) unless the deployment sets a Redis URL, which lives in configuration, not in the
server's code. SEP-2663 gives the other way out: follow-up `tasks/*` requests carry
`Mcp-Name: <taskId>`, so a proxy can route them to the replica that holds the task.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_CONFIG = re.compile(
    r"^(?:\.env(?:\..+)?|fastmcp\.json|Dockerfile.*|.+\.(?:ya?ml|conf|json|toml|cfg|env|tf|ini)|Procfile)$", re.I
)
_SKIP = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".tox", ".mypy_cache"})
_DOCKET = re.compile(
    rb"FASTMCP_DOCKET_+URL[^\n]{0,40}?(?:\n[^\n]{0,80}?){0,2}?\b(?:redis|rediss|valkey|valkeys|unix)://", re.I
)
_ROUTING = re.compile(rb"\$http_mcp_name|httpHeaderName:\s*[\"']?mcp-name|hash-on-header:\s*[\"']?mcp-name", re.I)
MAX_FILES = 5000  # configuration files looked at per project (a monorepo's deploy tree fits)
MAX_BYTES = 1_000_000  # per file: bigger ones are data, not configuration


@dataclass(frozen=True)
class Deployment:
    shared_docket: Path | None  # a file that points FASTMCP_DOCKET_URL at Redis/Valkey
    task_routing: Path | None  # a proxy config that routes by the Mcp-Name header


def deployment_of(root: Path) -> Deployment:
    """The project under `root` (its nearest project folder), read once per process."""
    return _deployment(str(root))


@lru_cache(maxsize=64)
def _deployment(root: str) -> Deployment:
    shared = routing = None
    read = 0
    for folder, folders, names in os.walk(root):
        if shared is not None and routing is not None:
            break  # both answers found
        folders[:] = sorted(f for f in folders if f not in _SKIP and not f.startswith("."))
        for name in sorted(names):
            if not _CONFIG.match(name) or read >= MAX_FILES:
                continue
            path = Path(folder, name)
            try:
                if path.stat().st_size > MAX_BYTES:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            read += 1
            if shared is None and _DOCKET.search(data):
                shared = path
            if routing is None and _ROUTING.search(data):
                routing = path
    return Deployment(shared, routing)

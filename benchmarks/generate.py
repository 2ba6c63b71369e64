#!/usr/bin/env python3
"""Generate a realistic monorepo to benchmark `mcp-migrate check` on.

    python benchmarks/generate.py --files 20000 --seed 1 --out /tmp/mono

The tree is a deterministic function of (--files, --seed): every choice comes from one
`random.Random(seed)`, the commit has fixed author, committer and dates, so the same arguments give
the same bytes and the same commit id.

What is in it
-------------
* ~99% ordinary code that must not produce a finding:
  - Python (50% of the ordinary files): modules of functions, classes, dataclasses, enums,
    async code and tests, in nested packages (`services/<svc>/src/<pkg>/<sub>/...`,
    `libs/<lib>/<pkg>/...`), with `__init__.py` files;
  - TypeScript (32%; a third of them `.tsx` components): `apps/<app>/src/...`,
    `packages/<pkg>/src/...`, none of which imports the MCP SDK;
  - YAML (18%): Kubernetes manifests without stickiness (Deployments, some with
    `podAntiAffinity` / `nodeAffinity`, Services, Ingresses, ConfigMaps, HPAs, CronJobs...),
    Helm charts (`values.yaml` with `affinity: {}`, templates with `toYaml`), GitHub Actions
    workflows, docker-compose files, application config, OpenAPI specs.
  Some of these ordinary files contain a rule's trigger word on purpose (`affinity:`,
  `toYaml`, an `event_store` in event-sourcing code): they pass the byte prefilter and are
  parsed, like their counterparts in a real repository, but must produce nothing.
* ~1% (`--mcp-share`, default 0.01) MCP material mirroring real shapes, listed with the
  findings each file should produce in `.git/bench-manifest.json` (outside the work tree):
  - Python servers: mcp v1 `FastMCP` over streamable-http without `stateless_http` (run, or
    `streamable_http_app()` mounted in Starlette), mcp v2 `MCPServer.run("streamable-http")`,
    fastmcp `http_app()` / `run(transport="http")`; negatives: already stateless (v1, v2,
    fastmcp) and stdio-only servers;
  - Kubernetes manifests: Service `sessionAffinity: ClientIP`, ingress-nginx cookie
    `affinity` and `upstream-hash-by`, Istio `DestinationRule` `consistentHash`; negatives:
    `sessionAffinity: None`, a plain Ingress, commented-out annotations, `simple: ROUND_ROBIN`.
* TypeScript MCP servers besides (`@modelcontextprotocol/sdk` 1.x with express, in
  `<project>/src/mcp/`), 1% of the TypeScript files (`MCP_TYPESCRIPT_SHARE`): the SDK README's
  stateful server (`sessionIdGenerator`, `onsessioninitialized`, a transport map routed by the
  Mcp-Session-Id header), a per-request transport that still mints session ids, the legacy
  `SSEServerTransport`; negatives: the SDK's stateless example (`sessionIdGenerator: undefined`)
  and stdio. They come from a random stream of their own (seeded from --seed), so a seed's
  Python and YAML files are those it gave before they were added, except the last ordinary
  files, which make room for them.

File sizes
----------
Source-file sizes are close to log-normal (Herraiz, German and Hassan, "On the distribution of
source code file sizes", ICSOFT 2011; the same shape shows in GitHub-wide corpora). Each file's
target size in bytes is `exp(N(ln(median), sigma))` clamped to [120 B, 256 KiB], with

    language     median    sigma   (mean ~ median * exp(sigma^2 / 2))
    Python       3.6 KB    1.15    p99 ~ 52 KB, ~1 in 4,000 above 200 KB
    TypeScript   3.0 KB    1.15
    YAML         1.6 KB    1.20

which puts the median of the whole tree near 3 KB with a long tail to ~200 KB (a 20,000-file
tree is about 120 MB). Generators append whole blocks (functions, classes, documents, paths)
until the target is reached, so a file overshoots its target by at most one block. MCP server
files and manifests use the same distribution, capped at 40 KB.

Layout and git
--------------
Projects (`services/`, `libs/`, `apps/`, `packages/`, `infra/`) hold nested package folders
1-4 levels deep. The tree is `git init`-ed and committed (so mcp-migrate lists files with
`git ls-files`, as in a real repository). Besides the N files there is one `.semgrepignore`
that lists only mcp-migrate's default skips: without it semgrep would skip `tests/` folders
that mcp-migrate checks. Nothing outside --out is touched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# -- size distribution -------------------------------------------------------------------------
SIZE_PARAMS: dict[str, tuple[float, float]] = {  # language -> (median bytes, sigma)
    "python": (3600.0, 1.15),
    "typescript": (3000.0, 1.15),
    "yaml": (1600.0, 1.20),
}
MIN_SIZE, MAX_SIZE, MCP_MAX_SIZE = 120, 256 * 1024, 40 * 1024
LANGUAGE_SHARES = (("python", 0.50), ("typescript", 0.32), ("yaml", 0.18))
MCP_PYTHON_SHARE = 0.6  # of the MCP material; the rest are Kubernetes manifests
MCP_TYPESCRIPT_SHARE = 0.0032  # TypeScript servers besides: 1% of the TypeScript files
SEMGREPIGNORE = """# Same skips as mcp-migrate's defaults (none of these exist in the generated tree).
.git/
.venv/
venv/
node_modules/
build/
dist/
__pycache__/
"""
FIXED_DATE = "2025-06-01T12:00:00+00:00"


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Word lists avoid every trigger substring of the rules (session, sticky, affinity, hash,
# stateful/stateless, store, sse ...) so that ordinary files match only where meant to.
NOUNS = _split(
    """
    account invoice order customer payment report ledger user profile token message queue job task
    record metric batch shipment product catalog price discount tenant region cluster node pipeline
    artifact build release document index query result schema column table row client request response
    handler worker schedule notification email template asset image bucket policy role permission group
    team project workspace comment review label vendor contract quote refund subscription plan usage
    quota alert incident audit trace span warehouse carrier route address country currency balance
    transfer card device sensor reading forecast model feature dataset sample
    """
)
VERBS = _split(
    """
    get load fetch build parse render validate compute update create delete sync merge resolve
    normalize serialize encode decode publish consume enqueue apply collect filter group sort export
    refresh reconcile dispatch format check ensure register lookup summarize aggregate transform upload
    download archive restore retry notify approve reject cancel close scan match split prepare estimate
    """
)
ADJECTIVES = _split(
    """
    active pending default cached raw remote local partial total current previous next primary
    secondary internal external public private fresh valid daily monthly weekly latest archived draft
    """
)
SUFFIXES = ("Service", "Repository", "Client", "Manager", "Builder", "Handler", "Processor", "Adapter", "Policy")
PY_STDLIB = (
    "import asyncio",
    "import dataclasses",
    "import datetime as dt",
    "import functools",
    "import itertools",
    "import json",
    "import logging",
    "import os",
    "import re",
    "import time",
    "import uuid",
    "from collections import defaultdict",
    "from collections.abc import Iterable, Iterator, Mapping, Sequence",
    "from dataclasses import dataclass, field",
    "from decimal import Decimal",
    "from enum import Enum",
    "from pathlib import Path",
    "from typing import Any, ClassVar, Protocol",
)
PY_THIRD_PARTY = (
    "import httpx",
    "import pydantic",
    "import sqlalchemy as sa",
    "from fastapi import APIRouter, Depends, HTTPException",
    "from pydantic import BaseModel, Field",
    "from sqlalchemy.orm import Mapped, mapped_column",
    "import structlog",
    "import boto3",
    "from tenacity import retry, stop_after_attempt",
    "import redis",
)
TS_PACKAGES = ("react", "zod", "lodash", "date-fns", "axios", "@tanstack/react-query", "clsx", "uuid")
TYPES_PY = ("str", "int", "float", "bool", "bytes", "Decimal", "dt.datetime", "list[str]", "dict[str, Any]")
TYPES_TS = ("string", "number", "boolean", "Date", "string[]", "Record<string, unknown>", "number | null")


def words(r: random.Random, pool: tuple[str, ...], k: int) -> list[str]:
    return [r.choice(pool) for _ in range(k)]


def snake(r: random.Random, parts: int = 2) -> str:
    return "_".join(words(r, NOUNS, parts))


def camel(r: random.Random, parts: int = 2) -> str:
    first, *rest = words(r, NOUNS, parts)
    return first + "".join(w.capitalize() for w in rest)


def pascal(r: random.Random, parts: int = 2) -> str:
    return "".join(w.capitalize() for w in words(r, NOUNS, parts))


def draw_size(r: random.Random, language: str, cap: int = MAX_SIZE) -> int:
    median, sigma = SIZE_PARAMS[language]
    return int(min(cap, max(MIN_SIZE, math.exp(r.gauss(math.log(median), sigma)))))


def fill(target: int, head: str, block: Callable[[], str], tail: str = "") -> str:
    """Append blocks after `head` until the text reaches `target` bytes (at least one block)."""
    parts, size = [head], len(head) + len(tail)
    while True:
        piece = block()
        parts.append(piece)
        size += len(piece)
        if size >= target:
            break
    parts.append(tail)
    return "".join(parts)


# -- Python ------------------------------------------------------------------------------------
def py_expr(r: random.Random, names: list[str]) -> str:
    name = r.choice(names)
    return r.choice(
        (
            f"{r.choice(VERBS)}_{r.choice(NOUNS)}({name})",
            f"{name}.{r.choice(NOUNS)}_id",
            f"[item.{r.choice(NOUNS)} for item in {name} if item.{r.choice(ADJECTIVES)}]",
            f"{{key: value for key, value in {name}.items() if value is not None}}",
            f"len({name}) * {r.randint(2, 1000)}",
            f'f"{r.choice(NOUNS)}-{{{name}}}"',
            f"self._{r.choice(NOUNS)}s.get({name}, {r.choice(('None', '0', '[]', '{}'))})",
            f"sum(x.{r.choice(NOUNS)}_count for x in {name})",
            f"{name} or {r.choice(ADJECTIVES).upper()}_{r.choice(NOUNS).upper()}",
        )
    )


def py_block(r: random.Random, indent: str, names: list[str], depth: int) -> list[str]:
    lines: list[str] = []
    for _ in range(r.randint(2, 6)):
        var = f"{r.choice(ADJECTIVES)}_{r.choice(NOUNS)}"
        kind = r.random()
        if depth < 2 and kind < 0.12:
            item = r.choice(NOUNS)
            lines.append(f"{indent}for {item} in {r.choice(names)}:")
            lines += py_block(r, indent + "    ", [*names, item], depth + 1)
        elif depth < 2 and kind < 0.24:
            lines.append(f"{indent}if {r.choice(names)} is None:")
            lines.append(f'{indent}    raise ValueError("missing {r.choice(NOUNS)}")')
            lines.append(f"{indent}if not {r.choice(names)}.{r.choice(ADJECTIVES)}:")
            lines += py_block(r, indent + "    ", names, depth + 1)
        elif depth < 2 and kind < 0.30:
            lines.append(f"{indent}try:")
            lines += py_block(r, indent + "    ", names, depth + 1)
            lines.append(f"{indent}except (KeyError, ValueError) as exc:")
            lines.append(f'{indent}    logger.warning("could not {r.choice(VERBS)} {r.choice(NOUNS)}: %s", exc)')
            lines.append(f"{indent}    raise")
        elif kind < 0.45:
            lines.append(f'{indent}logger.debug("{r.choice(VERBS)} %s {r.choice(NOUNS)}s", len({r.choice(names)}))')
        elif kind < 0.55:
            lines.append(f"{indent}{r.choice(names)}.append({py_expr(r, names)})")
        else:
            lines.append(f"{indent}{var} = {py_expr(r, names)}")
            names = [*names, var]
    lines.append(f"{indent}return {py_expr(r, names)}")
    return lines


def py_function(r: random.Random, indent: str = "", method: bool = False) -> str:
    params = list(dict.fromkeys(words(r, NOUNS, r.randint(1, 4))))
    sig = ", ".join(f"{p}: {r.choice(TYPES_PY)}" for p in params)
    if method:
        sig = "self, " + sig
    prefix = "async def" if r.random() < 0.15 else "def"
    name = f"{r.choice(VERBS)}_{r.choice(ADJECTIVES)}_{r.choice(NOUNS)}"
    lines = [f"{indent}{prefix} {name}({sig}) -> {r.choice(TYPES_PY)}:"]
    if r.random() < 0.6:
        lines.append(f'{indent}    """{r.choice(VERBS).capitalize()} the {r.choice(ADJECTIVES)} {r.choice(NOUNS)}s."""')
    lines += py_block(r, indent + "    ", params, 0)
    return "\n".join(lines) + "\n"


def py_class(r: random.Random) -> str:
    name = pascal(r) + r.choice(SUFFIXES)
    roll = r.random()
    if roll < 0.25:
        fields = dict.fromkeys(words(r, NOUNS, r.randint(2, 8)))
        body = "".join(f"    {f}: {r.choice(TYPES_PY)}\n" for f in fields)
        return f"\n\n@dataclass(frozen=True)\nclass {name}:\n{body}"
    if roll < 0.35:
        members = dict.fromkeys(words(r, ADJECTIVES, r.randint(2, 6)))
        body = "".join(f'    {m.upper()} = "{m}"\n' for m in members)
        return f"\n\nclass {pascal(r, 1)}Status(str, Enum):\n{body}"
    attrs = dict.fromkeys(words(r, NOUNS, r.randint(1, 4)))
    init = "".join(f"        self._{a}s: dict[str, Any] = {{}}\n" for a in attrs)
    methods = "\n".join(py_function(r, "    ", method=True) for _ in range(r.randint(1, 4)))
    doc = f'    """{r.choice(VERBS).capitalize()}s {r.choice(NOUNS)}s for the {r.choice(NOUNS)} API."""\n\n'
    return f"\n\nclass {name}:\n{doc}    def __init__(self) -> None:\n{init}\n{methods}"


def py_header(r: random.Random, extra_imports: tuple[str, ...] = ()) -> str:
    doc = (
        f'"""{r.choice(VERBS).capitalize()} {r.choice(ADJECTIVES)} {r.choice(NOUNS)}s for the {snake(r)} domain."""\n\n'
    )
    imports = sorted(set(r.sample(PY_STDLIB, r.randint(2, 6))) | {"import logging", "from typing import Any"})
    third = sorted(set(r.sample(PY_THIRD_PARTY, r.randint(0, 3))))
    local = [f"from .{r.choice(NOUNS)} import {pascal(r)}{r.choice(SUFFIXES)}" for _ in range(r.randint(0, 3))]
    parts = ["from __future__ import annotations\n", "\n".join(imports), "\n".join(third), "\n".join(extra_imports)]
    head = doc + "\n\n".join(p for p in parts if p) + "\n"
    if local:
        head += "\n" + "\n".join(sorted(set(local))) + "\n"
    head += "\nlogger = logging.getLogger(__name__)\n"
    consts = [f"{r.choice(ADJECTIVES).upper()}_{r.choice(NOUNS).upper()} = {r.randint(1, 5000)}" for _ in range(3)]
    return head + "\n".join(consts) + "\n"


def python_module(r: random.Random, target: int) -> str:
    def block() -> str:
        return "\n\n" + py_function(r) if r.random() < 0.55 else py_class(r)

    return fill(target, py_header(r), block)


def python_test_module(r: random.Random, target: int) -> str:
    def block() -> str:
        name = f"test_{r.choice(VERBS)}_{r.choice(ADJECTIVES)}_{r.choice(NOUNS)}"
        a, b = r.choice(NOUNS), r.choice(NOUNS)
        return (
            f"\n\ndef {name}(tmp_path: Path) -> None:\n"
            f"    {a} = make_{a}(tmp_path, count={r.randint(1, 50)})\n"
            f"    result = {r.choice(VERBS)}_{b}({a})\n"
            f"    assert result is not None\n"
            f"    assert len(result) == {r.randint(0, 50)}\n"
        )

    head = (
        '"""Tests."""\n\nfrom pathlib import Path\n\nimport pytest\n\n\n'
        '@pytest.fixture\ndef anyio_backend() -> str:\n    return "asyncio"\n'
    )
    return fill(target, head, block)


def python_event_sourcing(r: random.Random, target: int) -> str:
    """Ordinary code that hits MCP103's `event_store` trigger: parsed, never a finding."""
    head = py_header(r) + (
        "\n\nclass EventRepository(Protocol):\n    def append(self, stream: str, payload: dict[str, Any]) -> int: ...\n"
        f"\n\ndef replay(event_store: EventRepository, stream: str) -> list[dict[str, Any]]:\n"
        f'    """Rebuild the {r.choice(NOUNS)} projection from the event store."""\n'
        "    return [event for event in event_store.read(stream) if event]\n"
    )
    return fill(target, head, lambda: "\n\n" + py_function(r))


# -- TypeScript --------------------------------------------------------------------------------
def ts_function(r: random.Random) -> str:
    params = list(dict.fromkeys(words(r, NOUNS, r.randint(1, 3))))
    sig = ", ".join(f"{p}: {r.choice(TYPES_TS)}" for p in params)
    name = r.choice(VERBS) + pascal(r)
    body = [f"  const {camel(r)} = {params[0]}{r.choice(('.length', '', '?.toString()'))};"]
    for _ in range(r.randint(1, 5)):
        roll = r.random()
        if roll < 0.3:
            body.append(f"  if (!{r.choice(params)}) {{\n    throw new Error('missing {r.choice(NOUNS)}');\n  }}")
        elif roll < 0.6:
            item = r.choice(NOUNS)
            body.append(
                f"  const {camel(r)}List = items.filter(({item}) => {item}.{r.choice(ADJECTIVES)}).map(({item}) => "
                f"{item}.{camel(r)});"
            )
        else:
            body.append(f"  logger.debug(`{r.choice(VERBS)} ${{{r.choice(params)}}} {r.choice(NOUNS)}`);")
    body.append(f"  return {{ {', '.join(params)} }};")
    asy = "async " if r.random() < 0.3 else ""
    return f"\nexport {asy}function {name}({sig}) {{\n" + "\n".join(body) + "\n}\n"


def ts_interface(r: random.Random) -> str:
    fields = dict.fromkeys(words(r, NOUNS, r.randint(2, 9)))
    body = "".join(f"  {f}{'?' if r.random() < 0.3 else ''}: {r.choice(TYPES_TS)};\n" for f in fields)
    kind = r.choice(("interface", "type"))
    if kind == "type":
        return f"\nexport type {pascal(r)} = {{\n{body}}};\n"
    return f"\nexport interface {pascal(r)} {{\n{body}}}\n"


def ts_class(r: random.Random) -> str:
    name = pascal(r) + r.choice(SUFFIXES)
    methods = []
    for _ in range(r.randint(1, 4)):
        p = r.choice(NOUNS)
        methods.append(
            f"  async {r.choice(VERBS)}{pascal(r, 1)}({p}: {r.choice(TYPES_TS)}): Promise<void> {{\n"
            f"    const response = await this.http.get(`/api/{r.choice(NOUNS)}s/${{{p}}}`);\n"
            f"    this.cache.set(String({p}), response.data);\n  }}\n"
        )
    return (
        f"\nexport class {name} {{\n  private readonly cache = new Map<string, unknown>();\n\n"
        f"  constructor(private readonly http: HttpClient) {{}}\n\n" + "\n".join(methods) + "}\n"
    )


def ts_component(r: random.Random) -> str:
    name = pascal(r)
    p = r.choice(NOUNS)
    return (
        f"\nexport function {name}View({{ {p}, onSelect }}: {name}Props) {{\n"
        f"  const [{p}Open, set{p.capitalize()}Open] = useState(false);\n"
        f'  return (\n    <div className="{p}-panel">\n'
        f"      <h2>{{{p}.title}}</h2>\n"
        f"      <button onClick={{() => set{p.capitalize()}Open(!{p}Open)}}>{r.choice(VERBS)}</button>\n"
        f"      {{{p}Open && <ul>{{{p}.items.map((item) => <li key={{item.id}} onClick={{() => onSelect(item)}}>"
        f"{{item.name}}</li>)}}</ul>}}\n    </div>\n  );\n}}\n"
    )


def typescript_module(r: random.Random, target: int, tsx: bool) -> str:
    imports = [f"import {{ {camel(r)} }} from '{r.choice(TS_PACKAGES)}';" for _ in range(r.randint(1, 4))]
    imports += [f"import {{ {pascal(r)} }} from '../{r.choice(NOUNS)}/{r.choice(NOUNS)}';" for _ in range(2)]
    if tsx:
        imports.insert(0, "import { useState } from 'react';")
    head = "\n".join(imports) + "\nimport { logger } from '@/lib/logger';\n"
    blocks: tuple[Callable[[random.Random], str], ...] = (ts_function, ts_interface, ts_class)
    if tsx:
        blocks = (*blocks, ts_component, ts_component)
    return fill(target, head, lambda: r.choice(blocks)(r))


# -- YAML --------------------------------------------------------------------------------------
def yscalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    plain_ok = (
        text
        and text.strip() == text
        and not any(c in text for c in ":#{}[],&*!|>'\"%@`")
        and text.lower() not in {"true", "false", "yes", "no", "on", "off", "null", "none", "~"}
        and not text[0].isdigit()
        and not text.startswith(("-", "?"))
    )
    return text if plain_ok else json.dumps(text)


def ydump(value: Any, indent: int = 0) -> str:
    """Block-style YAML, lists indented under their key (kubectl style)."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{yscalar(key)}:\n{ydump(item, indent + 2)}")
            elif isinstance(item, (dict, list)):
                out.append(f"{pad}{yscalar(key)}: {'{}' if isinstance(item, dict) else '[]'}\n")
            else:
                out.append(f"{pad}{yscalar(key)}: {yscalar(item)}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = ydump(item, indent + 2)
                out.append(f"{pad}- {inner[indent + 2 :]}")
            else:
                out.append(f"{pad}- {yscalar(item)}\n")
    return "".join(out)


def k8s_labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "platform"}


def k8s_deployment(r: random.Random, name: str, with_scheduling: bool) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": f"registry.example.com/{name}:{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}",
        "ports": [{"name": "http", "containerPort": r.choice((8000, 8080, 3000, 9000))}],
        "env": [
            {"name": f"{r.choice(NOUNS).upper()}_{r.choice(NOUNS).upper()}", "value": str(r.randint(1, 99))}
            for _ in range(r.randint(1, 6))
        ],
        "resources": {
            "requests": {"cpu": f"{r.choice((50, 100, 250, 500))}m", "memory": f"{r.choice((64, 128, 256))}Mi"},
            "limits": {"memory": f"{r.choice((256, 512, 1024))}Mi"},
        },
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
    }
    pod: dict[str, Any] = {"serviceAccountName": name, "containers": [container]}
    if with_scheduling:
        pod["affinity"] = {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
                        },
                    }
                ]
            }
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": k8s_labels(name)},
        "spec": {
            "replicas": r.randint(1, 6),
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"metadata": {"labels": k8s_labels(name)}, "spec": pod},
        },
    }


def k8s_service(name: str, affinity: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"app.kubernetes.io/name": name}}
    if affinity is not None:
        spec["sessionAffinity"] = affinity
        if affinity == "ClientIP":
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    spec["ports"] = [{"name": "http", "port": 80, "targetPort": "http"}]
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": k8s_labels(name)}, "spec": spec}


def k8s_ingress(name: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "host": f"{name}.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": name, "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def k8s_misc(r: random.Random, name: str) -> dict[str, Any]:
    roll = r.random()
    if roll < 0.35:
        data = {f"{r.choice(NOUNS)}.{r.choice(NOUNS)}": str(r.randint(0, 10_000)) for _ in range(r.randint(3, 25))}
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-config"}, "data": data}
    if roll < 0.55:
        return {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": 2,
                "maxReplicas": r.randint(4, 30),
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": r.choice((60, 70, 80))},
                        },
                    }
                ],
            },
        }
    if roll < 0.70:
        return {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}},
        }
    if roll < 0.85:
        return {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": f"{name}-{r.choice(VERBS)}"},
            "spec": {
                "schedule": f"{r.randint(0, 59)} {r.randint(0, 23)} * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "OnFailure",
                                "containers": [
                                    {
                                        "name": "job",
                                        "image": f"registry.example.com/{name}:latest",
                                        "args": [r.choice(VERBS), f"--{r.choice(NOUNS)}", r.choice(NOUNS)],
                                    }
                                ],
                            }
                        }
                    }
                },
            },
        }
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": r.choice(NOUNS)}}}]}],
        },
    }


def yaml_k8s(r: random.Random, target: int, name: str) -> str:
    """A manifest stream without stickiness; a third of the Deployments spread their pods."""
    docs = [k8s_deployment(r, name, with_scheduling=r.random() < 0.33), k8s_service(name)]
    if r.random() < 0.3:
        docs.append(
            k8s_ingress(
                name,
                {"cert-manager.io/cluster-issuer": "letsencrypt", "nginx.ingress.kubernetes.io/proxy-body-size": "8m"},
            )
        )
    head = f"# {name}: managed by the platform team\n" + "---\n".join(ydump(d) for d in docs)
    return fill(target, head, lambda: "---\n" + ydump(k8s_misc(r, name)))


def yaml_helm_values(r: random.Random, target: int, name: str) -> str:
    values: dict[str, Any] = {
        "replicaCount": r.randint(1, 4),
        "image": {"repository": f"registry.example.com/{name}", "pullPolicy": "IfNotPresent", "tag": ""},
        "serviceAccount": {"create": True, "annotations": {}, "name": ""},
        "service": {"type": "ClusterIP", "port": 80},
        "ingress": {
            "enabled": False,
            "className": "",
            "annotations": {},
            "hosts": [{"host": f"{name}.local", "paths": [{"path": "/", "pathType": "ImplementationSpecific"}]}],
        },
        "resources": {},
        "nodeSelector": {},
        "tolerations": [],
        "affinity": {},
    }
    head = "# Default values for the chart.\n" + ydump(values)
    return fill(target, head, lambda: ydump({camel(r): {snake(r, 1): r.randint(0, 100) for _ in range(4)}}))


HELM_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "CHART.fullname" . }}
  labels:
    {{- include "CHART.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "CHART.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "CHART.selectorLabels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ include "CHART.serviceAccountName" . }}
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
"""
HELM_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {{ include "CHART.fullname" . }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "CHART.selectorLabels" . | nindent 4 }}
"""


def yaml_helm_template(r: random.Random, target: int, name: str) -> str:
    head = (HELM_DEPLOYMENT if r.random() < 0.6 else HELM_SERVICE).replace("CHART", name)

    def block() -> str:
        key = camel(r)
        return f"{{{{- if .Values.{key}.enabled }}}}\n# {key}\n{{{{- end }}}}\n"

    return fill(target, head, block)


def yaml_workflow(r: random.Random, target: int, name: str) -> str:
    def job() -> str:
        steps = [
            {"uses": "actions/checkout@v4"},
            {"uses": "actions/setup-python@v5", "with": {"python-version": r.choice(("3.11", "3.12"))}},
            {"name": "Install", "run": f"pip install -e ./{name}[test]"},
            {
                "name": f"{r.choice(VERBS).capitalize()} {r.choice(NOUNS)}s",
                "run": f"pytest -q {name}/tests -k {r.choice(NOUNS)}",
            },
        ]
        return ydump({f"{r.choice(VERBS)}-{r.choice(NOUNS)}": {"runs-on": "ubuntu-latest", "steps": steps}}, 2)

    head = (
        ydump(
            {
                "name": f"{name} CI",
                "on": {"push": {"branches": ["main"]}, "pull_request": {}},
                "permissions": {"contents": "read"},
            }
        )
        + "jobs:\n"
    )
    return fill(target, head, job)


def yaml_compose(r: random.Random, target: int, name: str) -> str:
    def service() -> str:
        svc = f"{r.choice(NOUNS)}-{r.choice(NOUNS)}"
        body = {
            svc: {
                "image": f"{svc}:latest",
                "ports": [f"{r.randint(3000, 9999)}:8000"],
                "environment": {f"{r.choice(NOUNS).upper()}_URL": f"http://{r.choice(NOUNS)}:8000"},
                "depends_on": [r.choice(NOUNS)],
            }
        }
        return ydump(body, 2)

    head = ydump({"version": "3.9"}) + f"# local development stack for {name}\nservices:\n"
    return fill(target, head, service)


def yaml_config(r: random.Random, target: int, name: str) -> str:
    def section() -> str:
        inner: dict[str, Any] = {}
        for _ in range(r.randint(2, 8)):
            roll = r.random()
            key = f"{r.choice(NOUNS)}_{r.choice(('timeout', 'url', 'enabled', 'size', 'name', 'retries'))}"
            if roll < 0.4:
                inner[key] = r.randint(1, 600)
            elif roll < 0.6:
                inner[key] = roll < 0.5
            else:
                inner[key] = f"{r.choice(ADJECTIVES)}-{r.choice(NOUNS)}"
        return ydump({snake(r, 1): inner})

    return fill(target, f"# {name} settings\n", section)


def yaml_openapi(r: random.Random, target: int, name: str) -> str:
    def path() -> str:
        noun = r.choice(NOUNS)
        op = {
            "summary": f"{r.choice(VERBS).capitalize()} a {noun}",
            "operationId": f"{r.choice(VERBS)}{noun.capitalize()}",
            "parameters": [{"name": f"{noun}Id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{noun.capitalize()}"}}},
                },
                "404": {"description": "Not found"},
            },
        }
        return ydump({f"/{noun}s/{{{noun}Id}}/{r.choice(NOUNS)}s": {r.choice(("get", "post", "put")): op}}, 2)

    head = ydump({"openapi": "3.1.0", "info": {"title": f"{name} API", "version": "1.0.0"}}) + "paths:\n"
    return fill(target, head, path)


# -- MCP material ------------------------------------------------------------------------------
def mcp_tools(r: random.Random, var: str, target: int, ctx: bool) -> str:
    def tool() -> str:
        noun, verb = r.choice(NOUNS), r.choice(VERBS)
        param = f"{noun}_id: str"
        ctx_param = ", ctx: Context" if ctx and r.random() < 0.4 else ""
        body = [f'    """{verb.capitalize()} a {noun} by id."""']
        if ctx_param:
            body.append(f'    await ctx.info("{verb} {noun}")')
        body += [
            f"    {noun} = await backend.{verb}_{noun}({noun}_id)",
            f"    if {noun} is None:",
            f'        raise ValueError(f"unknown {noun}: {{{noun}_id}}")',
            f"    return {{key: str(value) for key, value in {noun}.items()}}",
        ]
        return (
            f"\n\n@{var}.tool()\nasync def {verb}_{noun}({param}{ctx_param}) -> dict[str, str]:\n"
            + "\n".join(body)
            + "\n"
        )

    return fill(target, "", tool)


@dataclass(frozen=True)
class McpVariant:
    name: str
    language: str
    weight: float
    expected: dict[str, int]  # code -> findings count mcp-migrate should report
    render: Callable[[random.Random, int, str], str]


def _server_doc(r: random.Random, name: str) -> str:
    doc = f'"""MCP server exposing the {name} {r.choice(NOUNS)} API to agents."""\n\n'
    return doc + "from __future__ import annotations\n\n"


def py_v1_streamable(r: random.Random, target: int, name: str, idle: bool = False) -> str:
    extra = "    session_idle_timeout=900,\n" if idle else ""
    return (
        _server_doc(r, name)
        + "import logging\n\nfrom mcp.server.fastmcp import Context, FastMCP\n\nfrom . import backend\n\n"
        + "logger = logging.getLogger(__name__)\n\n"
        + f'mcp = FastMCP(\n    "{name}",\n    host="0.0.0.0",\n    port=8080,\n{extra})\n'
        + mcp_tools(r, "mcp", target, ctx=True)
        + '\n\nif __name__ == "__main__":\n    mcp.run(transport="streamable-http")\n'
    )


def py_v1_mounted(r: random.Random, target: int, name: str) -> str:
    return (
        _server_doc(r, name)
        + "import contextlib\nfrom collections.abc import AsyncIterator\n\n"
        + "from mcp.server.fastmcp import FastMCP\nfrom starlette.applications import Starlette\n"
        + "from starlette.routing import Mount\n\nfrom . import backend\n\n"
        + f'{name.replace("-", "_")} = FastMCP(name="{name}")\n'
        + mcp_tools(r, name.replace("-", "_"), target, ctx=False)
        + "\n\n@contextlib.asynccontextmanager\nasync def lifespan(app: Starlette) -> AsyncIterator[None]:\n"
        + f"    async with {name.replace('-', '_')}.session_manager.run():\n        yield\n"
        + f'\n\napp = Starlette(routes=[Mount("/{name}", {name.replace("-", "_")}.streamable_http_app())], '
        + "lifespan=lifespan)\n"
    )


def py_v2_run(r: random.Random, target: int, name: str, stateless: bool = False) -> str:
    flag = ", stateless_http=True" if stateless else ""
    return (
        _server_doc(r, name)
        + "from mcp.server.mcpserver import Context, MCPServer\n\nfrom . import backend\n\n"
        + f'server = MCPServer("{name}")\n'
        + mcp_tools(r, "server", target, ctx=True)
        + f'\n\nif __name__ == "__main__":\n    server.run("streamable-http", host="0.0.0.0", port=9000{flag})\n'
    )


def py_fastmcp_app(r: random.Random, target: int, name: str, stateless: bool = False) -> str:
    flag = ", stateless_http=True" if stateless else ""
    return (
        _server_doc(r, name)
        + "import fastmcp\n\nfrom . import backend\n\n"
        + f'mcp = fastmcp.FastMCP("{name}")\n'
        + mcp_tools(r, "mcp", target, ctx=False)
        + f'\n\napp = mcp.http_app(path="/mcp"{flag})\n'
    )


def py_fastmcp_run(r: random.Random, target: int, name: str) -> str:
    return (
        _server_doc(r, name)
        + "from fastmcp import Context, FastMCP\n\nfrom . import backend\n\n"
        + f'mcp = FastMCP("{name}")\n'
        + mcp_tools(r, "mcp", target, ctx=True)
        + '\n\nif __name__ == "__main__":\n    mcp.run(transport="http", host="0.0.0.0", port=8000)\n'
    )


def py_v1_stateless(r: random.Random, target: int, name: str) -> str:
    return (
        _server_doc(r, name)
        + "from mcp.server.fastmcp import Context, FastMCP\n\nfrom . import backend\n\n"
        + f'mcp = FastMCP("{name}", stateless_http=True, json_response=True)\n'
        + mcp_tools(r, "mcp", target, ctx=True)
        + '\n\nif __name__ == "__main__":\n    mcp.run(transport="streamable-http")\n'
    )


def py_stdio(r: random.Random, target: int, name: str) -> str:
    transport = r.choice(("", 'transport="stdio"'))
    return (
        _server_doc(r, name)
        + "from mcp.server.fastmcp import Context, FastMCP\n\nfrom . import backend\n\n"
        + f'mcp = FastMCP("{name}")\n'
        + mcp_tools(r, "mcp", target, ctx=True)
        + f'\n\ndef main() -> None:\n    mcp.run({transport})\n\n\nif __name__ == "__main__":\n    main()\n'
    )


# TypeScript servers (@modelcontextprotocol/sdk 1.x), shaped like the SDK's own examples.
TS_SDK = "@modelcontextprotocol/sdk/server"


def ts_tools(r: random.Random, var: str, target: int, indent: str = "    ") -> str:
    def tool() -> str:
        noun, verb = r.choice(NOUNS), r.choice(VERBS)
        lines = (
            f"{var}.registerTool(",
            f"    '{verb}_{noun}',",
            f"    {{ description: '{verb.capitalize()} a {noun} by id', inputSchema: {{ {noun}Id: z.string() }} }},",
            f"    async ({{ {noun}Id }}) => {{",
            f"        const {noun} = await backend.{verb}{noun.capitalize()}({noun}Id);",
            f"        if (!{noun}) {{",
            f"            throw new Error(`unknown {noun}: ${{{noun}Id}}`);",
            "        }",
            f"        return {{ content: [{{ type: 'text', text: JSON.stringify({noun}) }}] }};",
            "    }",
            ");",
        )
        return "\n" + "".join(f"{indent}{line}\n" for line in lines)

    return fill(target, "", tool)


def _ts_head(name: str, imports: tuple[str, ...]) -> str:
    return (
        f"// MCP server exposing the {name} API to agents.\n"
        "import express from 'express';\n"
        + "".join(f"{line}\n" for line in imports)
        + f"import {{ McpServer }} from '{TS_SDK}/mcp.js';\n"
        "import { z } from 'zod';\n\nimport * as backend from './backend.js';\n"
    )


def _ts_build(r: random.Random, target: int, name: str) -> str:
    return (
        "\nfunction buildServer(): McpServer {\n"
        f"    const server = new McpServer({{ name: '{name}', version: '1.{r.randint(0, 9)}.0' }});\n"
        + ts_tools(r, "server", target)
        + "    return server;\n}\n\nconst app = express();\napp.use(express.json());\n"
    )


def _ts_listen(r: random.Random) -> str:
    return f"\napp.listen(Number(process.env.PORT ?? {r.choice((3000, 8080, 8787))}));\n"


def ts_stateful_canonical(r: random.Random, target: int, name: str) -> str:
    """The SDK README's session-map server: sessions created on initialize, found again by the
    Mcp-Session-Id header in POST, GET and DELETE."""
    return (
        _ts_head(
            name,
            (
                "import { randomUUID } from 'node:crypto';",
                f"import {{ StreamableHTTPServerTransport }} from '{TS_SDK}/streamableHttp.js';",
                "import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';",
            ),
        )
        + _ts_build(r, target, name)
        + "\n// One transport per session, kept in this process's memory.\n"
        "const transports: { [sessionId: string]: StreamableHTTPServerTransport } = {};\n\n"
        "app.post('/mcp', async (req, res) => {\n"
        "    const sessionId = req.headers['mcp-session-id'] as string | undefined;\n"
        "    let transport: StreamableHTTPServerTransport;\n"
        "    if (sessionId && transports[sessionId]) {\n"
        "        transport = transports[sessionId];\n"
        "    } else if (!sessionId && isInitializeRequest(req.body)) {\n"
        "        transport = new StreamableHTTPServerTransport({\n"
        "            sessionIdGenerator: () => randomUUID(),\n"
        "            onsessioninitialized: (id) => {\n"
        "                transports[id] = transport;\n"
        "            }\n"
        "        });\n"
        "        transport.onclose = () => {\n"
        "            if (transport.sessionId) {\n"
        "                delete transports[transport.sessionId];\n"
        "            }\n"
        "        };\n"
        "        await buildServer().connect(transport);\n"
        "    } else {\n"
        "        res.status(400).json({\n"
        "            jsonrpc: '2.0',\n"
        "            error: { code: -32000, message: 'Bad Request: No valid session ID provided' },\n"
        "            id: null\n"
        "        });\n"
        "        return;\n"
        "    }\n"
        "    await transport.handleRequest(req, res, req.body);\n"
        "});\n\n"
        "const handleSessionRequest = async (req: express.Request, res: express.Response) => {\n"
        "    const sessionId = req.headers['mcp-session-id'] as string | undefined;\n"
        "    if (!sessionId || !transports[sessionId]) {\n"
        "        res.status(400).send('Invalid or missing session ID');\n"
        "        return;\n"
        "    }\n"
        "    await transports[sessionId].handleRequest(req, res);\n"
        "};\n\n"
        "app.get('/mcp', handleSessionRequest);\napp.delete('/mcp', handleSessionRequest);\n" + _ts_listen(r)
    )


def ts_stateful_per_request(r: random.Random, target: int, name: str) -> str:
    """A server and transport per request that still generates session ids: the next request
    of the session is refused by whichever process gets it."""
    return (
        _ts_head(
            name,
            (
                "import { randomUUID } from 'node:crypto';",
                f"import {{ StreamableHTTPServerTransport }} from '{TS_SDK}/streamableHttp.js';",
            ),
        )
        + _ts_build(r, target, name)
        + "\napp.post('/mcp', async (req, res) => {\n"
        "    const server = buildServer();\n"
        "    const transport = new StreamableHTTPServerTransport({\n"
        "        sessionIdGenerator: () => randomUUID(),\n"
        "        enableJsonResponse: true\n"
        "    });\n"
        "    res.on('close', () => {\n        void transport.close();\n        void server.close();\n    });\n"
        "    await server.connect(transport);\n"
        "    await transport.handleRequest(req, res, req.body);\n"
        "});\n" + _ts_listen(r)
    )


def ts_stateless(r: random.Random, target: int, name: str) -> str:
    """The SDK's stateless example: no session ids, a server and transport per request."""
    return (
        _ts_head(name, (f"import {{ StreamableHTTPServerTransport }} from '{TS_SDK}/streamableHttp.js';",))
        + _ts_build(r, target, name)
        + "\napp.post('/mcp', async (req, res) => {\n"
        "    const server = buildServer();\n"
        "    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });\n"
        "    res.on('close', () => {\n        void transport.close();\n        void server.close();\n    });\n"
        "    await server.connect(transport);\n"
        "    await transport.handleRequest(req, res, req.body);\n"
        "});\n\n"
        "app.get('/mcp', (_req, res) => {\n    res.status(405).set('Allow', 'POST').send('Method Not Allowed');\n});\n"
        + _ts_listen(r)
    )


def ts_sse(r: random.Random, target: int, name: str) -> str:
    """The deprecated HTTP+SSE transport: an event stream per client, its POSTs found by the
    `sessionId` query parameter."""
    return (
        _ts_head(name, (f"import {{ SSEServerTransport }} from '{TS_SDK}/sse.js';",))
        + _ts_build(r, target, name)
        + "\nconst transports: Record<string, SSEServerTransport> = {};\n\n"
        "app.get('/sse', async (_req, res) => {\n"
        "    const transport = new SSEServerTransport('/messages', res);\n"
        "    transports[transport.sessionId] = transport;\n"
        "    res.on('close', () => {\n        delete transports[transport.sessionId];\n    });\n"
        "    await buildServer().connect(transport);\n"
        "});\n\n"
        "app.post('/messages', async (req, res) => {\n"
        "    const sessionId = req.query.sessionId as string;\n"
        "    const transport = transports[sessionId];\n"
        "    if (!transport) {\n"
        "        res.status(400).send('No transport found for sessionId');\n"
        "        return;\n"
        "    }\n"
        "    await transport.handlePostMessage(req, res);\n"
        "});\n" + _ts_listen(r)
    )


def ts_stdio(r: random.Random, target: int, name: str) -> str:
    return (
        f"// MCP server exposing the {name} API to local agents.\n"
        f"import {{ McpServer }} from '{TS_SDK}/mcp.js';\n"
        f"import {{ StdioServerTransport }} from '{TS_SDK}/stdio.js';\n"
        "import { z } from 'zod';\n\nimport * as backend from './backend.js';\n\n"
        f"const server = new McpServer({{ name: '{name}', version: '0.{r.randint(1, 9)}.0' }});\n"
        + ts_tools(r, "server", target, indent="")
        + "\nawait server.connect(new StdioServerTransport());\n"
    )


def _stream(r: random.Random, name: str, docs: list[dict[str, Any]], comment: str = "") -> str:
    head = f"# {name}: MCP server deployment{comment}\n"
    return head + "---\n".join(ydump(d) for d in [k8s_deployment(r, name, r.random() < 0.3), *docs])


def yaml_service_client_ip(r: random.Random, target: int, name: str) -> str:
    return _stream(r, name, [k8s_service(name, "ClientIP")], " (sessions pinned by client IP)")


def yaml_ingress_cookie(r: random.Random, target: int, name: str) -> str:
    ann = {
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
        "nginx.ingress.kubernetes.io/affinity": "cookie",
        "nginx.ingress.kubernetes.io/session-cookie-name": "mcp-route",
        "nginx.ingress.kubernetes.io/session-cookie-max-age": "10800",
    }
    return _stream(r, name, [k8s_service(name), k8s_ingress(name, ann)])


def yaml_ingress_hash(r: random.Random, target: int, name: str) -> str:
    ann = {
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
        "nginx.ingress.kubernetes.io/upstream-hash-by": "$http_mcp_session_id",
    }
    return _stream(r, name, [k8s_service(name), k8s_ingress(name, ann)])


def istio_rule(name: str, load_balancer: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": name},
        "spec": {
            "host": f"{name}.default.svc.cluster.local",
            "trafficPolicy": {
                "loadBalancer": load_balancer,
                "connectionPool": {"http": {"http2MaxRequests": 1000, "idleTimeout": "300s"}},
            },
        },
    }


def yaml_istio_hash(r: random.Random, target: int, name: str) -> str:
    return _stream(
        r, name, [k8s_service(name), istio_rule(name, {"consistentHash": {"httpHeaderName": "Mcp-Session-Id"}})]
    )


def yaml_full_sticky(r: random.Random, target: int, name: str) -> str:
    ann = {
        "nginx.ingress.kubernetes.io/affinity": "cookie",
        "nginx.ingress.kubernetes.io/session-cookie-name": "mcp-route",
        "nginx.ingress.kubernetes.io/upstream-hash-by": "$http_mcp_session_id",
    }
    return _stream(r, name, [k8s_service(name, "ClientIP"), k8s_ingress(name, ann)], " (sticky everywhere)")


def yaml_ok_none(r: random.Random, target: int, name: str) -> str:
    ann = {"nginx.ingress.kubernetes.io/proxy-read-timeout": "3600", "nginx.ingress.kubernetes.io/load-balance": "ewma"}
    return _stream(r, name, [k8s_service(name, "None"), k8s_ingress(name, ann)], " (stateless: round-robin)")


def yaml_ok_commented(r: random.Random, target: int, name: str) -> str:
    text = _stream(
        r, name, [k8s_service(name), k8s_ingress(name, {"nginx.ingress.kubernetes.io/proxy-read-timeout": "3600"})]
    )
    marker = '    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"\n'
    removed = (
        "    # sticky routing removed with the move to the stateless protocol:\n"
        "    # nginx.ingress.kubernetes.io/affinity: cookie\n"
        '    # nginx.ingress.kubernetes.io/upstream-hash-by: "$http_mcp_session_id"\n'
    )
    return text.replace(marker, marker + removed, 1)


def yaml_ok_round_robin(r: random.Random, target: int, name: str) -> str:
    lb = {"simple": r.choice(("ROUND_ROBIN", "LEAST_REQUEST"))}
    return _stream(r, name, [k8s_service(name), istio_rule(name, lb)])


MCP_VARIANTS: tuple[McpVariant, ...] = (
    McpVariant("py-v1-streamable-http", "python", 2, {"MCP101": 1}, py_v1_streamable),
    McpVariant(
        "py-v1-streamable-http-idle-timeout",
        "python",
        1,
        {"MCP101": 1, "MCP102": 1},
        lambda r, t, n: py_v1_streamable(r, t, n, idle=True),
    ),
    McpVariant("py-v1-streamable-http-app", "python", 1.5, {"MCP101": 1}, py_v1_mounted),
    McpVariant("py-v2-run-streamable-http", "python", 2, {"MCP101": 1}, py_v2_run),
    McpVariant("py-fastmcp-http-app", "python", 1.5, {"MCP101": 1}, py_fastmcp_app),
    McpVariant("py-fastmcp-run-http", "python", 1.5, {"MCP101": 1}, py_fastmcp_run),
    McpVariant("py-ok-v1-stateless", "python", 1.5, {}, py_v1_stateless),
    McpVariant("py-ok-v2-stateless", "python", 1, {}, lambda r, t, n: py_v2_run(r, t, n, stateless=True)),
    McpVariant("py-ok-fastmcp-stateless", "python", 1, {}, lambda r, t, n: py_fastmcp_app(r, t, n, stateless=True)),
    McpVariant("py-ok-stdio", "python", 2, {}, py_stdio),
    McpVariant(
        "ts-stateful-canonical", "typescript", 3, {"MCP101": 1, "MCP102": 1, "MCP105": 2}, ts_stateful_canonical
    ),
    McpVariant("ts-stateful-per-request", "typescript", 2, {"MCP101": 1}, ts_stateful_per_request),
    McpVariant("ts-sse-express", "typescript", 1.5, {"MCP104": 2}, ts_sse),
    McpVariant("ts-ok-stateless", "typescript", 2.5, {}, ts_stateless),
    McpVariant("ts-ok-stdio", "typescript", 1, {}, ts_stdio),
    McpVariant("k8s-service-clientip", "yaml", 2, {"MCP301": 1}, yaml_service_client_ip),
    McpVariant("k8s-ingress-nginx-cookie", "yaml", 2, {"MCP302": 1}, yaml_ingress_cookie),
    McpVariant("k8s-ingress-nginx-hash", "yaml", 1.5, {"MCP302": 1}, yaml_ingress_hash),
    McpVariant("k8s-istio-consistent-hash", "yaml", 1.5, {"MCP303": 1}, yaml_istio_hash),
    McpVariant("k8s-sticky-everywhere", "yaml", 1, {"MCP301": 1, "MCP302": 2}, yaml_full_sticky),
    McpVariant("k8s-ok-affinity-none", "yaml", 1.5, {}, yaml_ok_none),
    McpVariant("k8s-ok-commented-out", "yaml", 1, {}, yaml_ok_commented),
    McpVariant("k8s-ok-round-robin", "yaml", 1, {}, yaml_ok_round_robin),
)


# -- layout ------------------------------------------------------------------------------------
@dataclass
class Project:
    kind: str  # pyservice, pylib, webapp, tspkg
    root: str
    package: str
    folders: list[str] = field(default_factory=list)


@dataclass
class Tree:
    r: random.Random
    files: dict[str, str] = field(default_factory=dict)
    python_dirs: set[str] = field(default_factory=set)

    def unique(self, folder: str, stem: str, suffix: str) -> str:
        path = f"{folder}/{stem}{suffix}"
        n = 2
        while path in self.files:
            path = f"{folder}/{stem}_{n}{suffix}"
            n += 1
        return path


def make_projects(r: random.Random, count: int) -> list[Project]:
    projects, seen = [], set()
    kinds = (("pyservice", "services"), ("pylib", "libs"), ("webapp", "apps"), ("tspkg", "packages"))
    for i in range(count):
        kind, top = kinds[i % len(kinds)] if i < len(kinds) else r.choice(kinds)
        name = f"{r.choice(NOUNS)}-{r.choice(NOUNS)}"
        while f"{top}/{name}" in seen:
            name = f"{r.choice(NOUNS)}-{r.choice(NOUNS)}-{r.randint(2, 99)}"
        seen.add(f"{top}/{name}")
        projects.append(Project(kind, f"{top}/{name}", name.replace("-", "_")))
    return projects


def project_folder(r: random.Random, project: Project) -> str:
    """A nested package folder of the project, 1-4 levels below its source root, reused often."""
    if project.folders and r.random() < 0.85:
        return r.choice(project.folders)
    if project.kind == "pyservice":
        base = f"{project.root}/src/{project.package}"
    elif project.kind == "pylib":
        base = f"{project.root}/{project.package}"
    else:
        base = f"{project.root}/src"
    parts = [r.choice(NOUNS) + ("s" if r.random() < 0.3 else "") for _ in range(r.randint(1, 4))]
    folder = base + "/" + "/".join(parts)
    project.folders.append(folder)
    return folder


def weighted(r: random.Random, items: tuple[tuple[str, float], ...]) -> str:
    return r.choices([i[0] for i in items], weights=[i[1] for i in items])[0]


YAML_KINDS = (
    ("k8s", 0.35),
    ("helm-values", 0.06),
    ("helm-template", 0.10),
    ("workflow", 0.14),
    ("compose", 0.05),
    ("config", 0.20),
    ("openapi", 0.10),
)


def add_python(tree: Tree, projects: list[Project]) -> None:
    r = tree.r
    project = r.choice([p for p in projects if p.kind in ("pyservice", "pylib")])
    if r.random() < 0.15:
        folder = f"{project.root}/tests/{r.choice(NOUNS)}" if r.random() < 0.5 else f"{project.root}/tests"
        stem = f"test_{r.choice(VERBS)}_{r.choice(NOUNS)}"
        tree.files[tree.unique(folder, stem, ".py")] = python_test_module(r, draw_size(r, "python"))
        return
    folder = project_folder(r, project)
    if folder not in tree.python_dirs:
        tree.python_dirs.add(folder)
        tree.files[f"{folder}/__init__.py"] = f'"""The {folder.rsplit("/", 1)[-1]} package."""\n'
        return
    size = draw_size(r, "python")
    make = python_event_sourcing if r.random() < 0.005 else python_module
    tree.files[tree.unique(folder, f"{r.choice(NOUNS)}_{r.choice(NOUNS)}", ".py")] = make(r, size)


def add_typescript(tree: Tree, projects: list[Project]) -> None:
    r = tree.r
    project = r.choice([p for p in projects if p.kind in ("webapp", "tspkg")])
    folder = project_folder(r, project)
    tsx = project.kind == "webapp" and r.random() < 0.5
    stem = pascal(r) if tsx else f"{camel(r)}"
    text = typescript_module(r, draw_size(r, "typescript"), tsx)
    tree.files[tree.unique(folder, stem, ".tsx" if tsx else ".ts")] = text


def add_yaml(tree: Tree, projects: list[Project]) -> None:
    r = tree.r
    project = r.choice(projects)
    kind = weighted(r, YAML_KINDS)
    size = draw_size(r, "yaml")
    name = project.root.rsplit("/", 1)[-1]
    if kind == "k8s":
        if r.random() < 0.3:
            folder = f"infra/k8s/{r.choice(('dev', 'staging', 'prod'))}/{name}"
        else:
            folder = f"{project.root}/deploy/k8s"
        path = tree.unique(folder, r.choice(("deployment", "manifests", "app", r.choice(NOUNS))), ".yaml")
        tree.files[path] = yaml_k8s(r, size, f"{name}-{r.choice(NOUNS)}" if r.random() < 0.5 else name)
    elif kind == "helm-values":
        tree.files[tree.unique(f"{project.root}/deploy/chart", "values", ".yaml")] = yaml_helm_values(r, size, name)
    elif kind == "helm-template":
        folder = f"{project.root}/deploy/chart/templates"
        tree.files[tree.unique(folder, r.choice(("deployment", "service")), ".yaml")] = yaml_helm_template(
            r, size, name
        )
    elif kind == "workflow":
        folder = ".github/workflows" if r.random() < 0.3 else f"{project.root}/.ci"
        tree.files[tree.unique(folder, f"{r.choice(VERBS)}-{name}", ".yml")] = yaml_workflow(r, size, name)
    elif kind == "compose":
        tree.files[tree.unique(project.root, "docker-compose", ".yml")] = yaml_compose(r, size, name)
    elif kind == "config":
        folder = f"{project.root}/config"
        tree.files[tree.unique(folder, r.choice(("settings", "logging", r.choice(NOUNS))), ".yaml")] = yaml_config(
            r, size, name
        )
    else:
        tree.files[tree.unique(f"{project.root}/api", "openapi", ".yaml")] = yaml_openapi(r, size, name)


def add_mcp(tree: Tree, projects: list[Project], language: str, manifest: list[dict[str, Any]]) -> None:
    r = tree.r
    variants = tuple(v for v in MCP_VARIANTS if v.language == language)
    variant = r.choices(variants, weights=[v.weight for v in variants])[0]
    kinds = ("webapp", "tspkg") if language == "typescript" else ("pyservice",)
    services = [p for p in projects if p.kind in kinds]
    project = r.choice(services)
    name = f"{r.choice(NOUNS)}-{r.choice(NOUNS)}"
    if language == "typescript":  # a folder of its own: the ordinary files' folders stay as they were
        stem = r.choice(("server", "index", "mcp-server", f"{name}-server"))
        path = tree.unique(f"{project.root}/src/mcp", stem, ".ts")
    elif language == "python":
        folder = f"{project.root}/src/{project.package}/mcp" if r.random() < 0.5 else project_folder(r, project)
        if folder not in tree.python_dirs:
            tree.python_dirs.add(folder)
            tree.files[f"{folder}/__init__.py"] = '"""MCP server."""\n'
        path = tree.unique(folder, r.choice(("server", "mcp_server", "app", f"{name.replace('-', '_')}_server")), ".py")
    else:
        path = tree.unique(f"{project.root}/deploy/k8s", f"mcp-{name}", ".yaml")
    tree.files[path] = variant.render(r, draw_size(r, language, MCP_MAX_SIZE), name)
    manifest.append({"path": path, "variant": variant.name, "language": language, "expected": variant.expected})


def generate(files: int, seed: int) -> tuple[dict[str, str], dict[str, Any]]:
    r = random.Random(seed)
    tree = Tree(r)
    projects = make_projects(r, max(4, files // 120))
    mcp_total = max(sum(v.language != "typescript" for v in MCP_VARIANTS), round(files * 0.01))
    mcp_python = round(mcp_total * MCP_PYTHON_SHARE)
    manifest: list[dict[str, Any]] = []
    # MCP material first (so it does not depend on how the ordinary files fill up), then the rest.
    for i in range(mcp_total):
        add_mcp(tree, projects, "python" if i < mcp_python else "yaml", manifest)
    # TypeScript servers draw from a random stream of their own, so that adding them left the
    # Python and YAML material of a seed as it was (the ordinary files end a little earlier).
    ts_tree = Tree(random.Random(f"typescript-mcp-{seed}"), tree.files, tree.python_dirs)
    ts_total = max(sum(v.language == "typescript" for v in MCP_VARIANTS), round(files * MCP_TYPESCRIPT_SHARE))
    for _ in range(ts_total):
        add_mcp(ts_tree, projects, "typescript", manifest)
    adders = {"python": add_python, "typescript": add_typescript, "yaml": add_yaml}
    while len(tree.files) < files:
        adders[weighted(r, LANGUAGE_SHARES)](tree, projects)
    # __init__.py files can overshoot by one: drop the newest ordinary files to hit N exactly.
    mcp_paths = {m["path"] for m in manifest}
    for path in reversed(list(tree.files)):
        if len(tree.files) <= files:
            break
        if path not in mcp_paths and not path.endswith("__init__.py"):
            del tree.files[path]
    plain = sorted(p for p in tree.files if p.endswith(".py") and "/tests/" not in p and p not in mcp_paths)
    info = {
        "files": len(tree.files),
        "seed": seed,
        "bytes": sum(len(t.encode()) for t in tree.files.values()),
        "mcp": manifest,
        "plain_python": [p for p in plain if not p.endswith("__init__.py")],
        "sizes": {p: len(t.encode()) for p, t in tree.files.items()},
    }
    return tree.files, info


def write_tree(out: Path, files: dict[str, str], info: dict[str, Any]) -> None:
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    # Without a .semgrepignore, semgrep skips tests/ and other folders by default; mcp-migrate
    # checks them, so for equal work semgrep is told to skip only what mcp-migrate skips.
    (out / ".semgrepignore").write_text(SEMGREPIGNORE, encoding="utf-8")
    for path, text in files.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_AUTHOR_DATE": FIXED_DATE,
        "GIT_COMMITTER_DATE": FIXED_DATE,
    }
    git = ["git", "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=out, check=True, env=env)
    subprocess.run([*git, "add", "-A"], cwd=out, check=True, env=env)
    subprocess.run([*git, "commit", "-q", "--no-verify", "-m", "monorepo snapshot"], cwd=out, check=True, env=env)
    (out / ".git" / "bench-manifest.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


def load_manifest(tree: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tree / ".git" / "bench-manifest.json").read_text(encoding="utf-8"))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=20_000, help="number of files (default 20000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="new or empty folder to create the repo in")
    parser.add_argument("--force", action="store_true", help="delete --out first if it exists")
    args = parser.parse_args(argv)
    if args.files < len(MCP_VARIANTS) * 2:
        parser.error(f"--files must be at least {len(MCP_VARIANTS) * 2}")
    if args.force and args.out.exists():
        shutil.rmtree(args.out)
    files, info = generate(args.files, args.seed)
    write_tree(args.out, files, info)
    mcp = info["mcp"]
    print(
        f"{args.out}: {info['files']} files, {info['bytes'] / 1e6:.1f} MB, {len(mcp)} MCP files "
        f"({sum(1 for m in mcp if m['expected'])} expected to have findings)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

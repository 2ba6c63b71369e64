"""tsconfig `compilerOptions.paths`: import aliases as the TypeScript compiler resolves them.

A project may import the SDK as `@mcp/server/mcp.js` with `"@mcp/*":
["node_modules/@modelcontextprotocol/sdk/dist/esm/*"]`, or its own modules as `@/lib/server`.
`resolve_alias` turns such a specifier into what it stands for: the package path under
`node_modules` (so SDK imports are recognised) or a relative specifier from the importing file
(so re-exports are followed as for any relative import).

tsconfig files are JSON with comments and trailing commas: they are read with the
TypeScript grammar (an object literal), not a hand-written JSON reader; `extends` chains are
followed for files given by relative path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from ..errors import ParseError
from ..source import file_stamp

_MAX_DEPTH = 12  # folders walked up to find a tsconfig.json
_MAX_EXTENDS = 4


@dataclass(frozen=True)
class PathAliases:
    files: tuple[Path, ...]  # the tsconfig files read (the answer depends on them)
    base: Path  # what `paths` targets are relative to
    paths: tuple[tuple[str, tuple[str, ...]], ...]  # longest prefix first


def aliases_for(folder: Path) -> PathAliases | None:
    """The `paths` of the nearest tsconfig.json at or above `folder`; None without any."""
    config = nearest_config(os.path.abspath(folder), _MAX_DEPTH)
    return _aliases(Path(config), file_stamp(Path(config))) if config is not None else None


@cache
def nearest_config(folder: str, depth: int) -> str | None:
    """The nearest tsconfig.json at or above `folder`, `depth` folders up at most. Remembered for
    the run (one look per folder, however many files it holds; `forget` starts afresh)."""
    config = os.path.join(folder, "tsconfig.json")
    if os.path.isfile(config):
        return config
    parent = os.path.dirname(folder)
    return nearest_config(parent, depth - 1) if depth > 1 and parent != folder else None


def forget() -> None:
    """A new run: tsconfig files may have come or gone since the last one in this process."""
    nearest_config.cache_clear()


def alias_prefixes(importer: str, packages: tuple[bytes, ...]) -> tuple[tuple[bytes, ...], tuple[Path, ...]]:
    """The import prefixes that stand for `packages` in the importer's project (`@mcp/` for
    `"@mcp/*": ["node_modules/@modelcontextprotocol/sdk/dist/esm/*"]`), and the tsconfig files
    that say so (the answer depends on them)."""
    config = nearest_config(os.path.dirname(importer), _MAX_DEPTH)  # most files: no tsconfig, no Path built
    aliases = _aliases(Path(config), file_stamp(Path(config))) if config is not None else None
    if aliases is None:
        return (), ()
    wanted = [package.decode() for package in packages]
    found = tuple(
        prefix.encode()
        for pattern, targets in aliases.paths
        if (prefix := pattern.split("*", 1)[0])
        and any(package in target.replace(os.sep, "/") for target in targets for package in wanted)
    )
    return found, aliases.files if found else ()


def resolve_alias(specifier: str, importer: Path, aliases: PathAliases) -> str | None:
    """What an aliased specifier stands for, or None when no alias matches."""
    for pattern, targets in aliases.paths:
        star = _match(pattern, specifier)
        if star is None:
            continue
        for target in targets:
            resolved = os.path.normpath(aliases.base / target.replace("*", star, 1))
            parts = Path(resolved).parts
            if "node_modules" in parts:
                index = len(parts) - 1 - parts[::-1].index("node_modules")
                return "/".join(parts[index + 1 :])
            relative = os.path.relpath(resolved, importer.parent).replace(os.sep, "/")
            return relative if relative.startswith(".") else "./" + relative
    return None


def _match(pattern: str, specifier: str) -> str | None:
    if "*" not in pattern:
        return "" if pattern == specifier else None
    prefix, suffix = pattern.split("*", 1)
    if specifier.startswith(prefix) and specifier.endswith(suffix) and len(specifier) >= len(prefix) + len(suffix):
        return specifier[len(prefix) : len(specifier) - len(suffix)]
    return None


@lru_cache(maxsize=64)
def _aliases(config: Path, stamp: tuple[int, int]) -> PathAliases | None:
    files: list[Path] = []
    options: dict[str, Any] = {}
    base_of_paths: Path | None = None
    current: Path | None = config
    chain: list[tuple[Path, dict[str, Any]]] = []
    while current is not None and len(chain) < _MAX_EXTENDS:
        data = _read(current)
        if data is None:
            break
        chain.append((current, data))
        parent = data.get("extends")
        current = (current.parent / parent) if isinstance(parent, str) and parent.startswith(".") else None
        if current is not None and current.suffix != ".json":
            current = current.with_name(current.name + ".json")
    for path, data in reversed(chain):  # the base first, each extending file overrides
        files.append(path)
        compiler = data.get("compilerOptions")
        if not isinstance(compiler, dict):
            continue
        if isinstance(compiler.get("baseUrl"), str):
            options["baseUrl"] = (path.parent / compiler["baseUrl"]).resolve()
        if isinstance(compiler.get("paths"), dict):
            options["paths"] = compiler["paths"]
            base_of_paths = path.parent
    paths = options.get("paths")
    if not isinstance(paths, dict) or not paths:
        return None
    base = options.get("baseUrl") or base_of_paths or config.parent
    table = tuple(
        sorted(
            ((str(k), tuple(str(t) for t in v if isinstance(t, str))) for k, v in paths.items() if isinstance(v, list)),
            key=lambda item: -len(item[0].split("*", 1)[0]),
        )
    )
    return PathAliases(tuple(files), Path(base), table)


def _read(path: Path) -> dict[str, Any] | None:
    from .typescript import TsModule  # the grammar reads JSON with comments and trailing commas

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        module = TsModule(f"({text}\n);", dialect="javascript")
    except ParseError:  # a broken tsconfig aliases nothing
        return None
    statement = module.root.named_children[0] if module.root.named_children else None
    expression = statement.named_children[0] if statement is not None and statement.named_children else None
    while expression is not None and expression.type == "parenthesized_expression":
        expression = expression.named_children[0] if expression.named_children else None
    value = _value(module, expression)
    return value if isinstance(value, dict) else None


def _value(module: Any, node: Any) -> Any:
    if node is None:
        return None
    kind = node.type
    if kind == "object":
        found: dict[str, Any] = {}
        for pair in node.named_children:
            if pair.type != "pair":
                continue
            key = module.name(pair.child_by_field_name("key"))
            if key is not None:
                found[key] = _value(module, pair.child_by_field_name("value"))
        return found
    if kind == "array":
        return [_value(module, child) for child in node.named_children if child.type != "comment"]
    if kind == "string":
        return module.name(node)
    if kind in ("true", "false"):
        return kind == "true"
    if kind == "number":
        return float(module.source(node))
    return None

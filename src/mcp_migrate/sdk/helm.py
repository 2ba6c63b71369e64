"""What a Helm chart's values say: a template that passes `.Values.x` through is only sticky
when some values file sets something sticky at `x`.

Values files are the chart's own (`values*.yaml` anywhere in the chart folder but its
`templates/` and sub-`charts/`) and the overlays kept beside it in the repository
(`*values*.yaml` under the chart's parent folder, a few levels down: `deploy/values-prod.yaml`,
`environments/prod/values.yaml`), which `helm install -f` layers on top.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode

from ..lang.yaml import compose_one
from ..source import file_stamp

_MAX_CHART_DEPTH = 6  # templates/ nest a little (templates/ingress/route.yaml)
_MAX_OVERLAY_DEPTH = 3
_SKIPPED = frozenset({"templates", "charts", "node_modules", ".git", "crds", "tests"})


@dataclass(frozen=True)
class ValuesEntry:
    """One value a values file sets at a path."""

    file: Path
    line: int
    node: Node


def chart_root(path: Path | None) -> Path | None:
    """The nearest folder above `path` with a `Chart.yaml`."""
    if path is None:
        return None
    folder = path.parent
    for _ in range(_MAX_CHART_DEPTH):
        if (folder / "Chart.yaml").is_file() or (folder / "Chart.yml").is_file():
            return folder
        if folder.parent == folder:
            return None
        folder = folder.parent
    return None


def values_files(root: Path) -> tuple[Path, ...]:
    return _values_files(root.resolve())


@lru_cache(maxsize=64)
def _values_files(root: Path) -> tuple[Path, ...]:
    found: set[Path] = set()
    _collect(root, found, lambda name: name.startswith("values"), depth=_MAX_CHART_DEPTH)
    _collect(root.parent, found, lambda name: "values" in name, depth=_MAX_OVERLAY_DEPTH)
    return tuple(sorted(found))


def _collect(folder: Path, found: set[Path], wanted, depth: int) -> None:  # type: ignore[no-untyped-def]
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        name = entry.name.lower()
        if entry.is_dir(follow_symlinks=False):
            if depth > 0 and name not in _SKIPPED and not name.startswith("."):
                _collect(Path(entry.path), found, wanted, depth - 1)
        elif name.endswith((".yaml", ".yml")) and wanted(name) and "templates" not in Path(entry.path).parts:
            found.add(Path(entry.path))


def values_at(root: Path, dotted: str) -> list[ValuesEntry]:
    """What every values file of the chart sets at `.Values.a.b` (given as `a.b`)."""
    found = []
    for path in values_files(root):
        document = _document(path, file_stamp(path))
        node = document
        for part in dotted.split("."):
            node = _child(node, part) if node is not None else None
        if node is not None:
            found.append(ValuesEntry(path, node.start_mark.line + 1, node))
    return found


@lru_cache(maxsize=256)
def _document(path: Path, stamp: tuple[int, int]) -> Node | None:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    document = compose_one(text)  # None: a template-like or broken file sets nothing we can read
    return document if isinstance(document, MappingNode) else None


def _child(node: Node, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for item_key, value in node.value:
        if isinstance(item_key, ScalarNode) and item_key.value == key:
            found: Node = value
            return found
    return None


def truthy(node: Node) -> bool:
    """What `{{ if .Values.x }}` takes as true: not false, 0, "", null, or an empty collection."""
    if isinstance(node, ScalarNode):
        return node.value.strip().lower() not in ("", "false", "no", "off", "0", "null", "~")
    return bool(node.value)

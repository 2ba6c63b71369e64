"""MCP307 for Kubernetes YAML: podAffinity terms that co-locate pods by a session label."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node

from ...lang.yaml import Entry, KubeObject, YamlFile, entries, entry, get, items, scalar
from ...model import Diagnostic, Fix, FixSafety
from ...sdk.workloads import pod_spec

CODE = "MCP307"
_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
_PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
_SESSION = re.compile("session", re.IGNORECASE)


@dataclass(frozen=True)
class _Term:
    kind: str  # "required" / "preferred"
    item: Node  # the list item that goes
    where: Node  # what names the session (for the span)
    end: Node
    label: str


def check(file: YamlFile) -> Iterator[Diagnostic]:
    for obj in file.objects():
        if obj.suppressed(CODE):
            continue
        spec = pod_spec(obj)
        pod_affinity = entry(get(spec, "affinity"), "podAffinity")
        if pod_affinity is None or not isinstance(pod_affinity.value, MappingNode):
            continue
        yield from _terms(file, obj, pod_affinity.value)


def _terms(file: YamlFile, obj: KubeObject, pod_affinity: MappingNode) -> Iterator[Diagnostic]:
    found: list[_Term] = []
    doomed: list[Entry] = []
    for listed in entries(pod_affinity):
        if listed.key.value not in (_REQUIRED, _PREFERRED):
            continue
        kind = "required" if listed.key.value == _REQUIRED else "preferred"
        terms = items(listed.value)
        pinned = []
        for item in terms:
            term = item if kind == "required" else get(item, "podAffinityTerm")
            named = _session_label(term)
            if named is not None:
                pinned.append(item)
                found.append(_Term(kind, item, *named))
        if pinned and len(pinned) == len(terms):
            doomed.append(listed)  # the list would be left empty: its key goes (and so on up)
        else:
            doomed.extend(e for item in pinned for e in entries(item))
    if not found:
        return
    fix = None
    if not file.template:  # Helm templates are reported, never rewritten
        fix = Fix(FixSafety.SAFE, "Remove the session-pinned podAffinity terms", tuple(file.remove(doomed)))
    for pinned_term in found:
        message = (
            f"{obj.label} co-locates its pods by the session label {pinned_term.label} (a {pinned_term.kind} "
            "podAffinity term): sessions no longer live in pods, so the term only constrains scheduling"
        )
        yield Diagnostic(CODE, file.span(pinned_term.where, pinned_term.end), message, fix)


def _session_label(term: Node | None) -> tuple[Node, Node, str] | None:
    """(start node, end node, description) of the first selector part that names a session."""
    selector = get(term, "labelSelector")
    for label in entries(get(selector, "matchLabels")):
        if names_session(label.key.value) or names_session(scalar(label.value) or ""):
            return label.key, label.value, f"`{label.key.value}: {scalar(label.value)}`"
    for expression in items(get(selector, "matchExpressions")):
        key = scalar(get(expression, "key")) or ""
        values = [scalar(v) or "" for v in items(get(expression, "values"))]
        if names_session(key) or any(names_session(v) for v in values):
            operator = scalar(get(expression, "operator")) or ""
            listed = f" [{', '.join(values)}]" if values else ""
            return expression, expression, f"`{key} {operator}{listed}`"
    for field in ("matchLabelKeys", "mismatchLabelKeys"):
        for key_node in items(get(term, field)):
            if names_session(scalar(key_node) or ""):
                return key_node, key_node, f"key `{scalar(key_node)}` ({field})"
    return None


# A label naming a backing service that stores sessions (co-locating with a Redis
# "session-store" is a latency choice, not session pinning).
_BACKING_SERVICE = re.compile(r"store|cache|redis|memcache|db|database", re.IGNORECASE)


def names_session(text: str) -> bool:
    """`session-group`, `mcp_session`, `mcpSession`, `SESSION_ID`; not `possession`, and not
    a session *store* (`session-store`, `session-redis`)."""
    if _BACKING_SERVICE.search(text):
        return False
    for match in _SESSION.finditer(text):
        start = match.start()
        if start == 0 or not text[start - 1].isalpha() or (text[start] == "S" and text[start - 1].islower()):
            return True
    return False

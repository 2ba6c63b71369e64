"""MCP301 for Kubernetes YAML: Service affinity and cloud load-balancer stickiness."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.yaml import Entry, KubeObject, YamlFile, entries, entry, get, scalar
from ...model import Diagnostic, Edit, Fix, FixSafety
from ...sdk.kubernetes import is_aws_tg_attributes, sticky_pairs

CODE = "MCP301"
_DO_STICKY = "service.beta.kubernetes.io/do-loadbalancer-sticky-sessions-type"
_ISTIO_LABELS = ("istio.io/persistent-session", "istio.io/persistent-session-header")


def check(file: YamlFile) -> Iterator[Diagnostic]:
    for obj in file.objects():
        if obj.kind != "Service" or obj.suppressed(CODE):
            continue
        yield from _affinity(file, obj)
        yield from _annotations(file, obj)
        yield from _istio_labels(file, obj)


def _fix(file: YamlFile, description: str, edits: list[Edit]) -> Fix | None:
    """Templates are reported, never rewritten (MCP306 points at values.yaml)."""
    return None if file.template else Fix(FixSafety.SAFE, description, tuple(edits))


def _affinity(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    found = entry(spec, "sessionAffinity")
    if found is None or scalar(found.value) != "ClientIP":
        return
    doomed = [found]
    config = entry(spec, "sessionAffinityConfig")
    if config is not None:
        doomed.append(config)
    message = f"{obj.label} has `sessionAffinity: ClientIP`: every client is pinned to one pod"
    description = "Remove `sessionAffinity`" + (" and `sessionAffinityConfig`" if config else "")
    yield Diagnostic(CODE, file.span(found.key, found.value), message, _fix(file, description, file.remove(doomed)))


def _annotations(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    annotations = obj.annotations()
    listed = entries(annotations)
    do = next((e for e in listed if e.key.value == _DO_STICKY), None)
    if do is not None and (scalar(do.value) or "").lower() not in ("", "none"):
        doomed = [e for e in listed if e.key.value.startswith(_DO_STICKY.removesuffix("-type"))]
        message = f"{obj.label} asks the DigitalOcean load balancer for sticky sessions ({scalar(do.value)})"
        fix = _fix(file, "Remove the DigitalOcean sticky-session annotations", file.remove(doomed))
        yield Diagnostic(CODE, file.span(do.key, do.value), message, fix)
    for item in listed:
        value = scalar(item.value)
        if not is_aws_tg_attributes(item.key.value) or value is None:
            continue
        sticky, rest = sticky_pairs(value)
        if not sticky:
            continue
        message = f"{obj.label} turns on AWS target-group stickiness (`stickiness.enabled=true`)"
        edits = file.remove([item]) if rest is None else [file.replace_scalar(item.value, rest)]  # type: ignore[arg-type]
        fix = _fix(file, "Remove the `stickiness.*` attributes, keep the others", edits)
        yield Diagnostic(CODE, file.span(item.key, item.value), message, fix)


def _istio_labels(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    labels = get(obj.node, "metadata", "labels")
    doomed: list[Entry] = [e for e in entries(labels) if e.key.value in _ISTIO_LABELS]
    if doomed:
        message = f"{obj.label} enables Istio persistent sessions (`{doomed[0].key.value}`)"
        fix = _fix(file, "Remove the Istio persistent-session labels", file.remove(doomed))
        yield Diagnostic(CODE, file.span(doomed[0].key, doomed[0].value), message, fix)

"""MCP304 for Kubernetes YAML: Gateway API and cloud policies that persist sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from yaml.nodes import MappingNode, Node

from ...lang.yaml import Entry, KubeObject, YamlFile, entries, entry, get, items, scalar
from ...model import Diagnostic
from ...sdk.kubernetes import header_is_session
from ..mcp303_consistent_hash_routing._prune import Hit, Pruner, api_group, label, literal, truthy, walk

CODE = "MCP304"

_GATEWAY_API = ("gateway.networking.k8s.io", "gateway.networking.x-k8s.io")
_TARGETS = {"targetRef", "targetRefs", "targetReference"}


def check(file: YamlFile) -> Iterator[Diagnostic]:
    for obj in file.objects():
        handler = _handler(api_group(obj.api_version), obj.kind)
        if handler is not None and not obj.suppressed(CODE):
            yield from handler(file, obj)


def _handler(group: str, kind: str) -> Callable[[YamlFile, KubeObject], Iterator[Diagnostic]] | None:
    if group in _GATEWAY_API and kind in ("HTTPRoute", "GRPCRoute"):
        return _routes
    if group in _GATEWAY_API and kind in ("BackendLBPolicy", "XBackendTrafficPolicy", "BackendTrafficPolicy"):
        return _backend_policy
    if group == "cloud.google.com" and kind == "BackendConfig":
        return _gke_backend_config
    if group == "networking.gke.io" and kind == "GCPBackendPolicy":
        return _gke_backend_policy
    if group == "alb.networking.azure.io" and kind in ("RoutePolicy", "IngressExtension"):
        return _azure
    if group == "gateway.k8s.aws" and kind in (
        "TargetGroupConfiguration",
        "ListenerRuleConfiguration",
        "LoadBalancerConfiguration",
    ):
        return _aws
    return None


def _orphan_note(pruner: Pruner, spec: Node | None, doomed: list[Entry], kind: str) -> str:
    """Say so when the fix leaves a policy that only points at its target."""
    left = pruner.remaining(spec, doomed)
    if left is not None and not set(left) - _TARGETS:
        return f"; afterwards nothing but its target is left, so the {kind} can be deleted"
    return ""


# -- Gateway API --------------------------------------------------------------------------------------
def _persistence(file: YamlFile, block: Node) -> tuple[str, bool]:
    """(how sessions are kept, whether it is by the MCP session header)."""
    kind = literal(file, get(block, "type")) or "Cookie"
    name = (
        literal(file, get(block, "sessionName"))
        or literal(file, get(block, "cookie", "name"))
        or literal(file, get(block, "header", "name"))
    )
    what = "header" if kind == "Header" else "cookie"
    if not name:
        return f"a session {what}", False
    return f"the `{name}` {what}", kind == "Header" and header_is_session(name)


def _message(who: str, where: str, how: str, session: bool) -> str:
    effect = "every MCP session is pinned to one pod" if session else "each client is pinned to one pod"
    return f"{who} keeps sessions on one backend by {how} (`sessionPersistence`{where}): {effect}"


def _routes(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    rules = items(get(obj.node, "spec", "rules"))
    hits: list[Hit] = []
    for number, rule in enumerate(rules, 1):
        found = entry(rule, "sessionPersistence")
        if found is None:
            continue
        how, session = _persistence(file, found.value)
        message = _message(label(file, obj), f" in rule {number}", how, session)
        if len(entries(rule)) == 1:
            message += "; the rule holds nothing else: give it its matches and backendRefs, or delete it"
            hits.append(Hit(file.span(found.key, found.value), message))
            continue
        description = "Remove `sessionPersistence` (the Gateway balances each request on its own)"
        hits.append(Hit(file.span(found.key, found.value), message, (found,), description))
    yield from Pruner(file).diagnostics(CODE, hits)


def _backend_policy(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    if obj.kind == "BackendTrafficPolicy" and api_group(obj.api_version) != "gateway.networking.x-k8s.io":
        return
    spec = get(obj.node, "spec")
    found = entry(spec, "sessionPersistence")
    if found is None:
        return
    pruner = Pruner(file)
    how, session = _persistence(file, found.value)
    message = _message(label(file, obj), "", how, session) + _orphan_note(pruner, spec, [found], obj.kind)
    description = "Remove `sessionPersistence`"
    yield from pruner.diagnostics(CODE, [Hit(file.span(found.key, found.value), message, (found,), description)])


# -- GKE ---------------------------------------------------------------------------------------------
def _gke_affinity(file: YamlFile, obj: KubeObject, spec: Node | None, found: Entry, field: str) -> Iterator[Diagnostic]:
    kind = scalar(get(found.value, field))
    if kind is None or kind.strip().upper() in ("", "NONE"):
        return
    shown = literal(file, get(found.value, field)) or "a templated value"
    pruner = Pruner(file)
    message = f"{label(file, obj)} sets `sessionAffinity` to {shown}: each client is pinned to one backend"
    left = pruner.remaining(spec, [found])
    if obj.kind == "BackendConfig" and left == []:
        message += (
            "; it configures nothing else, so delete this BackendConfig and the "
            "`cloud.google.com/backend-config` annotation that points at it"
        )
    elif left is not None and not set(left) - _TARGETS:
        message += f"; afterwards nothing but its target is left, so the {obj.kind} can be deleted"
    description = "Remove `sessionAffinity` (the default, NONE, applies)"
    yield from pruner.diagnostics(CODE, [Hit(file.span(found.key, found.value), message, (found,), description)])


def _gke_backend_config(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    found = entry(spec, "sessionAffinity")
    if found is not None:
        yield from _gke_affinity(file, obj, spec, found, "affinityType")


def _gke_backend_policy(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    found = entry(get(spec, "default"), "sessionAffinity")
    if found is not None:
        yield from _gke_affinity(file, obj, spec, found, "type")


# -- Azure Application Gateway for Containers -----------------------------------------------------
def _azure(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    hits: list[Hit] = []
    doomed: list[Entry] = []
    for path, found in walk(spec, "spec"):
        if found.key.value != "sessionAffinity" or not isinstance(found.value, MappingNode):
            continue
        kind = scalar(get(found.value, "affinityType"))
        if kind is None or kind.strip().lower() in ("", "none"):
            continue
        shown = literal(file, get(found.value, "affinityType")) or "a templated value"
        cookie = literal(file, get(found.value, "cookieName"))
        how = f"`{shown}` affinity" + (f" (cookie `{cookie}`)" if cookie else "")
        message = f"{label(file, obj)} pins each client to one backend with {how} at `{path}`"
        description = "Remove `sessionAffinity`"
        hits.append(Hit(file.span(found.key, found.value), message, (found,), description))
        doomed.append(found)
    settings = {id(item) for item in items(get(spec, "backendSettings"))}

    def filler(mapping: MappingNode, rest: list[str]) -> bool:
        # An IngressExtension backend setting naming only its service configures nothing.
        return id(mapping) in settings and rest == ["service"]

    pruner = Pruner(file, filler=filler)
    note = _orphan_note(pruner, spec, doomed, obj.kind) if doomed else ""
    hits = [Hit(h.span, h.message + note, h.doomed, h.description) for h in hits]
    yield from pruner.diagnostics(CODE, hits)


# -- AWS Load Balancer Controller (Gateway API) ----------------------------------------------------
_AWS_STICKINESS = ("targetGroupStickinessConfig", "targetGroupStickiness")


def _aws(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    hits: list[Hit] = []
    for path, found in walk(spec, "spec"):
        if found.key.value == "targetGroupAttributes":
            hit = _aws_attributes(file, obj, path, found.value)
            if hit is not None:
                hits.append(hit)
        elif found.key.value in _AWS_STICKINESS and truthy(get(found.value, "enabled")):
            duration = literal(file, get(found.value, "durationSeconds"))
            lasting = f" for {duration}s" if duration else ""
            message = (
                f"{label(file, obj)} turns on target-group stickiness{lasting} at `{path}`: "
                "each client stays on one target group of the forward action"
            )
            description = f"Remove `{found.key.value}`"
            hits.append(Hit(file.span(found.key, found.value), message, (found,), description))
    routes = {id(item) for item in items(get(spec, "routeConfigurations"))}

    def filler(mapping: MappingNode, rest: list[str]) -> bool:
        # A route configuration naming only its route configures nothing (and
        # `targetGroupProps` is required, so it cannot stay without it).
        return id(mapping) in routes and rest == ["routeIdentifier"]

    yield from Pruner(file, filler=filler).diagnostics(CODE, hits)


def _aws_attributes(file: YamlFile, obj: KubeObject, path: str, attributes: Node) -> Hit | None:
    """`targetGroupAttributes: [{key: stickiness.enabled, value: "true"}, ...]`: the
    `stickiness.*` items go (they do nothing without `stickiness.enabled`), the others stay."""
    sticky = [item for item in items(attributes) if (scalar(get(item, "key")) or "").startswith("stickiness.")]
    enabled = next((i for i in sticky if scalar(get(i, "key")) == "stickiness.enabled"), None)
    if enabled is None or not truthy(get(enabled, "value")):
        return None
    doomed = tuple(e for item in sticky for e in entries(item))
    kind = next((literal(file, get(i, "value")) for i in sticky if scalar(get(i, "key")) == "stickiness.type"), None)
    how = f" ({kind})" if kind else ""
    message = f"{label(file, obj)} turns on target-group stickiness{how} at `{path}`: each client is pinned to one pod"
    description = "Remove the `stickiness.*` attributes, keep the others"
    return Hit(file.span(enabled), message, doomed, description)

"""MCP303 for Kubernetes YAML: load balancers that hash requests onto one pod."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from yaml.nodes import MappingNode, Node

from ...lang.yaml import Entry, KubeObject, YamlFile, entries, entry, get, items, scalar
from ...model import Diagnostic
from ...sdk.kubernetes import header_is_session
from ._prune import Hit, Pruner, api_group, label, literal, truthy

CODE = "MCP303"

_SESSION = "every MCP session is pinned to one pod"
_CLIENT = "each client is pinned to one pod"


def check(file: YamlFile) -> Iterator[Diagnostic]:
    for obj in file.objects():
        handler = _HANDLERS.get((api_group(obj.api_version), obj.kind))
        if handler is not None and not obj.suppressed(CODE):
            yield from handler(file, obj)


# -- wording ----------------------------------------------------------------------------------------
class _Key:
    """What a load balancer hashes on, for the message."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.session = False

    def header(self, name: str | None) -> None:
        if name is None:
            self.parts.append("a header")
        elif header_is_session(name):
            self.session = True
            self.parts.append(f"the `{name}` header")
        else:
            self.parts.append(f"the `{name}` header")

    def add(self, what: str, name: str | None) -> None:
        self.parts.append(f"the `{name}` {what}" if name else f"a {what}")

    def text(self, fallback: str = "a consistent hash") -> str:
        return " and ".join(self.parts) if self.parts else fallback

    @property
    def effect(self) -> str:
        return _SESSION if self.session else _CLIENT


def _where(*parts: str) -> str:
    shown = [p for p in parts if p]
    return f" ({', '.join(shown)})" if shown else ""


def _policy_note(pruner: Pruner, spec: Node | None, doomed: list[Entry], kind: str) -> str:
    """Say so when a fix leaves a policy that only points at its target."""
    left = pruner.remaining(spec, doomed)
    if left is not None and not set(left) - {"targetRef", "targetRefs"}:
        return f"; nothing but its target is left afterwards, so the {kind} can be deleted"
    return ""


# -- Istio DestinationRule --------------------------------------------------------------------------
def _istio(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    policies: list[tuple[str, Node | None]] = [("spec.trafficPolicy", get(spec, "trafficPolicy"))]
    for subset in items(get(spec, "subsets")):
        name = literal(file, get(subset, "name"))
        policies.append((f"subset {name!r}" if name else "a subset", get(subset, "trafficPolicy")))
    port_items: set[int] = set()
    hits: list[Hit] = []
    for where, policy in policies:
        hits += _istio_policy(file, obj, where, policy)
        for setting in items(get(policy, "portLevelSettings")):
            port_items.add(id(setting))
            number = literal(file, get(setting, "port", "number"))
            hits += _istio_policy(file, obj, f"{where}, port {number or '?'}", setting)

    def filler(mapping: MappingNode, rest: list[str]) -> bool:
        # A port-level item holding nothing but its `port` selector configures nothing.
        return id(mapping) in port_items and rest == ["port"]

    yield from Pruner(file, filler=filler).diagnostics(CODE, hits)


def _istio_policy(file: YamlFile, obj: KubeObject, where: str, policy: Node | None) -> list[Hit]:
    found = entry(get(policy, "loadBalancer"), "consistentHash")
    if found is None:
        return []
    key = _Key()
    hashed = found.value
    if get(hashed, "httpHeaderName") is not None:
        key.header(literal(file, get(hashed, "httpHeaderName")))
    if get(hashed, "httpCookie") is not None:
        key.add("cookie", literal(file, get(hashed, "httpCookie", "name")))
    if truthy(get(hashed, "useSourceIp")):
        key.parts.append("the client IP")
    if get(hashed, "httpQueryParameterName") is not None:
        key.add("query parameter", literal(file, get(hashed, "httpQueryParameterName")))
    message = f"{label(file, obj)} hashes requests on {key.text()}{_where(where)}: {key.effect}"
    description = "Remove `consistentHash` (Istio's default balancing, LEAST_REQUEST, applies)"
    return [Hit(file.span(found.key, found.value), message, (found,), description)]


# -- Envoy Gateway BackendTrafficPolicy -------------------------------------------------------------
def _envoy(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    found = entry(spec, "loadBalancer")
    if found is None or scalar(get(found.value, "type")) != "ConsistentHash":
        return
    hashed = get(found.value, "consistentHash")
    kind = scalar(get(hashed, "type"))
    key = _Key()
    if kind == "SourceIP":
        key.parts.append("the client IP")
    if kind in ("Header", "Headers"):
        names = [get(hashed, "header", "name")] + [get(h, "name") for h in items(get(hashed, "headers"))]
        for name in (n for n in names if n is not None):
            key.header(literal(file, name))
    if kind == "Cookie":
        key.add("cookie", literal(file, get(hashed, "cookie", "name")))
    if kind == "QueryParams":
        for param in items(get(hashed, "queryParams")):
            key.add("query parameter", literal(file, get(param, "name")))
    pruner = Pruner(file)
    others = [e.key.value for e in entries(found.value) if e.key.value not in ("type", "consistentHash")]
    span = file.span(found.key, found.value)
    message = f"{label(file, obj)} balances with `ConsistentHash` on {key.text()}: {key.effect}"
    if others:
        # `type` is required: removing it next to other settings leaves an invalid policy.
        listed = ", ".join(f"`{o}`" for o in others)
        message += f"; set `type: LeastRequest` and remove `consistentHash` (kept: {listed})"
        yield from pruner.diagnostics(CODE, [Hit(span, message)])
        return
    message += _policy_note(pruner, spec, [found], "BackendTrafficPolicy")
    description = "Remove `loadBalancer` (Envoy Gateway's default, LeastRequest, applies)"
    yield from pruner.diagnostics(CODE, [Hit(span, message, (found,), description)])


# -- Contour HTTPProxy ------------------------------------------------------------------------------
def _contour(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    routes = items(get(spec, "routes"))
    places: list[tuple[str, Node | None]] = [(f"route {i}", route) for i, route in enumerate(routes, 1)]
    places.append(("tcpproxy", get(spec, "tcpproxy")))
    hits: list[Hit] = []
    for where, place in places:
        found = entry(place, "loadBalancerPolicy")
        strategy = scalar(get(found.value, "strategy")) if found else None
        if found is None or strategy not in ("Cookie", "RequestHash"):
            continue
        key = _Key()
        if strategy == "Cookie":
            key.parts.append("a cookie Contour sets")
        for policy in items(get(found.value, "requestHashPolicies")):
            if get(policy, "headerHashOptions") is not None:
                key.header(literal(file, get(policy, "headerHashOptions", "headerName")))
            if get(policy, "queryParameterHashOptions") is not None:
                key.add("query parameter", literal(file, get(policy, "queryParameterHashOptions", "parameterName")))
            if truthy(get(policy, "hashSourceIP")):
                key.parts.append("the client IP")
        who = label(file, obj)
        message = f"{who} balances with `strategy: {strategy}` on {key.text()}{_where(where)}: {key.effect}"
        description = "Remove `loadBalancerPolicy` (Contour's default, RoundRobin, applies)"
        hits.append(Hit(file.span(found.key, found.value), message, (found,), description))
    route_ids = {id(r) for r in routes}
    # A route is never removed as a side effect: that would change what is routed.
    yield from Pruner(file, keep=lambda node: id(node) in route_ids).diagnostics(CODE, hits)


# -- Kong -------------------------------------------------------------------------------------------
_KONG_STICKY = ("consistent-hashing", "sticky-sessions")
_KONG_KEYS = ("hashOn", "hashOnFallback", "stickySessions")
_KONG_INPUTS = {"ip": "the client IP", "consumer": "the consumer", "path": "the request path"}


def _kong_target(file: YamlFile, key: _Key, target: Node | None) -> None:
    """KongUpstreamPolicy `hashOn` / `stickySessions` (camelCase mapping)."""
    if get(target, "header") is not None:
        key.header(literal(file, get(target, "header")))
    if get(target, "cookie") is not None:
        key.add("cookie", literal(file, get(target, "cookie")))
    if get(target, "queryArg") is not None:
        key.add("query argument", literal(file, get(target, "queryArg")))
    if get(target, "uriCapture") is not None:
        key.add("URI capture", literal(file, get(target, "uriCapture")))
    kind = literal(file, get(target, "input"))
    if kind:
        key.parts.append(_KONG_INPUTS.get(kind, f"`{kind}`"))


def _kong_upstream_policy(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    algorithm = entry(spec, "algorithm")
    sticky_algorithm = algorithm is not None and scalar(algorithm.value) in _KONG_STICKY
    hashing = [e for e in entries(spec) if e.key.value in _KONG_KEYS]
    if not sticky_algorithm and not hashing:
        return
    key = _Key()
    for found in hashing:
        if found.key.value != "hashOnFallback":
            _kong_target(file, key, found.value)
    doomed = ([algorithm] if sticky_algorithm and algorithm else []) + hashing
    at = doomed[0]
    how = f"`{scalar(algorithm.value)}`" if sticky_algorithm and algorithm else "`hashOn`"
    pruner = Pruner(file)
    message = f"{label(file, obj)} balances with {how} on {key.text('a hash')}: {key.effect}"
    if pruner.remaining(spec, doomed) == []:
        message += "; nothing else is left, so the policy and its `konghq.com/upstream-policy` annotation can go"
    listed = ", ".join(f"`{e.key.value}`" for e in doomed)
    description = f"Remove {listed} (Kong's default, round-robin, applies)"
    yield from pruner.diagnostics(CODE, [Hit(file.span(at.key, at.value), message, tuple(doomed), description)])


def _kong_ingress(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    upstream = get(obj.node, "upstream")
    hash_on = entry(upstream, "hash_on")
    algorithm = entry(upstream, "algorithm")
    hashing = hash_on is not None and (scalar(hash_on.value) or "none") != "none"
    sticky = algorithm is not None and scalar(algorithm.value) in _KONG_STICKY
    if not hashing and not sticky:
        return
    at = hash_on if hashing else algorithm
    if at is None:
        return
    key = _Key()
    kind = literal(file, hash_on.value) if hash_on else None
    if kind == "header":
        key.header(literal(file, get(upstream, "hash_on_header")))
    elif kind == "cookie":
        key.add("cookie", literal(file, get(upstream, "hash_on_cookie")))
    elif kind == "query_arg":
        key.add("query argument", literal(file, get(upstream, "hash_on_query_arg")))
    elif kind == "ip":
        key.parts.append("the client IP")
    elif kind:
        key.parts.append(f"`{kind}`")
    message = (
        f"{label(file, obj)} hashes requests on {key.text('a hash')} (`upstream.{at.key.value}`): {key.effect}; "
        "KongIngress is deprecated: move its upstream settings to a KongUpstreamPolicy without hashing"
    )
    yield Diagnostic(CODE, file.span(at.key, at.value), message)


# -- Consul ServiceResolver -------------------------------------------------------------------------
def _consul(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    balancer = get(obj.node, "spec", "loadBalancer")
    policy = entry(balancer, "policy")
    if policy is None or scalar(policy.value) not in ("maglev", "ring_hash"):
        return
    key = _Key()
    for rule in items(get(balancer, "hashPolicies")):
        field, value = literal(file, get(rule, "field")), literal(file, get(rule, "fieldValue"))
        if field == "header":
            key.header(value)
        elif field == "cookie":
            key.add("cookie", value)
        elif field == "query_parameter":
            key.add("query parameter", value)
        if truthy(get(rule, "sourceIP")):
            key.parts.append("the client IP")
    message = (
        f"{label(file, obj)} balances with `{scalar(policy.value)}` on {key.text('a hash')}: {key.effect}; "
        "once the server is stateless, set `policy: least_request` and drop `hashPolicies`"
    )
    yield Diagnostic(CODE, file.span(policy.key, policy.value), message)


# -- NGINX Gateway Fabric UpstreamSettingsPolicy ----------------------------------------------------
def _nginx_gateway(file: YamlFile, obj: KubeObject) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    method = entry(spec, "loadBalancingMethod")
    value = (scalar(method.value) if method else None) or ""
    if method is None or value.split(" ")[0] not in ("ip_hash", "hash"):
        return
    doomed = [method]
    key = _Key()
    if value == "ip_hash":
        key.parts.append("the client IP")
    else:
        hash_key = entry(spec, "hashMethodKey")
        if hash_key is not None:
            doomed.append(hash_key)
            variable = literal(file, hash_key.value)
            if variable and variable.startswith("$http_"):
                key.header(variable)
            else:
                key.add("key", variable)
    pruner = Pruner(file)
    message = f"{label(file, obj)} balances with `{value}` on {key.text()}: {key.effect}"
    message += _policy_note(pruner, spec, doomed, "UpstreamSettingsPolicy")
    description = "Remove `loadBalancingMethod` (NGINX's default, round_robin, applies)"
    span = file.span(method.key, method.value)
    yield from pruner.diagnostics(CODE, [Hit(span, message, tuple(doomed), description)])


_HANDLERS: dict[tuple[str, str], Callable[[YamlFile, KubeObject], Iterator[Diagnostic]]] = {
    ("networking.istio.io", "DestinationRule"): _istio,
    ("gateway.envoyproxy.io", "BackendTrafficPolicy"): _envoy,
    ("projectcontour.io", "HTTPProxy"): _contour,
    ("configuration.konghq.com", "KongUpstreamPolicy"): _kong_upstream_policy,
    ("configuration.konghq.com", "KongIngress"): _kong_ingress,
    ("consul.hashicorp.com", "ServiceResolver"): _consul,
    ("gateway.nginx.org", "UpstreamSettingsPolicy"): _nginx_gateway,
}

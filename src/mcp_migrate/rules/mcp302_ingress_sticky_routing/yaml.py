"""MCP302 for Kubernetes YAML: sticky routing in ingress controllers and routers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from ...lang.yaml import Entry, KubeObject, YamlFile, entries, entry, get, items, scalar
from ...model import Diagnostic, Edit, Fix, FixSafety, Span
from ...sdk.kubernetes import header_is_session, is_aws_tg_attributes, sticky_pairs

CODE = "MCP302"

# ingress-nginx, under any annotation prefix: matched on what follows the last `/`.
_COOKIE_SUFFIXES = ("affinity", "affinity-mode", "affinity-canary-behavior")
_HASH_SUFFIXES = ("upstream-hash-by", "upstream-hash-by-subset", "upstream-hash-by-subset-size")
_SNIPPET_SUFFIXES = ("configuration-snippet", "server-snippet")
# nginx directives that pick an upstream per client, at the start of a statement
_STICKY_DIRECTIVE = re.compile(r"(?:^|[;{}])\s*(ip_hash|hash|sticky\w*)(?=[\s;]|$)", re.M)

_HAPROXY_INGRESS = "haproxy-ingress.github.io"
_F5_STICKY = "nginx.com/sticky-cookie-services"
_F5_LB_METHOD = "nginx.org/lb-method"
_ALB_ACTION = "alb.ingress.kubernetes.io/actions."
_TRAEFIK = "traefik.ingress.kubernetes.io/"
_TRAEFIK_STICKY = _TRAEFIK + "service.sticky.cookie"
_TRAEFIK_V1 = (_TRAEFIK + "affinity", _TRAEFIK + "session-cookie-name")
_TRAEFIK_GROUPS = ("traefik.io", "traefik.containo.us")
_HAPROXY = "haproxy.org/"
_HAPROXY_COOKIE = ("cookie-persistence", "cookie-persistence-no-dynamic")
_HAPROXY_STICKY_BALANCE = re.compile(r"^\s*(source|hdr\(|url_param|rdp-cookie)", re.I)
_AGIC = "appgw.ingress.kubernetes.io/cookie-based-affinity"
_DISABLE_COOKIES = "haproxy.router.openshift.io/disable_cookies"
_COOKIE_NAME = ("router.openshift.io/cookie_name", "router.openshift.io/cookie-same-site")
_BALANCE = "haproxy.router.openshift.io/balance"
_TRUE = ("1", "t", "true")  # Go's strconv.ParseBool, which the OpenShift router uses
_TEMPLATE_LINE = re.compile(r"^[ \t]*\{\{.*\}\}[ \t]*$", re.M)

Concern = Callable[[YamlFile, KubeObject, list[Entry]], Iterator[Diagnostic]]


def check(file: YamlFile) -> Iterator[Diagnostic]:
    for obj in file.objects():
        if obj.suppressed(CODE):
            continue
        group = obj.api_version.rpartition("/")[0]
        listed = entries(obj.annotations())
        if obj.kind == "Ingress":
            concerns: Sequence[Concern] = (_nginx, _haproxy_ingress, _f5, _alb, _haproxy, _agic)
        elif obj.kind == "Service" and obj.api_version == "v1":
            concerns = (_traefik_service, _haproxy_ingress, _haproxy)
        elif obj.kind == "ConfigMap" and obj.api_version == "v1":
            concerns = (_haproxy_configmap,)
        elif obj.kind in ("VirtualServer", "VirtualServerRoute") and group == "k8s.nginx.org":
            concerns = (_virtual_server,)
        elif obj.kind in ("IngressRoute", "TraefikService") and group in _TRAEFIK_GROUPS:
            concerns = (_traefik_crd,)
        elif obj.kind == "Route" and (group == "route.openshift.io" or obj.api_version == "v1"):
            concerns = (_openshift_route,)
        else:
            continue
        for concern in concerns:
            yield from concern(file, obj, listed)


# -- fixes ---------------------------------------------------------------------------------------
def _fix(file: YamlFile, obj: KubeObject, description: str, edits: list[Edit] | None) -> Fix | None:
    """Templates are reported, never rewritten (MCP306 points at values.yaml)."""
    if file.template or not edits:
        return None
    return Fix(FixSafety.SAFE, description, tuple(file.claim_document(obj.node, edits)))


def _line_end(file: YamlFile, offset: int) -> int:
    """Just past the line break of the line holding `offset`."""
    line, _ = file.lines.position(offset)
    return file.lines.starts[line] if line < len(file.lines.starts) else len(file.text)


def _insert_line(file: YamlFile, after: Node, line: str) -> Edit:
    """A new line below the line where `after` ends."""
    at = _line_end(file, file.content_end(after))
    if at == len(file.text) and not file.text.endswith(("\n", "\r")):
        return Edit(at, at, file.newline + line)
    return Edit(at, at, line + file.newline)


def _set_string(file: YamlFile, node: ScalarNode, value: str) -> Edit:
    """Set a scalar to a string, in its own quotes; a plain one gets quotes only when the new
    value would not read as a string (`true`), since annotations are strings."""
    if node.style in ("'", '"') or isinstance(yaml.safe_load(value), str):
        return file.replace_scalar(node, value)
    return Edit(node.start_mark.index, node.end_mark.index, f'"{value}"')


def _templated(file: YamlFile, node: Node) -> bool:
    return file.is_template_text(node)


def _span(file: YamlFile, found: Entry) -> Span:
    return file.span(found.key, found.value)


def _suffix(key: str) -> tuple[str, str]:
    prefix, slash, suffix = key.rpartition("/")
    return (prefix, suffix) if slash else ("", "")


# -- ingress-nginx (any prefix) ------------------------------------------------------------------
def _nginx(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    mine = [e for e in listed if _suffix(e.key.value)[0] not in ("", _HAPROXY_INGRESS)]
    cookie = [e for e in mine if _is_cookie_suffix(_suffix(e.key.value)[1])]
    yield from _cookie_affinity(file, obj, cookie, ("cookie", "true"), "")
    hashing = [e for e in mine if _suffix(e.key.value)[1] in _HASH_SUFFIXES]
    yield from _upstream_hash(file, obj, hashing)
    for item in mine:
        value = scalar(item.value)
        if _suffix(item.key.value)[1] not in _SNIPPET_SUFFIXES or value is None or _templated(file, item.value):
            continue
        found = _STICKY_DIRECTIVE.search(value)
        if found is not None:
            message = (
                f"{obj.label} `{item.key.value}` picks the upstream per client with raw nginx "
                f"`{found.group(1)}`: remove that directive by hand"
            )
            yield Diagnostic(CODE, _span(file, item), message)


def _is_cookie_suffix(suffix: str) -> bool:
    return suffix in _COOKIE_SUFFIXES or suffix.startswith("session-cookie-")


def _cookie_affinity(
    file: YamlFile, obj: KubeObject, group: list[Entry], sticky_values: tuple[str, ...], controller: str
) -> Iterator[Diagnostic]:
    """`affinity: cookie` and its settings: one finding; the settings alone are dead weight."""
    if not group:
        return
    switch = next((e for e in group if _suffix(e.key.value)[1] == "affinity"), None)
    if switch is not None and _templated(file, switch.value):
        return  # decided by a template value: MCP306
    value = (scalar(switch.value) or "") if switch else ""
    if switch is not None and value.strip().lower() in sticky_values:
        where = switch
        message = (
            f"{obj.label} turns on{controller} cookie affinity (`{switch.key.value}: {value}`): "
            "each client sticks to one pod"
        )
    else:
        settings = [e for e in group if e is not switch]
        if not settings:
            return
        where = settings[0]
        message = (
            f"{obj.label} keeps{controller} session-cookie settings (`{where.key.value}`) "
            "that only serve sticky sessions"
        )
    fix = _fix(file, obj, "Remove the cookie-affinity annotations", file.remove(group))
    yield Diagnostic(CODE, _span(file, where), message, fix)


def _upstream_hash(file: YamlFile, obj: KubeObject, group: list[Entry]) -> Iterator[Diagnostic]:
    if not group:
        return
    by = next((e for e in group if _suffix(e.key.value)[1] == "upstream-hash-by"), None)
    if by is not None and _templated(file, by.value):
        return
    if by is not None:
        key = scalar(by.value) or ""
        where = by
        if header_is_session(key):
            message = f"{obj.label} sends every MCP session to one pod: `{by.key.value}` hashes on `{key}`"
        else:
            message = (
                f"{obj.label} hashes requests to pods on `{key}` (`{by.key.value}`): each client sticks to one pod"
            )
    else:
        where = group[0]
        message = f"{obj.label} keeps `{where.key.value}`, which does nothing without `upstream-hash-by`"
    fix = _fix(file, obj, "Remove the `upstream-hash-by` annotations", file.remove(group))
    yield Diagnostic(CODE, _span(file, where), message, fix)


def _haproxy_ingress(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    group = [
        e for e in listed if _suffix(e.key.value)[0] == _HAPROXY_INGRESS and _is_cookie_suffix(_suffix(e.key.value)[1])
    ]
    yield from _cookie_affinity(file, obj, group, ("cookie",), " HAProxy Ingress")


# -- F5 NGINX Ingress Controller -------------------------------------------------------------------
def _is_hash_method(value: str) -> bool:
    method = value.strip().lower()
    return method == "ip_hash" or method == "hash" or method.startswith("hash ")


def _f5(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    for item in listed:
        value = scalar(item.value)
        if value is None or _templated(file, item.value):
            continue
        if item.key.value == _F5_STICKY and value.strip():
            message = f"{obj.label} turns on NGINX Plus sticky cookies (`{_F5_STICKY}`)"
        elif item.key.value == _F5_LB_METHOD and _is_hash_method(value):
            message = f"{obj.label} hashes clients to pods (`{_F5_LB_METHOD}: {value}`)"
        else:
            continue
        fix = _fix(file, obj, f"Remove `{item.key.value}`", file.remove([item]))
        yield Diagnostic(CODE, _span(file, item), message, fix)


def _virtual_server(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    cookies: list[Entry] = []
    methods: list[Entry] = []
    for upstream in items(get(obj.node, "spec", "upstreams")):
        cookie = entry(upstream, "sessionCookie")
        if cookie is not None and scalar(get(cookie.value, "enable")) in ("true", "True", "TRUE"):
            cookies.append(cookie)
        method = entry(upstream, "lb-method")
        if method is not None and _is_hash_method(scalar(method.value) or "") and not _templated(file, method.value):
            methods.append(method)
    if cookies:
        upstreams = _count(cookies, "upstream")
        message = f"{obj.label} turns on NGINX Plus session cookies (`sessionCookie` on {upstreams})"
        fix = _fix(file, obj, "Remove `sessionCookie` from the upstreams", file.remove(cookies))
        yield Diagnostic(CODE, _span(file, cookies[0]), message, fix)
    if methods:
        message = f"{obj.label} hashes clients to pods (`lb-method: {scalar(methods[0].value)}`)"
        fix = _fix(file, obj, "Remove the hash `lb-method` from the upstreams", file.remove(methods))
        yield Diagnostic(CODE, _span(file, methods[0]), message, fix)


def _count(found: Sequence[object], noun: str) -> str:
    return f"1 {noun}" if len(found) == 1 else f"{len(found)} {noun}s"


# -- AWS Load Balancer Controller ------------------------------------------------------------------
def _alb(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    for item in listed:
        value = scalar(item.value)
        if value is None or _templated(file, item.value):
            continue
        if is_aws_tg_attributes(item.key.value):
            sticky, rest = sticky_pairs(value)
            if not sticky:
                continue
            message = f"{obj.label} turns on ALB target-group stickiness (`stickiness.enabled=true`)"
            node: ScalarNode = item.value  # type: ignore[assignment]
            edits = file.remove([item]) if rest is None else [file.replace_scalar(node, rest)]
            fix = _fix(file, obj, "Remove the `stickiness.*` attributes, keep the others", edits)
            yield Diagnostic(CODE, _span(file, item), message, fix)
        elif item.key.value.startswith(_ALB_ACTION):
            yield from _alb_action(file, obj, item, value)


def _alb_action(file: YamlFile, obj: KubeObject, item: Entry, value: str) -> Iterator[Diagnostic]:
    name = item.key.value.removeprefix(_ALB_ACTION)
    try:
        action = json.loads(value)
    except (ValueError, RecursionError):  # nested past what the decoder allows: not an action to edit
        if "stickiness" in value.lower():
            message = f"{obj.label} action `{name}` mentions stickiness but is not valid JSON: check it by hand"
            yield Diagnostic(CODE, _span(file, item), message)
        return
    if not _drop_stickiness(action):
        return
    message = f"{obj.label} action `{name}` turns on target-group stickiness (`targetGroupStickinessConfig`)"
    edit = _rewrite_json(file, item.value, action) if isinstance(item.value, ScalarNode) else None
    fix = _fix(file, obj, "Remove `targetGroupStickinessConfig` from the action", [edit] if edit else None)
    yield Diagnostic(CODE, _span(file, item), message, fix)


def _drop_stickiness(action: object) -> bool:
    """Remove an enabled `forwardConfig.targetGroupStickinessConfig` (keys are matched the
    way Go's encoding/json matches them: ignoring case). True if there was one."""
    if not isinstance(action, dict):
        return False
    forward = next((v for k, v in action.items() if k.lower() == "forwardconfig"), None)
    if not isinstance(forward, dict):
        return False
    keys = [k for k in forward if k.lower() == "targetgroupstickinessconfig"]
    enabled = any(
        isinstance(forward[k], dict) and any(f.lower() == "enabled" and v is True for f, v in forward[k].items())
        for k in keys
    )
    if enabled:
        for k in keys:
            del forward[k]
    return enabled


def _rewrite_json(file: YamlFile, node: ScalarNode, data: object) -> Edit | None:
    """An edit giving the scalar `data` as its JSON, in the scalar's own style: the stickiness
    member cut out of the text where that works, else the JSON written anew. None unless the
    new YAML reads back as exactly `data`."""
    if node.style in ("'", '"'):
        start, end = node.start_mark.index, node.end_mark.index
        dumped = _dump(data, node.value, indent=None)
        if node.style == "'":
            quoted = "'" + dumped.replace("'", "''") + "'"
        else:
            quoted = '"' + dumped.replace("\\", "\\\\").replace('"', '\\"') + '"'
        header, candidates = "", [_cut_member(file.text[start:end]), quoted]
    elif node.style in ("|", ">"):
        line, _ = file.lines.position(node.start_mark.index)
        if line >= len(file.lines.starts):
            return None
        start, end = file.lines.starts[line], file.content_end(node)
        header = file.text[node.start_mark.index : start].rstrip("\r\n") + "\n"
        if re.search(r"\d", header.split("#", 1)[0]) or end <= start:
            return None  # an explicit indentation indicator: leave it to a human
        lines = [x for x in file.text[start:end].splitlines() if x.strip()]
        indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
        if not indent or indent.strip():
            return None
        step = next((len(x) - len(x.lstrip()) - len(indent) for x in lines[1:] if x.startswith(indent + " ")), 2)
        dumped = _dump(data, "\n".join(lines), indent=step if len(lines) > 1 else None)
        candidates = [_cut_member(file.text[start:end]), file.newline.join(indent + x for x in dumped.splitlines())]
    else:
        return None
    for candidate in candidates:
        if candidate is not None and _reads_as(header + candidate, data):
            return Edit(start, end, candidate)
    return None


# `"targetGroupStickinessConfig": {...}` with the comma that separates it from a neighbour,
# also inside a double-quoted YAML scalar (`\"`); its value has no nested braces.
_MEMBER = r'\\?"targetGroupStickinessConfig\\?"\s*:\s*\{[^{}]*\}'
_MEMBER_AFTER = re.compile(r"\s*,\s*" + _MEMBER, re.I)  # `...], "tgsc": {...}`
_MEMBER_BEFORE = re.compile(_MEMBER + r"\s*,\s*", re.I)  # `{"tgsc": {...}, ...`


def _cut_member(text: str) -> str | None:
    for pattern in (_MEMBER_AFTER, _MEMBER_BEFORE):
        cut = pattern.sub("", text)
        if cut != text:
            return cut
    return None


def _reads_as(scalar_text: str, data: object) -> bool:
    """The YAML scalar text (a block scalar with its header line) holds exactly this JSON."""
    try:
        loaded = yaml.safe_load("value: " + scalar_text)
        return isinstance(loaded, dict) and isinstance(loaded["value"], str) and json.loads(loaded["value"]) == data
    except (yaml.YAMLError, ValueError):
        return False


def _dump(data: object, original: str, indent: int | None) -> str:
    if indent is not None:
        return json.dumps(data, indent=indent, ensure_ascii=False)
    items_sep = ", " if re.search(r",\s", original) else ","
    key_sep = ": " if re.search(r":\s", original) else ":"
    return json.dumps(data, separators=(items_sep, key_sep), ensure_ascii=False)


# -- Traefik --------------------------------------------------------------------------------------
def _traefik_service(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    sticky = [e for e in listed if e.key.value == _TRAEFIK_STICKY or e.key.value.startswith(_TRAEFIK_STICKY + ".")]
    legacy = [e for e in listed if e.key.value in _TRAEFIK_V1]
    group = sticky + legacy
    if not group or any(_templated(file, e.value) for e in group):
        return
    switch = next((e for e in group if e.key.value in (_TRAEFIK_STICKY, _TRAEFIK_V1[0])), None)
    off = switch is not None and (scalar(switch.value) or "").strip().lower() == "false"
    if off and len(group) == 1:
        return
    where = switch if switch is not None and not off else group[0]
    if off:
        message = (
            f"{obj.label} keeps Traefik sticky-cookie settings (`{where.key.value}`) that only serve sticky sessions"
        )
    else:
        message = f"{obj.label} asks Traefik for a sticky cookie (`{where.key.value}`): each client sticks to one pod"
    fix = _fix(file, obj, "Remove the Traefik sticky-cookie annotations", file.remove(group))
    yield Diagnostic(CODE, _span(file, where), message, fix)


def _traefik_crd(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    spec = get(obj.node, "spec")
    holders: list[Node] = [svc for route in items(get(spec, "routes")) for svc in items(get(route, "services"))]
    for mode, nested in (("weighted", "services"), ("mirroring", "mirrors")):
        balancer = get(spec, mode)
        if balancer is not None:
            holders.append(balancer)
            holders.extend(items(get(balancer, nested)))
    found = [e for e in (entry(h, "sticky") for h in holders) if e is not None]
    if not found:
        return
    message = f"{obj.label} asks Traefik for sticky sessions (`sticky` on {_count(found, 'service')})"
    fix = _fix(file, obj, "Remove `sticky`", file.remove(found))
    yield Diagnostic(CODE, _span(file, found[0]), message, fix)


# -- HAProxy Kubernetes Ingress (haproxytech) ------------------------------------------------------
def _haproxy(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    yield from _haproxy_keys(file, obj, listed, _HAPROXY)


def _haproxy_configmap(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    """The controller's ConfigMap holds the same settings, without the prefix."""
    data = get(obj.node, "data")
    yield from _haproxy_keys(file, obj, entries(data), "")
    yield from _haproxy_keys(file, obj, entries(data), _HAPROXY)


def _haproxy_keys(file: YamlFile, obj: KubeObject, listed: list[Entry], prefix: str) -> Iterator[Diagnostic]:
    cookie = [e for e in listed if e.key.value in tuple(prefix + k for k in _HAPROXY_COOKIE)]
    if cookie and not any(_templated(file, e.value) for e in cookie):
        message = (
            f"{obj.label} turns on HAProxy cookie persistence (`{cookie[0].key.value}`): each client sticks to one pod"
        )
        fix = _fix(file, obj, "Remove the HAProxy cookie-persistence settings", file.remove(cookie))
        yield Diagnostic(CODE, _span(file, cookie[0]), message, fix)
    balance = next((e for e in listed if e.key.value == prefix + "load-balance"), None)
    value = scalar(balance.value) if balance is not None else None
    if balance is not None and value and not _templated(file, balance.value) and _HAPROXY_STICKY_BALANCE.match(value):
        message = f"{obj.label} balances by client (`{balance.key.value}: {value}`): each client sticks to one pod"
        fix = _fix(file, obj, f"Remove `{balance.key.value}`", file.remove([balance]))
        yield Diagnostic(CODE, _span(file, balance), message, fix)


# -- Azure Application Gateway Ingress Controller -----------------------------------------------
def _agic(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    switch = next((e for e in listed if e.key.value == _AGIC), None)
    if switch is None or _templated(file, switch.value) or (scalar(switch.value) or "").strip().lower() != "true":
        return
    group = [e for e in listed if e.key.value in (_AGIC, _AGIC + "-distinct-name")]
    message = f"{obj.label} turns on Application Gateway cookie-based affinity: each client sticks to one pod"
    fix = _fix(file, obj, "Remove the cookie-based-affinity annotations", file.remove(group))
    yield Diagnostic(CODE, _span(file, switch), message, fix)


# -- OpenShift Route ------------------------------------------------------------------------------
def _openshift_route(file: YamlFile, obj: KubeObject, listed: list[Entry]) -> Iterator[Diagnostic]:
    metadata = get(obj.node, "metadata")
    if metadata is not None and file.template:
        region = file.text[metadata.start_mark.index : file.content_end(metadata)]
        if _TEMPLATE_LINE.search(region):
            return  # annotations come from a template: unknown here (MCP306)
    by_key = {e.key.value: e for e in listed}
    balance = by_key.get(_BALANCE)
    source = (
        balance is not None
        and not _templated(file, balance.value)
        and (scalar(balance.value) or "").strip().lower() == "source"
    )
    termination = (scalar(get(obj.node, "spec", "tls", "termination")) or "").strip().lower()
    if termination == "passthrough":
        if source and balance is not None:
            message = f"{obj.label} balances by client IP (`{_BALANCE}: source`): pick `roundrobin` or `leastconn`"
            yield Diagnostic(CODE, _span(file, balance), message)
        return
    disable = by_key.get(_DISABLE_COOKIES)
    if disable is not None and _templated(file, disable.value):
        return
    if disable is None or (scalar(disable.value) or "").strip().lower() not in _TRUE:
        yield from _route_cookies(file, obj, listed, disable, balance if source else None)
    elif source and balance is not None:
        message = f"{obj.label} balances by client IP (`{_BALANCE}: source`): each client sticks to one pod"
        fix = _fix(file, obj, "Set `balance` to `random`", [_set_string(file, balance.value, "random")])  # type: ignore[arg-type]
        yield Diagnostic(CODE, _span(file, balance), message, fix)


def _route_cookies(
    file: YamlFile, obj: KubeObject, listed: list[Entry], disable: Entry | None, balance: Entry | None
) -> Iterator[Diagnostic]:
    if disable is not None:
        where = disable
        message = (
            f'{obj.label} keeps the OpenShift router\'s sticky cookie (`{_DISABLE_COOKIES}: "{scalar(disable.value)}"`)'
        )
    else:
        kind = entry(obj.node, "kind")
        assert kind is not None  # objects() only yields objects with a kind
        where = kind
        message = (
            f"{obj.label} gets a sticky cookie from the OpenShift router "
            f'(the default without `{_DISABLE_COOKIES}: "true"`)'
        )
    edits = _disable_cookies(file, obj, disable, [e for e in listed if e.key.value in _COOKIE_NAME])
    if edits is not None and balance is not None:
        edits.append(_set_string(file, balance.value, "random"))  # type: ignore[arg-type]
    description = f'Add `{_DISABLE_COOKIES}: "true"`' + (" and set `balance` to `random`" if balance else "")
    yield Diagnostic(CODE, _span(file, where), message, _fix(file, obj, description, edits))


def _disable_cookies(file: YamlFile, obj: KubeObject, disable: Entry | None, doomed: list[Entry]) -> list[Edit] | None:
    """Edits that make `disable_cookies: "true"` hold and remove the `doomed` cookie settings,
    or None when that cannot be done exactly."""
    line = f'{_DISABLE_COOKIES}: "true"'
    if disable is not None:
        if not isinstance(disable.value, ScalarNode):
            return None
        return [_set_string(file, disable.value, "true"), *file.remove(doomed)]
    meta = entry(obj.node, "metadata")
    if meta is None or not isinstance(meta.value, MappingNode) or meta.value.flow_style or not meta.value.value:
        return None
    metadata = meta.value
    column = metadata.value[0][0].start_mark.column
    step = column - meta.key.start_mark.column if column > meta.key.start_mark.column else 2
    found = entry(metadata, "annotations")
    if found is None:
        block = f"{' ' * column}annotations:{file.newline}{' ' * (column + step)}{line}"
        return [_insert_line(file, metadata.value[-1][1], block)]
    annotations = found.value
    if isinstance(annotations, MappingNode) and annotations.value:
        every = len(doomed) == len(annotations.value)  # the new key takes the place of the old ones
        if annotations.flow_style:
            start, end = annotations.start_mark.index, file.content_end(annotations)
            if every:
                return [Edit(start, end, "{" + line + "}")]
            return [Edit(end - 1, end - 1, ", " + line), *file.remove(doomed)]
        indent = " " * annotations.value[0][0].start_mark.column
        if every:
            start = file.lines.line_start(annotations.value[0][0].start_mark.index)
            end = _line_end(file, file.content_end(annotations))
            tail = file.newline if file.text[start:end].endswith(("\n", "\r")) else ""
            return [Edit(start, end, indent + line + tail)]
        return [_insert_line(file, annotations.value[-1][1], indent + line), *file.remove(doomed)]
    if isinstance(annotations, MappingNode) and annotations.flow_style:  # `annotations: {}`
        end = file.content_end(annotations)
        return [Edit(end - 1, end - 1, line)]
    empty = isinstance(annotations, ScalarNode) and annotations.start_mark.index == annotations.end_mark.index
    if empty and scalar(annotations) == "":  # `annotations:` and nothing else
        return [_insert_line(file, found.key, " " * (found.key.start_mark.column + step) + line)]
    return None

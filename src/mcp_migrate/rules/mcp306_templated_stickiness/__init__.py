from ...model import FixAvailability, Gate, Rule, Severity

# `kind: Service` (block or flow style, quoted or not): passing annotations through matters there.
ROUTING_KIND = rb"""kind["']?[ \t]*:[ \t]*["']?(?:Ingress|Service|Route)\b"""

RULE = Rule(
    code="MCP306",
    name="templated-stickiness",
    summary="Helm chart emits sticky routing from values",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "yaml": (
            # sticky keys and annotations (templated, wrapped in `if`, or literal in values)
            b"sessionAffinity",
            b"consistentHash",
            b"sessionPersistence",
            b"/affinity",  # ingress-nginx under any prefix, and its affinity-mode companion
            b"-affinity",  # cookie-based-affinity
            b"session-cookie",
            b"sticky",
            b"stickiness",
            b"upstream-hash-by",
            b"cookie-persistence",
            # an Ingress, Service or Route whose annotations are rendered from values
            Gate(ROUTING_KIND, (b"toYaml", b"range")),
        ),
    },
    docs="""
## What it does
Finds Helm charts that render session stickiness from their values.

In a template (a YAML file with `{{ ... }}` actions, typically under `templates/`), at the
template line:
- `sessionAffinity`, `consistentHash` or `sessionPersistence` (and sticky ingress annotations
  such as `.../affinity` or `.../upstream-hash-by`) whose value is a template expression;
- the annotations of an Ingress, Service or Route rendered from values
  (`{{- toYaml .Values.ingress.annotations | nindent 4 }}`, also through
  `{{- with .Values.ingress.annotations }}` / `range`): sticky annotations in the values end up
  on the object;
- `{{- if .Values.ingress.sticky }}` / `with .Values.service.sessionAffinity` blocks (any
  values key naming stickiness, affinity, sessions or persistence) that wrap sticky keys.

In a values file (`values.yaml`, `values-prod.yaml`, ...: a single YAML mapping that is not a
Kubernetes object), the sticky literals themselves: `sessionAffinity: ClientIP`, and annotation
mappings holding ingress-nginx (any prefix) `affinity` / `session-cookie-*` / `upstream-hash-by`,
ALB/NLB `target-group-attributes` with `stickiness.enabled=true`, Traefik
`service.sticky.cookie`, Azure `cookie-based-affinity`, DigitalOcean sticky sessions, HAProxy
`cookie-persistence` or NGINX Plus `sticky-cookie-services`.
`podAffinity` / `podAntiAffinity` values (scheduling, see MCP307), `sessionAffinity: None` and
commented-out keys are not findings.

## Why
A chart that renders affinity from values keeps pinning clients even after the manifests it
once produced were cleaned up: the next `helm upgrade` brings the stickiness back. The fix
belongs in the values, which are plain YAML; the template only says where the values land.

## Example
```yaml
# templates/service.yaml
spec:
  sessionAffinity: {{ .Values.service.sessionAffinity }}
# values.yaml
service:
  sessionAffinity: ClientIP
ingress:
  annotations:
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"
```
Use instead:
```yaml
# values.yaml
service:
  sessionAffinity: None
ingress:
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"
```

A template is reported only when its values can make it sticky: a values file of the chart
(`values*.yaml` in the chart folder, not `templates/` or sub-`charts/`) or an overlay beside it
(`*values*.yaml` under the chart's parent folder, three levels down) sets a sticky value at the
path the template reads (a sticky annotation in the passed-through mapping, `ClientIP`, a true
`sticky` flag). `helm create`'s scaffold (`annotations: {}`) is not a finding. One finding per
knob: a sticky value the values rule reports (and fixes) in the values file is not reported
again on the template that renders it. A template with no `Chart.yaml` above it is reported as
before, with a note that there were no values to check. The values files read are recorded as
dependencies of the template in the results cache.

## Fix safety
Templates are never rewritten (no fix): a template line can render anything the values say.
Values files: safe. `sessionAffinity: ClientIP` becomes `None` rather than being removed,
because templates usually render the key verbatim and a missing value would render an empty
one (a `sessionAffinityConfig` next to it is removed: the API server rejects it with `None`).
Sticky annotation keys are deleted line by line and every other annotation stays; inside an
AWS attribute string only the `stickiness.*` pairs go. A mapping left empty stays as `{}`, so
templates that read it still find it.
""",
)

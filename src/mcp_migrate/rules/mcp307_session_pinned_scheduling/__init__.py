from ...model import FixAvailability, Gate, Rule, Severity

RULE = Rule(
    code="MCP307",
    name="session-pinned-scheduling",
    summary="podAffinity term co-locates pods by a session label",
    severity=Severity.WARNING,
    fix=FixAvailability.SOMETIMES,
    triggers={"yaml": (b"podAffinity",)},
    gates={"yaml": Gate(rb"(?i)session")},  # the selector names a session, in any case
    docs="""
## What it does
Finds `podAffinity` terms in the pod spec of a Pod, Deployment, StatefulSet, ReplicaSet,
DaemonSet, ReplicationController, Job or CronJob whose label selector names a session: a
`matchLabels` key or value containing `session` (e.g. `session-group: cx-mcp`), a
`matchExpressions` key or value containing it, or such a key in `matchLabelKeys` /
`mismatchLabelKeys`. Both `requiredDuringSchedulingIgnoredDuringExecution` terms and
`preferredDuringSchedulingIgnoredDuringExecution` terms (their `podAffinityTerm`) count.

Every other affinity is scheduling, not routing, and is not a finding: `podAntiAffinity`
(kube-linter even asks for it on multi-replica Deployments), `nodeAffinity`, and
`podAffinity` by `app` or any other label.

## Why
Such terms were added so that pods sharing session state (or a session group) landed
together while sessions were sticky. Once the server is stateless they only restrict where
replicas can run, and a required term can leave new replicas unschedulable.

## Example
```yaml
affinity:
  podAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector:
          matchLabels:
            session-group: cx-mcp
        topologyKey: kubernetes.io/hostname
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          labelSelector:
            matchLabels:
              app: mcp-gateway
          topologyKey: kubernetes.io/hostname
```
Use instead:
```yaml
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          labelSelector:
            matchLabels:
              app: mcp-gateway
          topologyKey: kubernetes.io/hostname
```

## Fix safety
Safe: the session terms are deleted line by line; a term list, `podAffinity` or `affinity`
left empty goes too, and every other term stays as written. In Helm templates the finding is
reported but the template is never rewritten.
""",
)

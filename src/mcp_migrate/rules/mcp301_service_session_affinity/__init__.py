from ...model import FixAvailability, Rule, Severity

RULE = Rule(
    code="MCP301",
    name="service-session-affinity",
    summary="Service or cloud load balancer pins clients to one pod",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "yaml": (b"sessionAffinity", b"sticky-sessions", b"stickiness", b"persistent-session"),
    },
    docs="""
## What it does
Finds Services that pin a client to one pod: `spec.sessionAffinity: ClientIP` (with its
`sessionAffinityConfig`), DigitalOcean sticky sessions
(`service.beta.kubernetes.io/do-loadbalancer-sticky-sessions-type`), AWS NLB target-group
stickiness (`stickiness.enabled=true` inside
`service.beta.kubernetes.io/aws-load-balancer-target-group-attributes`, per-port forms too) and
Istio persistent sessions (the `istio.io/persistent-session` / `-header` labels).
`sessionAffinity: None` is not a finding.

## Why
A stateless MCP server behind a sticky Service is still pinned: one hot pod, uneven scaling,
and clients that lose their place when that pod goes away. Round-robin is the point of
going stateless.

## Example
```yaml
spec:
  sessionAffinity: ClientIP
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 10800
  ports:
    - port: 80
```
Use instead:
```yaml
spec:
  ports:
    - port: 80
```

## Fix safety
Safe: the keys are deleted line by line and nothing else changes. `sessionAffinityConfig`
goes with `sessionAffinity` (the API server rejects it otherwise); inside the AWS attribute
string only the `stickiness.*` pairs are removed, and the annotation only when nothing is left.
In Helm templates the finding is reported but the template is never rewritten.
""",
)

from ...model import FixAvailability, Rule, Severity

RULE = Rule(
    code="MCP304",
    name="session-persistence-policy",
    summary="Gateway or cloud load-balancer policy keeps each session on one backend",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "yaml": (b"sessionPersistence", b"sessionAffinity", b"argetGroupStickiness", b"stickiness"),
    },
    docs="""
## What it does
Finds session persistence configured as a policy object or a route field:

- Gateway API: `spec.rules[].sessionPersistence` of an `HTTPRoute` or `GRPCRoute` (whatever its
  shape: `sessionName`/`type`/`cookieConfig` or the newer `cookie`/`header` form), and
  `spec.sessionPersistence` of a `BackendLBPolicy` / `XBackendTrafficPolicy`;
- GKE: a `BackendConfig` `spec.sessionAffinity` and a `GCPBackendPolicy`
  `spec.default.sessionAffinity` whose type is anything but `NONE`;
- Application Gateway for Containers: `sessionAffinity` (`application-cookie`,
  `managed-cookie`) anywhere in a `RoutePolicy` or `IngressExtension`;
- AWS Load Balancer Controller: `stickiness.enabled: "true"` among a `TargetGroupConfiguration`'s
  `targetGroupAttributes`, and an enabled `targetGroupStickinessConfig` /
  `targetGroupStickiness` in a `ListenerRuleConfiguration` or `LoadBalancerConfiguration`.

An affinity of `NONE`, `stickiness.enabled: "false"`, commented-out keys and look-alike keys
outside these kinds (a ConfigMap's data, say) are not findings.

## Why
Session persistence exists to bring every request of a session back to the replica that holds
it in memory. A stateless MCP server needs none of it, and keeping it keeps the costs: one hot
pod per heavy client, uneven scaling, and clients that lose their place when that pod goes.

## Example
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
spec:
  rules:
    - backendRefs:
        - name: mcp
          port: 8000
      sessionPersistence:
        sessionName: mcp-route
        type: Cookie
```
Use instead:
```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
spec:
  rules:
    - backendRefs:
        - name: mcp
          port: 8000
```

## Fix safety
Safe: the blocks are deleted line by line and every other byte stays; a parent they leave
empty goes with them (an `IngressExtension` backend setting left naming only its `service`
goes as a whole). Among AWS target-group attributes only the `stickiness.*` items are removed.
Objects are never deleted: when a policy is left with nothing but its target (or a
`BackendConfig` with nothing at all), the message says it can be deleted. A route rule that
holds nothing but `sessionPersistence` is reported without a fix (removing it would change what
is routed), and so is anything in a Helm template.
""",
)

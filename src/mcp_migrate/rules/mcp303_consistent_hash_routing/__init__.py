from ...model import FixAvailability, Rule, Severity

RULE = Rule(
    code="MCP303",
    name="consistent-hash-routing",
    summary="Load balancer hashes requests (often on Mcp-Session-Id) onto one pod",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "yaml": (
            b"consistentHash",
            b"ConsistentHash",
            b"RequestHash",
            b"loadBalancerPolicy",
            b"hashOn",
            b"hash_on",
            b"consistent-hashing",
            b"sticky-sessions",
            b"stickySessions",
            b"ip_hash",
            b"hashMethodKey",
            b"maglev",
            b"ring_hash",
        ),
    },
    docs="""
## What it does
Finds load-balancer policies that route by a consistent hash, so that the same key always
reaches the same pod:

- Istio `DestinationRule`: `loadBalancer.consistentHash` in `spec.trafficPolicy`, in each of
  its `portLevelSettings`, and in every subset's `trafficPolicy` (and its port-level settings);
- Envoy Gateway `BackendTrafficPolicy`: `loadBalancer.type: ConsistentHash`;
- Contour `HTTPProxy`: `loadBalancerPolicy` with `strategy: RequestHash` or `Cookie`, on a
  route or on `tcpproxy`;
- Kong `KongUpstreamPolicy`: `algorithm: consistent-hashing` / `sticky-sessions`, `hashOn`,
  `hashOnFallback`, `stickySessions`; the legacy `KongIngress` `upstream.hash_on*`;
- Consul `ServiceResolver`: `loadBalancer.policy: maglev` / `ring_hash` (with `hashPolicies`);
- NGINX Gateway Fabric `UpstreamSettingsPolicy`: `loadBalancingMethod: ip_hash` (or `hash`).

The message names what is hashed, and says so when it is the `Mcp-Session-Id` header (any
case). `simple: ROUND_ROBIN` / `LEAST_REQUEST` and other strategies are not findings, nor are
look-alike keys outside these kinds (a ConfigMap's data, say).

## Why
Hashing on `Mcp-Session-Id` (or a cookie, or the client IP) exists only to send every request
of a session back to the replica that holds it in memory. A stateless server does not need
it, and keeping it keeps the costs: one hot pod per heavy client, uneven scaling, and
sessions that move (and break) whenever the set of pods changes.

## Example
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
spec:
  host: mcp.default.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpHeaderName: Mcp-Session-Id
    connectionPool:
      http:
        http2MaxRequests: 1000
```
Use instead:
```yaml
apiVersion: networking.istio.io/v1
kind: DestinationRule
spec:
  host: mcp.default.svc.cluster.local
  trafficPolicy:
    connectionPool:
      http:
        http2MaxRequests: 1000
```

## Fix safety
Safe: the keys are deleted line by line and every other byte stays. Istio: `consistentHash`
goes, then `loadBalancer` if that leaves it empty, then `trafficPolicy`; a port-level item left
with nothing but its `port` selector configures nothing and goes as a whole. Envoy Gateway:
`loadBalancer` goes as a whole (its `type` and `consistentHash` must change together); when it
holds other settings the finding is reported with the remedy instead. Contour:
`loadBalancerPolicy` goes (with its `requestHashPolicies`). Kong: `algorithm`, `hashOn`,
`hashOnFallback` and `stickySessions` go in one fix, which leaves Kong's default algorithm,
round-robin. NGINX Gateway Fabric: `loadBalancingMethod` (and `hashMethodKey`) go.
Reported only, never rewritten: Consul `ServiceResolver` hash policies (set
`policy: least_request` once the server is stateless), the deprecated `KongIngress` (move it to
a `KongUpstreamPolicy`), and anything in a Helm template.
""",
)

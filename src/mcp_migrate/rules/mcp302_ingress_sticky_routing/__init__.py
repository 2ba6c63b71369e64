from ...model import FixAvailability, Rule, Severity

RULE = Rule(
    code="MCP302",
    name="ingress-sticky-routing",
    summary="Ingress controller or router pins each client to one pod",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "yaml": (
            b"/affinity",
            b"session-cookie",
            b"upstream-hash-by",
            b"-snippet",
            b"sticky",
            b"stickiness",
            b"Stickiness",
            b"sessionCookie",
            b"lb-method",
            b"load-balance",
            b"cookie-persistence",
            b"cookie-based-affinity",
            b"route.openshift.io",
            b"router.openshift.io",
            b"kind: Route",
        ),
    },
    docs="""
## What it does
Finds ingress controllers and routers told to keep a client on one pod:

- ingress-nginx on an `Ingress`, under any annotation prefix (`--annotations-prefix`, and the
  old `ingress.kubernetes.io/`): cookie `affinity` with `affinity-mode`,
  `affinity-canary-behavior` and every `session-cookie-*` setting; `upstream-hash-by` (with
  `-subset` and `-subset-size`), named as such when it hashes on `$http_mcp_session_id`; and
  `configuration-snippet` / `server-snippet` that use `hash`, `ip_hash` or `sticky`
  (reported only). `session-cookie-*` settings left without `affinity` do nothing and are
  reported too;
- F5 NGINX Ingress Controller: `nginx.com/sticky-cookie-services`, `nginx.org/lb-method`
  set to `ip_hash` or `hash ...`, and in `VirtualServer` / `VirtualServerRoute`
  `upstreams[].sessionCookie` (enabled) and hash-type `upstreams[].lb-method`;
- AWS Load Balancer Controller on an `Ingress`: `stickiness.enabled=true` inside
  `alb.ingress.kubernetes.io/target-group-attributes`, and
  `forwardConfig.targetGroupStickinessConfig` enabled in an
  `alb.ingress.kubernetes.io/actions.<name>` JSON action (an action that mentions
  stickiness but is not valid JSON is reported for a look by hand);
- Traefik: the `traefik.ingress.kubernetes.io/service.sticky.cookie*` annotations of a
  `Service` (and Traefik 1's `affinity` / `session-cookie-name` there), and `sticky` in an
  `IngressRoute` or `TraefikService` (`traefik.io` and `traefik.containo.us`);
- HAProxy Kubernetes Ingress: `haproxy.org/cookie-persistence` (`-no-dynamic`) and
  `haproxy.org/load-balance` set to `source`, `hdr(...)`, `url_param(...)` or
  `rdp-cookie(...)`, on an `Ingress`, a `Service` or the controller's `ConfigMap`;
  HAProxy Ingress `haproxy-ingress.github.io/affinity: cookie` with its `session-cookie-*`;
- Azure Application Gateway Ingress Controller:
  `appgw.ingress.kubernetes.io/cookie-based-affinity: "true"`;
- OpenShift `Route`s: the router sets a sticky cookie on every HTTP, edge and re-encrypt
  route unless `haproxy.router.openshift.io/disable_cookies: "true"` says otherwise, so its
  absence is the finding; `haproxy.router.openshift.io/balance: source` too (on passthrough
  routes as well).

A workload's pod `affinity` (scheduling, not routing), `stickiness.enabled=false`, an
`ingressClassName` of any kind and commented-out annotations are not findings. Services'
own affinity and cloud load-balancer stickiness are MCP301's.

## Why
A stateless MCP server behind a sticky ingress is still pinned: one hot pod, uneven scaling,
and clients that lose their place when that pod goes away. Cookie stickiness does not even
work reliably for MCP, since many clients never send the cookie back, and hashing on
`Mcp-Session-Id` stops meaning anything once the 2026-07-28 protocol has no sessions.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: mcp
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: "300"
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-name: mcp-route
    nginx.ingress.kubernetes.io/upstream-hash-by: "$http_mcp_session_id"
```
Use instead:
```yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: mcp
  annotations:
    nginx.ingress.kubernetes.io/proxy-read-timeout: "300"
```
And for an OpenShift `Route`:
```yaml
metadata:
  name: mcp
  annotations:
    haproxy.router.openshift.io/disable_cookies: "true"
```

## Fix safety
Safe: sticky keys are deleted line by line, all the related keys of one object in one fix,
and an `annotations:` mapping left empty goes with them; nothing else changes. Inside the
AWS attribute string only the `stickiness.*` pairs are removed (the annotation only when
nothing is left); an ALB action's JSON is rewritten without `targetGroupStickinessConfig`,
in the scalar's own quoting, and the fix is offered only when the new value reads back as
exactly that JSON. On OpenShift the fix adds `haproxy.router.openshift.io/disable_cookies:
"true"` (creating `annotations` when there is none), removes `router.openshift.io/cookie_name`
and `cookie-same-site`, and sets `balance: source` to `random`.

Reported without a fix: nginx snippets (raw configuration), ALB actions whose JSON does not
parse, `balance: source` on passthrough routes (it is their default; choose another
algorithm by hand), and everything in Helm templates (the values behind them are MCP306's).
""",
)

from ...model import FixAvailability, Rule, Severity

RULE = Rule(
    code="MCP305",
    name="proxy-config-stickiness",
    summary="nginx or HAProxy configuration pins clients to one backend server",
    severity=Severity.ERROR,
    fix=FixAvailability.SOMETIMES,
    triggers={
        "nginx": (b"hash", b"sticky"),
        "haproxy": (b"balance", b"stick", b"cookie"),
    },
    docs="""
## What it does
Finds session stickiness in plain proxy configuration files.

nginx (`nginx.conf`, `*.nginx.conf`, and `*.conf` in a folder named `nginx`, `conf.d`,
`sites-available` or `sites-enabled`), inside `upstream { ... }` blocks: `ip_hash;`,
`hash <key> [consistent];` (the message names `$http_mcp_session_id` when the key is the MCP
session header) and NGINX Plus `sticky cookie|route|learn ...;`. A `hash` inside a `map`,
`proxy_cache_key`, commented-out directives and `ip_hash` outside an `upstream` are not
findings.

HAProxy (`haproxy.cfg`, `*.haproxy.cfg`, and `*.cfg` in a folder named `haproxy`), in
`defaults`, `frontend`, `backend` and `listen` sections: `balance source`, `balance hdr(...)`,
`balance url_param ...`, `balance rdp-cookie` and `balance hash ...`; `stick on|match|store-*`
rules; a `stick-table` that only serves those rules (a table that `track-sc` or a fetch also
uses, for rate limiting, is left alone); and cookie persistence, `cookie <name>
insert|rewrite|prefix ...` (or a passive `cookie <name>` with servers carrying `cookie`
values), reported once together with the servers' `cookie <value>` options.
`balance roundrobin` / `leastconn` and commented lines are not findings.

## Why
A stateless MCP server needs no affinity: any replica can answer any request. Hashing on the
client address or the `Mcp-Session-Id` header, or a persistence cookie, keeps one server hot,
defeats scaling out, and drops clients when their server goes away.

## Example
```nginx
upstream mcp {
    hash $http_mcp_session_id consistent;
    server 10.0.0.1:8000;
    server 10.0.0.2:8000;
}
```
Use instead (nginx balances an upstream round-robin by default):
```nginx
upstream mcp {
    server 10.0.0.1:8000;
    server 10.0.0.2:8000;
}
```
In HAProxy, replace `balance source` with `balance roundrobin` (or `leastconn`), and drop
`stick on` rules, their `stick-table`, and `cookie` persistence with the servers' `cookie`
options.

## Fix safety
nginx: safe. An `ip_hash`, `hash` or `sticky` directive that stands alone on its line (a
comment after it goes too) is deleted and the upstream falls back to round-robin; one that
shares its line with other directives is reported only.
HAProxy: reported, never rewritten. Replacing `balance source` changes how the whole backend
spreads load, and the operator must choose between `roundrobin` (equal, short requests) and
`leastconn` (long-lived streams); persistence rules, tables and server cookies often carry
other options on the same lines.
""",
)

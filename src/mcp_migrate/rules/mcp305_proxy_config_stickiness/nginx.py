"""MCP305 for nginx: `ip_hash`, `hash` and `sticky` in `upstream` blocks."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.nginx import Directive, NginxConfig
from ...model import Diagnostic, Fix, FixSafety
from ...sdk.kubernetes import header_is_session

CODE = "MCP305"
_STICKY = ("ip_hash", "hash", "sticky", "sticky_cookie_insert")
_CLIENT_ADDRESS = ("$remote_addr", "$binary_remote_addr", "$http_x_forwarded_for", "$http_x_real_ip")
_URI = ("$request_uri", "$uri", "$document_uri")


def check(config: NginxConfig) -> Iterator[Diagnostic]:
    for upstream in config.walk():
        if upstream.directive != "upstream" or upstream.block is None:
            continue
        name = upstream.arguments[0] if upstream.args else "?"
        for directive in upstream.block:
            if directive.directive not in _STICKY:
                continue
            message = f"upstream {name!r} {_what(directive)}"
            edit = config.remove_line(directive)
            fix = None
            if edit is not None:
                fix = Fix(
                    FixSafety.SAFE, f"Remove `{directive.directive}` (the upstream balances round-robin)", (edit,)
                )
            yield Diagnostic(CODE, config.span(directive), message, fix)


def _what(directive: Directive) -> str:
    args = directive.arguments
    if directive.directive == "ip_hash":
        return "uses `ip_hash`: every client address is pinned to one server"
    if directive.directive == "hash":
        key = args[0] if args else ""
        if header_is_session(key) or "mcp_session_id" in key.lower():
            return f"hashes on the MCP session header (`{key}`): every session is pinned to one server"
        if key in _CLIENT_ADDRESS:
            return f"hashes on the client address (`{key}`): every client is pinned to one server"
        if key.startswith("$cookie_"):
            return f"hashes on a cookie (`{key}`): every client is pinned to one server"
        if key in _URI:
            return f"hashes on the request URI (`{key}`): MCP requests share one endpoint, so they all reach one server"
        return f"hashes requests on `{key}`: matching requests are pinned to one server"
    kind = f" {args[0]}" if args and "=" not in args[0] else ""
    return f"uses `{directive.directive}{kind}` session persistence: every client is pinned to one server"

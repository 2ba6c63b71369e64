"""MCP105: HTTP handlers that find per-session state by the request's session id."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.typescript import TsModule
from ...model import Diagnostic, Fix, FixSafety
from .._typescript import session_routing
from ._rewrite import rewrite


def check(module: TsModule) -> Iterator[Diagnostic]:
    routings = session_routing(module)
    if not routings:
        return
    edits, reason = rewrite(module)
    fix = None
    if edits:
        fix = Fix(
            FixSafety.UNSAFE,
            "Serve every request with a fresh server and stateless transport; 405 for GET/DELETE",
            edits,
        )
    for routing in routings:
        anchor = routing.anchor
        evidence = module.source(anchor).split("\n")[0]
        if len(evidence) > 60:
            evidence = evidence[:57] + "..."
        if routing.lookups:
            what = f"looks up per-session state by the request's session id (`{evidence}`)"
        else:
            what = f"rejects requests without a known session (`{evidence}`)"
        message = (
            f"{routing.label} {what}: with sessions off nothing is stored under a session id, so every request "
            "after initialize fails; create one server and one stateless transport per request instead"
        )
        if reason is not None:
            message += f" (not rewritten: {reason})"
        yield Diagnostic("MCP105", module.span(anchor), message, fix)

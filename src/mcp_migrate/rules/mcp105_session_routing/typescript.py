"""MCP105: HTTP handlers that find per-session state by the request's session id."""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.typescript import TsModule
from ...model import Diagnostic, Fix, FixSafety
from .._typescript import back_channel_uses, session_routing
from ._rewrite import rewrite


def check(module: TsModule) -> Iterator[Diagnostic]:
    routings = session_routing(module)
    if not routings:
        return
    edits, reason = rewrite(module)
    fix = None
    lost = ""
    if edits:
        fix = Fix(
            FixSafety.UNSAFE,
            "Serve every request with a fresh server and stateless transport; 405 for GET/DELETE",
            edits,
        )
        lost = _what_stops_working(module)
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
        message += lost
        yield Diagnostic("MCP105", module.span(anchor), message, fix)


def _what_stops_working(module: TsModule) -> str:
    """The rewrite serves each request on its own: a tool's question to the client (MCP203) or a
    push on the standalone GET stream (MCP204) has nowhere to go afterwards. Said before it is lost."""
    uses = back_channel_uses(module)
    if not uses:
        return ""
    requests = [d for d in uses if d.code == "MCP203"]
    pushes = [d for d in uses if d.code == "MCP204"]
    parts = []
    if requests:
        lines = ", ".join(str(d.span.line) for d in requests[:5])
        parts.append(
            f"{len(requests)} server-to-client request(s) (MCP203, line {lines}) would hang or fail: the client's "
            "answer can reach another instance; return an `InputRequiredResult` with `requestState` instead"
        )
    if pushes:
        lines = ", ".join(str(d.span.line) for d in pushes[:5])
        parts.append(
            f"{len(pushes)} notification(s) sent outside a request (MCP204, line {lines}) would reach no client: "
            "GET answers 405; clients poll or use `subscriptions/listen` with a shared bus instead"
        )
    return "; after the rewrite (--unsafe-fixes) this stops working: " + "; ".join(parts)

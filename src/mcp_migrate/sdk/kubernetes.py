"""Kubernetes-land knowledge shared by the deployment rules (see shared/reference/sticky-config.md)."""

from __future__ import annotations

# AWS Load Balancer Controller target-group attributes: `k=v,k=v` strings.
AWS_TG_ATTRIBUTES = (
    "alb.ingress.kubernetes.io/target-group-attributes",
    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes",
)


def is_aws_tg_attributes(annotation: str) -> bool:
    """The ALB/NLB attribute annotations, including the per-port `...attributes.<port>` form."""
    return any(annotation == name or annotation.startswith(name + ".") for name in AWS_TG_ATTRIBUTES)


def sticky_pairs(value: str) -> tuple[bool, str | None]:
    """(is sticky, the value without `stickiness.*` pairs or None if nothing is left).

    Sticky means `stickiness.enabled=true`; the other `stickiness.*` pairs do nothing without
    it and go with it. Pairs that are not stickiness stay exactly as written.
    """
    pairs = [p for p in value.split(",")]
    settings = {p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip() for p in pairs if "=" in p}
    if settings.get("stickiness.enabled", "").lower() != "true":
        return False, value
    kept = [p for p in pairs if not p.strip().startswith("stickiness.")]
    return True, ",".join(kept).strip() or None


def header_is_session(name: str) -> bool:
    """A header or nginx variable that carries the MCP session id (`$http_mcp_session_id`)."""
    return name.strip().lower().replace("_", "-").lstrip("$").removeprefix("http-") == "mcp-session-id"

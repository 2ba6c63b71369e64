"""Which annotation keys and values make routing sticky (shared/reference/sticky-config.md).

ingress-nginx may run with another annotation prefix, so its keys match by what follows the
last `/`. A companion key (`session-cookie-name`, `affinity-mode`, ...) does nothing without a
trigger key and is removed with it.
"""

from __future__ import annotations

from ...sdk.kubernetes import is_aws_tg_attributes, sticky_pairs

_DO = "service.beta.kubernetes.io/do-loadbalancer-sticky-sessions"
_OFF = ("", "none", "false", "off", "disabled")
_COMPANIONS = (
    "affinity-mode",
    "affinity-canary-behavior",
    "upstream-hash-by-subset",
    "upstream-hash-by-subset-size",
)
# Annotations whose value (a cookie name, a hash key, a mode) turns stickiness on.
_VALUED = (
    "affinity",
    "upstream-hash-by",
    "sticky-cookie-services",
    "cookie-persistence",
    "cookie-persistence-no-dynamic",
)
# Keys (not annotations) whose presence means session routing wherever they sit in an object.
STICKY_KEYS = frozenset({"sessionAffinity", "sessionAffinityConfig", "consistentHash", "sessionPersistence"})


def _leaf(key: str) -> str | None:
    if "/" not in key or key.startswith("scheduler.alpha.kubernetes.io/"):  # pod scheduling, not routing
        return None
    return key.rsplit("/", 1)[1]


def is_trigger(key: str, value: str | None) -> bool:
    """An annotation that turns stickiness on (value None: unknown, e.g. templated)."""
    leaf = _leaf(key)
    if leaf is None:
        return False
    written = None if value is None else value.strip().strip("\"'").lower()
    if is_aws_tg_attributes(key):
        return value is None or sticky_pairs(value)[0]
    if key == _DO + "-type" or leaf in _VALUED:
        return written is None or written not in _OFF
    if leaf in ("cookie-based-affinity", "service.sticky.cookie"):
        return written is None or written == "true"
    return False


def is_companion(key: str) -> bool:
    leaf = _leaf(key)
    if leaf is None:
        return False
    return (
        leaf in _COMPANIONS
        or leaf.startswith("session-cookie-")
        or leaf.startswith("service.sticky.")
        or key.startswith(_DO + "-cookie-")
    )


def is_sticky_annotation(key: str, value: str | None) -> bool:
    return is_trigger(key, value) or is_companion(key)

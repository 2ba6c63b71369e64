"""The keys that seal `requestState`, shared by every replica.

A tool that asks the client something mid-call (`Resolve(...)` with `Elicit`, or an
`InputRequiredResult`) answers with a sealed `requestState`; the client retries the call with
it, and the retry may land on any replica. mcp 2.x seals with a key generated per process unless
`request_state_security=` says otherwise, so a retry on another replica fails with -32602
"Invalid or expired requestState". The keys come from the environment (a Kubernetes Secret in
deploy/k8s.yaml) so that every replica has the same ones.

MCP_REQUEST_STATE_KEYS: comma-separated secrets of at least 32 bytes each, e.g. the output of
`python -c "import secrets; print(secrets.token_hex(32))"`. The first seals, all unseal, so a
key is rotated without failing calls in flight: deploy `old,new`, then `new,old`, then, once the
state's TTL (600 s) has passed, `new`.

The server's name is the state's audience: it must be the same on every replica (server.py
uses a constant; never a hostname, pid or random value).
"""

from __future__ import annotations

import json
import logging
import os

from mcp.server.request_state import RequestStateSecurity

ENVIRONMENT = "MCP_REQUEST_STATE_KEYS"
MINIMUM_BYTES = 32

log = logging.getLogger("server.request_state")


class BadKeys(ValueError):
    """MCP_REQUEST_STATE_KEYS is set but unusable: the server refuses to start."""


def shared_keys(value: str | None) -> list[str] | None:
    """The keys in `value` (the environment variable), None when it is unset or empty."""
    if not value or not value.strip():
        return None
    keys = [key.strip() for key in value.split(",")]
    if any(not key for key in keys):
        raise BadKeys(f"{ENVIRONMENT} has an empty entry (keys are separated by single commas)")
    short = [i for i, key in enumerate(keys) if len(key.encode()) < MINIMUM_BYTES]
    if short:
        raise BadKeys(f"{ENVIRONMENT}: key {short[0] + 1} is shorter than {MINIMUM_BYTES} bytes")
    if len(set(keys)) != len(keys):
        raise BadKeys(f"{ENVIRONMENT} lists a key twice")
    return keys


def request_state_security(environ: dict[str, str] | None = None) -> RequestStateSecurity:
    """Shared keys from the environment; without them, a key of this process only (one replica:
    fine; several: multi round-trip calls fail when their retry reaches another replica)."""
    keys = shared_keys((environ if environ is not None else os.environ).get(ENVIRONMENT))
    if keys is None:
        log.warning(
            json.dumps(
                {
                    "event": "request_state.per_process_key",
                    "message": f"{ENVIRONMENT} is not set: requestState is sealed with a key of this process "
                    "only, so a multi round-trip call whose retry reaches another replica fails (-32602)",
                }
            )
        )
        return RequestStateSecurity.ephemeral()
    return RequestStateSecurity(keys=keys)

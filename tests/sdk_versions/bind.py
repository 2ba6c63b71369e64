"""Bind SDK calls, as a fixed file spells them, to the installed SDK's real signatures.

Runs inside an SDK environment (envs.py). Reads a JSON list of calls from the file named on
the command line, each `{"class": "fastmcp.FastMCP", "method": "__init__" | "run" | ...,
"positional": N, "keywords": [...], "transports": ["streamable-http"] | null}`, and prints a JSON
list with null for a call that binds or the TypeError it would raise. `run()` / `run_async()`
pass their extra keywords on to the transport's runner, so those are bound there; when the
transport is chosen at run time (null) every runner is tried, and one that rejects the keywords
gives "may fail: ..." (what an unsafe fix warns about).
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from typing import Any

_RUNNERS = {
    "http": ("run_http_async", "run_streamable_http_async"),
    "streamable-http": ("run_http_async", "run_streamable_http_async"),
    "sse": ("run_sse_async",),
    "stdio": ("run_stdio_async",),
}


def _load(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def bind(call: dict[str, Any]) -> str | None:
    try:
        cls = _load(call["class"])
    except (ImportError, AttributeError) as exc:
        return f"ImportError: {exc}"
    method = getattr(cls, call["method"], None)
    if method is None:
        return f"AttributeError: {cls.__name__} has no method {call['method']!r}"
    args = [None] * call["positional"]
    keywords = dict.fromkeys(call["keywords"])
    bound_to_class = isinstance(inspect.getattr_static(cls, call["method"]), (classmethod, staticmethod))
    receiver = [] if bound_to_class else [None]  # `FastMCP.as_proxy(...)` has no self to bind
    try:
        inspect.signature(method).bind(*receiver, *args, **keywords)
    except TypeError as exc:
        return f"TypeError: {call['method']}(): {exc}"
    if call["method"] in ("run", "run_async"):
        forwarded = {k: None for k in call["keywords"] if k not in ("transport", "show_banner")}
        transports = call.get("transports")
        for transport in transports or _RUNNERS:
            runner = next((getattr(cls, n) for n in _RUNNERS.get(transport, ()) if hasattr(cls, n)), None)
            if runner is None or not forwarded:
                continue
            try:
                inspect.signature(runner).bind(None, **forwarded)
            except TypeError as exc:
                prefix = "TypeError" if transports else "may fail"
                return f"{prefix}: {call['method']}(transport={transport!r}) -> {runner.__name__}(): {exc}"
    return None


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        calls = json.load(file)
    print(json.dumps([bind(call) for call in calls]))

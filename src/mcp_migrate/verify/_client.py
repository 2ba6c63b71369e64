"""One conversation with the official `mcp` client: what a real client experiences."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ElicitResult

if TYPE_CHECKING:
    from . import Options


def converse(url: str, mode: str, options: Options, call: str | None) -> str | None:
    """List tools (and call `call`) in `mode`; the error as one line, or None. A question the
    tool asks mid-call is declined: a tool error after that is the tool's answer to a decline."""
    try:
        anyio.run(_converse, url, mode, options, call)
    except Exception as exc:  # the client's task groups wrap errors in groups
        return _describe(exc)
    return None


async def _converse(url: str, mode: str, options: Options, call: str | None) -> None:
    asked: list[str] = []

    async def decline(context: Any, params: Any) -> ElicitResult:
        asked.append(getattr(params, "message", ""))
        return ElicitResult(action="decline")

    with anyio.fail_after(options.timeout * 3):
        async with httpx2.AsyncClient(headers=options.headers, timeout=options.timeout) as http:
            transport = streamable_http_client(url, http_client=http)
            client = Client(
                transport, mode=mode, cache=None, read_timeout_seconds=options.timeout, elicitation_callback=decline
            )
            async with client:
                await client.list_tools()
                if call:
                    result: Any = await client.call_tool(call, options.arguments)
                    if getattr(result, "is_error", False) and not asked:
                        raise RuntimeError(f"tools/call {call} returned an error result")


def _describe(error: BaseException) -> str:
    inner = getattr(error, "exceptions", None)
    if isinstance(inner, tuple) and inner:
        return _describe(inner[0])
    if isinstance(error, TimeoutError):
        return "timed out"
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:200]

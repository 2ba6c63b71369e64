"""Plain HTTP for the checks a client library hides: which headers came back, what status a
GET got, what a request with a foreign session id gets. Standard library only."""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

SESSION_HEADER = "mcp-session-id"
MODERN = "2026-07-28"
LEGACY = "2025-11-25"
CLIENT_INFO = {"name": "mcp-migrate-verify", "version": "1"}


class Unreachable(Exception):
    """No HTTP answer at all: refused, timed out, DNS, TLS."""


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes
    messages: list[dict[str, Any]] = field(default_factory=list)  # JSON-RPC messages in the body

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip()

    @property
    def session_id(self) -> str | None:
        return self.headers.get(SESSION_HEADER)

    def response(self, request_id: int) -> dict[str, Any] | None:
        """The JSON-RPC response to `request_id`, if the body holds one."""
        return next((m for m in self.messages if m.get("id") == request_id and ("result" in m or "error" in m)), None)

    def describe(self) -> str:
        """A one-line account of what came back, for evidence."""
        text = self.body[:160].decode("utf-8", "replace").replace("\n", " ").strip()
        return f"HTTP {self.status} {self.content_type or 'no content type'}" + (f": {text}" if text else "")


def _messages(content_type: str, body: bytes) -> list[dict[str, Any]]:
    """JSON-RPC messages from a JSON body or an SSE stream's `data:` lines."""
    payloads: list[str] = []
    text = body.decode("utf-8", "replace")
    if content_type == "text/event-stream":
        data: list[str] = []
        for line in [*text.splitlines(), ""]:
            if line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
            elif not line and data:
                payloads.append("\n".join(data))
                data = []
    else:
        payloads.append(text)
    found = []
    for payload in payloads:
        try:
            value = json.loads(payload)
        except ValueError:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and item.get("jsonrpc") == "2.0":
                found.append(item)
    return found


class Wire:
    def __init__(self, timeout: float, headers: dict[str, str]) -> None:
        self.timeout = timeout
        self.headers = headers
        self._next_id = 0

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def post(self, url: str, message: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        merged = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            **self.headers,
            **(headers or {}),
        }
        request = urllib.request.Request(url, data=json.dumps(message).encode(), headers=merged, method="POST")
        return self._send(request, read_body=True)

    def probe(self, url: str, method: str, headers: dict[str, str] | None = None) -> Reply:
        """GET/DELETE: only the status and headers matter (a GET may open an endless stream)."""
        merged = {"accept": "text/event-stream, application/json", **self.headers, **(headers or {})}
        return self._send(urllib.request.Request(url, headers=merged, method=method), read_body=False)

    def _send(self, request: urllib.request.Request, read_body: bool) -> Reply:
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            body = _read(exc, self.timeout) if read_body or exc.code >= 400 else b""
            return Reply(exc.code, exc.headers, body, _messages(_type(exc.headers), body))
        except urllib.error.URLError as exc:
            raise Unreachable(_reason(exc.reason)) from None
        except TimeoutError:
            raise Unreachable(f"no answer within {self.timeout:g} s") from None
        except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError) as exc:
            raise Unreachable(_reason(exc)) from None
        with response:
            body = _read(response, self.timeout) if read_body else b""
            return Reply(response.status, response.headers, body, _messages(_type(response.headers), body))

    def stream(self, url: str, message: dict[str, Any], headers: dict[str, str] | None = None) -> Stream:
        """POST a request whose answer is a long-lived event stream (`subscriptions/listen`); its
        JSON-RPC messages arrive on the returned stream as they are written."""
        merged = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            **self.headers,
            **(headers or {}),
        }
        request = urllib.request.Request(url, data=json.dumps(message).encode(), headers=merged, method="POST")
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            body = _read(exc, self.timeout)
            return Stream.closed(Reply(exc.code, exc.headers, body, _messages(_type(exc.headers), body)))
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException, OSError) as exc:
            raise Unreachable(_reason(getattr(exc, "reason", exc))) from None
        return Stream(response)


class Stream:
    """An event stream read by a thread of its own; `next()` waits for its next JSON-RPC message."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.status: int = response.status if response is not None else 0
        self.content_type = _type(response.headers) if response is not None else ""
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.reply: Reply | None = None  # a plain (non-stream) answer, read whole
        if response is not None and self.content_type == "text/event-stream":
            threading.Thread(target=self._pump, daemon=True).start()
        elif response is not None:
            body = _read(response)
            self.reply = Reply(response.status, response.headers, body, _messages(self.content_type, body))

    @classmethod
    def closed(cls, reply: Reply) -> Stream:
        stream = cls(None)
        stream.status, stream.reply = reply.status, reply
        return stream

    def _pump(self) -> None:
        buffer = b""
        try:
            while True:
                chunk = self.response.read1(_CHUNK)
                if not chunk:
                    break
                buffer += chunk.replace(b"\r\n", b"\n")
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    for message in _messages("text/event-stream", event + b"\n\n"):
                        self._messages.put(message)
        except (TimeoutError, http.client.HTTPException, OSError, ValueError):
            pass
        self._messages.put(None)  # the stream ended

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next message within `timeout` seconds; None when there is none (or the stream ended)."""
        if self.reply is not None:
            return self.reply.messages.pop(0) if self.reply.messages else None
        try:
            return self._messages.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def close(self) -> None:
        if self.response is not None:
            with contextlib.suppress(OSError):
                self.response.close()


MAX_BODY = 8 * 1024 * 1024  # bytes of one answer that are read at most
_CHUNK = 64 * 1024


def _read(response: Any, timeout: float = 10.0) -> bytes:
    """An answer's body within `timeout` seconds overall (the socket's own timeout restarts
    with every byte, so a trickle or an endless keep-alive stream would never end) and at most
    MAX_BODY bytes; an event stream stops at its first JSON-RPC response."""
    deadline = time.monotonic() + timeout
    stream = _type(response.headers) == "text/event-stream"
    chunks: list[bytes] = []
    size = 0
    try:
        while size < MAX_BODY and time.monotonic() < deadline:
            reader = getattr(response, "read1", None)
            chunk = reader(_CHUNK) if reader is not None else response.read(_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if stream and b"\n\n" in chunk:
                body = b"".join(chunks)
                if any("result" in m or "error" in m for m in _messages("text/event-stream", body)):
                    break
    except (TimeoutError, http.client.HTTPException, OSError):
        pass
    return b"".join(chunks)[:MAX_BODY]


def _type(headers: Message) -> str:
    return (headers.get("content-type") or "").split(";")[0].strip()


def _reason(reason: object) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {reason.verify_message}"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason.reason or reason}"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve host ({reason.strerror})"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    return str(reason)


def modern_meta(capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": capabilities or {},
        "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
    }


def modern_headers(method: str, name: str | None = None) -> dict[str, str]:
    headers = {"mcp-protocol-version": MODERN, "mcp-method": method}
    if name is not None:
        headers["mcp-name"] = name
    return headers

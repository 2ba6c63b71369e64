"""`mcp-migrate verify`: prove a running deployment is stateless, from the outside.

Each check has a name, a verdict and the evidence. Wire-level checks use plain HTTP (they look
at what a client library hides: session headers, GET/DELETE statuses, a foreign session id);
the official `mcp` client, when installed, has a conversation through every URL in both eras.
Tools are only called when the user names one (`--call`): verifying never has side effects
nobody asked for.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from .wire import LEGACY, MODERN, Reply, Unreachable, Wire, modern_headers, modern_meta

Status = Literal["pass", "fail", "skip"]
TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
FALLBACK_STATUS_TOOL = "get_task_status"
# What verify declares on 2026-07-28 calls of --call: it can be asked anything (it declines).
ANSWERING: dict[str, Any] = {"elicitation": {"form": {}}, "sampling": {}, "roots": {}}


@dataclass
class Check:
    name: str
    status: Status
    evidence: str


@dataclass
class Options:
    urls: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    requests: int = 6
    call: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    change: str | None = None  # a tool whose call the server announces to `subscriptions/listen` clients
    change_arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    urls: list[str]
    checks: list[Check] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)  # url -> reason

    @property
    def passed(self) -> bool:
        return not self.unreachable and all(c.status != "fail" for c in self.checks)

    def add(self, name: str, status: Status, evidence: str) -> None:
        self.checks.append(Check(name, status, evidence))


class _Stop(Exception):
    """A URL stopped answering mid-run: reported as unreachable."""


def run(options: Options) -> Report:
    report = Report(list(options.urls))
    wire = Wire(options.timeout, options.headers)
    probe = _Probe(wire, options, report)
    try:
        if not probe.endpoints():
            return report
        probe.legacy()
        probe.modern()
        probe.multi_round_trip()
        probe.listen_across()
        probe.tasks()
        probe.official_client()
    except _Stop:
        pass
    return report


@dataclass
class _Probe:
    wire: Wire
    options: Options
    report: Report
    legacy_version: str = LEGACY
    modern_supported: bool = False
    discover: dict[str, Any] = field(default_factory=dict)
    tools: list[str] = field(default_factory=list)
    # --call asks the client something mid-call: legacy clients can only answer over a session,
    # so without one it is a 2026-07-28 tool and the legacy checks leave it out.
    needs_back_channel: bool = False

    # -- plumbing -----------------------------------------------------------------------------
    def _post(self, url: str, message: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        try:
            return self.wire.post(url, message, headers)
        except Unreachable as exc:
            self.report.unreachable[url] = str(exc)
            raise _Stop from None

    def _request(
        self, url: str, method: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[Reply, dict[str, Any] | None]:
        request_id = self.wire.next_id()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        reply = self._post(url, message, headers)
        return reply, reply.response(request_id)

    def _legacy(
        self, url: str, method: str, params: dict[str, Any] | None = None, **headers: str
    ) -> tuple[Reply, dict[str, Any] | None]:
        return self._request(url, method, params, {"mcp-protocol-version": self.legacy_version, **headers})

    def _modern(
        self,
        url: str,
        method: str,
        params: dict[str, Any],
        name: str | None = None,
        capabilities: dict[str, Any] | None = None,
    ) -> tuple[Reply, dict[str, Any] | None]:
        params = {**params, "_meta": modern_meta(capabilities)}
        return self._request(url, method, params, modern_headers(method, name))

    @staticmethod
    def _error(reply: Reply, response: dict[str, Any] | None) -> str | None:
        """Why a request failed, or None when it got a result."""
        if response is not None and "result" in response:
            return None
        if response is not None and "error" in response:
            error = response["error"]
            return f"HTTP {reply.status}, JSON-RPC error {error.get('code')}: {error.get('message')}"
        return reply.describe()

    def _call_params(self) -> dict[str, Any]:
        return {"name": self.options.call, "arguments": self.options.arguments}

    # -- checks ---------------------------------------------------------------------------------
    def endpoints(self) -> bool:
        """Every URL must answer `initialize` as an MCP server; records the negotiated version."""
        minted: list[str] = []
        answered = []
        for url in self.options.urls:
            try:
                reply, response = self._request(
                    url,
                    "initialize",
                    {
                        "protocolVersion": LEGACY,
                        "capabilities": {},
                        "clientInfo": {"name": "mcp-migrate-verify", "version": "1"},
                    },
                )
            except _Stop:
                continue
            error = self._error(reply, response)
            if error is not None:
                self.report.add("mcp-endpoint", "fail", f"{url}: not an MCP endpoint: initialize answered {error}")
                continue
            assert response is not None
            self.legacy_version = str(response["result"].get("protocolVersion") or LEGACY)
            answered.append(url)
            if reply.session_id:
                minted.append(f"{url} minted Mcp-Session-Id {reply.session_id[:16]}")
        if self.report.unreachable or len(answered) < len(self.options.urls):
            return False
        self.report.add(
            "mcp-endpoint", "pass", f"initialize answered on {len(answered)} URL(s) (protocol {self.legacy_version})"
        )
        if minted:
            self.report.add("legacy.no-session-minted", "fail", "; ".join(minted))
        else:
            self.report.add("legacy.no-session-minted", "pass", "initialize returned no Mcp-Session-Id header")
        return True

    def legacy(self) -> None:
        failures = []
        for url in self.options.urls:
            reply, response = self._legacy(url, "tools/list", {})
            error = self._error(reply, response)
            if error is not None:
                failures.append(f"tools/list via {url} without a session: {error}")
                continue
            assert response is not None
            self.tools = [t.get("name") for t in response["result"].get("tools", [])]
            if self.options.call and not self.needs_back_channel:
                reply, response = self._legacy(url, "tools/call", self._call_params())
                error = self._error(reply, response)
                if error is not None and _no_back_channel(response):
                    self.needs_back_channel = True
                elif error is not None:
                    failures.append(f"tools/call {self.options.call} via {url} without a session: {error}")
        called = self.options.call and not self.needs_back_channel
        note = (
            f" (`{self.options.call}` asks the client mid-call, which needs a session in the legacy protocol: it "
            "was left out of the legacy checks)"
            if self.needs_back_channel
            else ""
        )
        self._verdict(
            "legacy.sessionless-requests",
            failures,
            "tools/list"
            + (" and tools/call" if called else "")
            + f" without a session succeeded on {len(self.options.urls)} URL(s){note}",
        )
        self._round_robin()
        url = self.options.urls[-1]
        foreign = uuid.uuid4().hex
        reply, response = self._legacy(url, "tools/list", {}, **{"mcp-session-id": foreign})
        error = self._error(reply, response)
        if error is not None:
            self.report.add(
                "legacy.foreign-session",
                "fail",
                f"a request with a session id this server never issued was rejected: {error}",
            )
        else:
            self.report.add("legacy.foreign-session", "pass", "a request carrying an unknown Mcp-Session-Id was served")

    def _round_robin(self) -> None:
        """A whole legacy conversation, each request to the next URL (or N through one)."""
        urls = itertools.cycle(self.options.urls)
        steps: list[tuple[str, dict[str, Any] | None]] = [
            (
                "initialize",
                {
                    "protocolVersion": self.legacy_version,
                    "capabilities": {},
                    "clientInfo": {"name": "mcp-migrate-verify", "version": "1"},
                },
            ),
        ]
        call = self.options.call and not self.needs_back_channel
        while len(steps) < max(self.options.requests, 2):
            steps.append(("tools/list", {}) if not call or len(steps) % 2 else ("tools/call", self._call_params()))
        session: str | None = None
        for index, (method, params) in enumerate(steps, 1):
            url = next(urls)
            extra = {"mcp-session-id": session} if session else {}
            reply, response = self._legacy(url, method, params, **extra)
            error = self._error(reply, response)
            if error is not None:
                self.report.add(
                    "legacy.round-robin",
                    "fail",
                    f"request {index} of {len(steps)} ({method} via {url}) failed: {error}",
                )
                return
            session = session or reply.session_id
            if method == "initialize":  # what a real client sends next; its answer has no body
                self._post(
                    next(urls),
                    {"jsonrpc": "2.0", "method": "notifications/initialized"},
                    {"mcp-protocol-version": self.legacy_version, **extra},
                )
        spread = f"across {len(self.options.urls)} URLs" if len(self.options.urls) > 1 else "through one URL"
        self.report.add(
            "legacy.round-robin", "pass", f"{len(steps)} requests of one conversation {spread} all succeeded"
        )

    def modern(self) -> None:
        url = self.options.urls[0]
        reply, response = self._modern(url, "server/discover", {})
        versions = response["result"].get("supportedVersions", []) if response and "result" in response else []
        if MODERN not in versions:
            why = f"supportedVersions {versions}" if versions else (self._error(reply, response) or "no result")
            self.report.add(
                "modern.discover", "skip", f"the server does not speak {MODERN} ({why}); only the legacy checks apply"
            )
            return
        self.modern_supported = True
        self.discover = response["result"] if response else {}
        self.report.add("modern.discover", "pass", f"server/discover answered: supportedVersions {versions}")
        failures, minted = [], []
        for url in self.options.urls:
            reply, response = self._modern(url, "tools/list", {})
            error = self._error(reply, response)
            if error is not None:
                failures.append(f"tools/list via {url}: {error}")
            if reply.session_id:
                minted.append(f"{url} returned Mcp-Session-Id on tools/list")
            if self.options.call:
                reply, response = self._modern(
                    url, "tools/call", self._call_params(), name=self.options.call, capabilities=ANSWERING
                )
                error = self._error(reply, response)  # a question (input_required) is an answer too
                if error is not None:
                    failures.append(f"tools/call {self.options.call} via {url}: {error}")
        self._verdict(
            "modern.no-handshake",
            failures,
            f"requests with only MCP-Protocol-Version and _meta succeeded on {len(self.options.urls)} URL(s)",
        )
        echo = uuid.uuid4().hex
        reply, response = self._request(
            url, "tools/list", {"_meta": modern_meta()}, {**modern_headers("tools/list"), "mcp-session-id": echo}
        )
        if self._error(reply, response) is not None:
            minted.append(f"a request carrying Mcp-Session-Id was rejected: {self._error(reply, response)}")
        elif reply.session_id:
            minted.append(f"the server echoed Mcp-Session-Id {reply.session_id[:16]}")
        self._verdict(
            "modern.no-session-id", minted, "no session id minted or echoed; a stray Mcp-Session-Id was ignored"
        )
        wrong = []
        for url in self.options.urls:
            for method in ("GET", "DELETE"):
                try:
                    reply = self.wire.probe(url, method, {"mcp-protocol-version": MODERN})
                except Unreachable as exc:
                    wrong.append(f"{method} {url}: {exc}")
                    continue
                if reply.status != 405:
                    wrong.append(f"{method} {url} answered {reply.status} (expected 405)")
        self._verdict("modern.get-delete-405", wrong, "GET and DELETE answered 405 Method Not Allowed")

    def tasks(self) -> None:
        extensions = (self.discover.get("capabilities") or {}).get("extensions") or {}
        advertised = TASKS_EXTENSION in extensions or FALLBACK_STATUS_TOOL in self.tools
        if not advertised:
            return
        if not self.options.call:
            self.report.add(
                "tasks.visible-everywhere",
                "skip",
                "the server offers tasks; name a task-returning tool with --call (verify never calls tools on its own)",
            )
            return
        first = self.options.urls[0]
        if self.modern_supported and TASKS_EXTENSION in extensions:
            reply, response = self._modern(
                first,
                "tools/call",
                self._call_params(),
                name=self.options.call,
                capabilities={**ANSWERING, "extensions": {TASKS_EXTENSION: {}}},
            )
            result = response.get("result") if response else None
            task_id = result.get("taskId") if isinstance(result, dict) and result.get("resultType") == "task" else None
        else:
            reply, response = self._legacy(first, "tools/call", self._call_params())
            task_id = _task_id_in(response.get("result") if response else None)
        if not task_id:
            self.report.add(
                "tasks.visible-everywhere",
                "skip",
                f"`{self.options.call}` did not return a task ({self._error(reply, response) or 'a plain result'})",
            )
            return
        missing = []
        targets = self.options.urls if len(self.options.urls) > 1 else self.options.urls * max(self.options.requests, 2)
        for url in targets:
            if self.modern_supported and TASKS_EXTENSION in extensions:
                reply, response = self._modern(
                    url,
                    "tasks/get",
                    {"taskId": task_id},
                    name=task_id,
                    capabilities={"extensions": {TASKS_EXTENSION: {}}},
                )
            else:
                reply, response = self._legacy(
                    url, "tools/call", {"name": FALLBACK_STATUS_TOOL, "arguments": {"task_id": task_id}}
                )
                if response and "result" in response and response["result"].get("isError"):
                    response = {"error": {"code": "tool error", "message": _text_of(response["result"])}}
            error = self._error(reply, response)
            if error is not None:
                missing.append(f"{url}: {error}")
        self._verdict(
            "tasks.visible-everywhere",
            missing,
            f"task {task_id[:12]}... created via {first} was found through {len(targets)} request(s)",
        )

    def multi_round_trip(self) -> None:
        """A tool that asks the client something (2026-07-28: `InputRequiredResult`) is retried
        with the answers and its `requestState` through another URL than the first round: every
        replica must open state any replica sealed (shared keys, one audience)."""
        name = "modern.multi-round-trip-other-replica"
        if not self.modern_supported or not self.options.call:
            if self.modern_supported:
                self.report.add(name, "skip", "name a tool that asks the client something with --call")
            return
        first = self.options.urls[0]
        reply, response = self._modern(
            first, "tools/call", self._call_params(), name=self.options.call, capabilities=ANSWERING
        )
        result = response.get("result") if response else None
        if not isinstance(result, dict) or result.get("resultType") != "input_required":
            shown = self._error(reply, response) or "a result without asking"
            self.report.add(name, "skip", f"`{self.options.call}` did not ask the client anything ({shown})")
            return
        state = result.get("requestState")
        answers = {key: _decline(request) for key, request in (result.get("inputRequests") or {}).items()}
        if len(self.options.urls) > 1:
            targets = self.options.urls[1:]
        else:  # one balanced URL: retry a few times, so that the balancer sends some elsewhere
            targets = self.options.urls * max(self.options.requests, 2)
        failures = []
        for url in targets:
            params = {**self._call_params(), "inputResponses": answers}
            if state is not None:
                params["requestState"] = state
            reply, response = self._modern(url, "tools/call", params, name=self.options.call, capabilities=ANSWERING)
            if response is not None and "error" in response:
                failures.append(f"the retry via {url}: {self._error(reply, response)}")
            elif response is None:
                failures.append(f"the retry via {url}: {reply.describe()}")
        where = f"via {', '.join(targets)}" if len(self.options.urls) > 1 else f"{len(targets)} times through {first}"
        self._verdict(
            name,
            failures,
            f"`{self.options.call}` asked {len(answers)} question(s) via {first}; the retry with its requestState "
            f"(answers declined, so nothing is confirmed) was accepted {where}",
        )

    def listen_across(self) -> None:
        """A `subscriptions/listen` stream on one URL hears of a change made through another."""
        name = "modern.listen-other-replica"
        if not self.modern_supported:
            return
        if not self.options.change:
            self.report.add(
                name, "skip", "name a tool whose call the server announces (a list or resource change) with --change"
            )
            return
        listener, trigger = self.options.urls[0], self.options.urls[-1]
        reply, response = self._modern(listener, "resources/list", {})
        resources = response["result"].get("resources", []) if response and "result" in response else []
        uris = [r["uri"] for r in resources if isinstance(r, dict) and isinstance(r.get("uri"), str)]
        notifications: dict[str, Any] = {
            "toolsListChanged": True,
            "promptsListChanged": True,
            "resourcesListChanged": True,
        }
        if uris:
            notifications["resourceSubscriptions"] = uris
        listen_id = self.wire.next_id()
        message = {
            "jsonrpc": "2.0",
            "id": listen_id,
            "method": "subscriptions/listen",
            "params": {"notifications": notifications, "_meta": modern_meta()},
        }
        try:
            stream = self.wire.stream(listener, message, modern_headers("subscriptions/listen"))
        except Unreachable as exc:
            self.report.unreachable[listener] = str(exc)
            raise _Stop from None
        try:
            first = stream.next(self.options.timeout)
            if first is None or first.get("method") != "notifications/subscriptions/acknowledged":
                why = first.get("error", {}).get("message") if first and "error" in first else None
                status: Status = "skip" if first is not None and "error" in first else "fail"
                shown = why or (stream.reply.describe() if stream.reply else f"no acknowledgement: {first}")
                self.report.add(name, status, f"subscriptions/listen via {listener}: {shown}")
                return
            params = {"name": self.options.change, "arguments": self.options.change_arguments}
            reply, response = self._modern(trigger, "tools/call", params, name=self.options.change)
            error = self._error(reply, response)
            if error is not None:
                self.report.add(name, "fail", f"tools/call {self.options.change} via {trigger}: {error}")
                return
            heard = stream.next(self.options.timeout)
            while heard is not None and "method" not in heard:
                heard = stream.next(self.options.timeout)
        finally:
            stream.close()
        spread = (
            f"{self.options.change} called via {trigger}" if trigger != listener else f"{self.options.change} called"
        )
        if heard is None:
            self.report.add(
                name,
                "fail",
                f"a listener via {listener} heard nothing within {self.options.timeout:g} s of {spread}: the change "
                "was published on another replica's bus only (an in-process bus; see MCP207)",
            )
        else:
            self.report.add(name, "pass", f"a listener via {listener} received {heard['method']} after {spread}")

    def official_client(self) -> None:
        try:
            from ._client import converse
        except ImportError:
            self.report.add(
                "client.conversation",
                "skip",
                "the official `mcp` client is not installed (pip install 'mcp-stateless-migrate[verify]')",
            )
            return
        modes = ["legacy"] + ([MODERN] if self.modern_supported else [])
        failures = []
        for url in self.options.urls:
            for mode in modes:
                call = self.options.call if mode != "legacy" or not self.needs_back_channel else None
                error = converse(url, mode, self.options, call)
                if error is not None:
                    failures.append(f"{mode} via {url}: {error}")
        called = f" and called {self.options.call}" if self.options.call else ""
        if self.needs_back_channel and len(modes) > 1:
            called += f" (in {MODERN} mode: it asks the client mid-call)"
        success = f"the official mcp client listed tools{called} in {' and '.join(modes)} mode through every URL"
        self._verdict("client.conversation", failures, success)

    def _verdict(self, name: str, failures: list[str], success: str) -> None:
        if failures:
            self.report.add(
                name, "fail", "; ".join(failures[:3]) + (f" (+{len(failures) - 3} more)" if len(failures) > 3 else "")
            )
        else:
            self.report.add(name, "pass", success)


def _no_back_channel(response: dict[str, Any] | None) -> bool:
    """The SDKs' answer to a server-to-client request without a session (mcp: -32600 "... has no
    back-channel ...")."""
    error = (response or {}).get("error") or {}
    return "back-channel" in str(error.get("message", "")) or "back channel" in str(error.get("message", ""))


def _decline(request: Any) -> dict[str, Any]:
    """An answer to one input request that commits to nothing: elicitations are declined,
    sampling gets an empty reply, roots an empty list."""
    method = request.get("method") if isinstance(request, dict) else None
    if method == "sampling/createMessage":
        return {"role": "assistant", "content": {"type": "text", "text": ""}, "model": "mcp-migrate-verify"}
    if method == "roots/list":
        return {"roots": []}
    return {"action": "decline"}


def _task_id_in(result: Any) -> str | None:
    """The fallback shape: a tool result whose structured content (or JSON text) has `taskId`."""
    if not isinstance(result, dict):
        return None
    structured = result.get("structuredContent")
    if isinstance(structured, dict) and isinstance(structured.get("taskId"), str):
        return str(structured["taskId"])
    for item in result.get("content") or []:
        try:
            value = json.loads(item.get("text", ""))
        except (ValueError, AttributeError):
            continue
        if isinstance(value, dict) and isinstance(value.get("taskId"), str):
            return str(value["taskId"])
    return None


def _text_of(result: dict[str, Any]) -> str:
    return " ".join(str(item.get("text", "")) for item in result.get("content") or [] if isinstance(item, dict))[:200]

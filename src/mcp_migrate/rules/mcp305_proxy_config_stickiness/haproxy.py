"""MCP305 for HAProxy: hash balancing, stick rules (and their tables), cookie persistence.

Reported, never rewritten: the replacement balance algorithm is the operator's choice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...lang.haproxy import HaproxyConfig, Line, Section
from ...model import Diagnostic
from ...sdk.kubernetes import header_is_session

CODE = "MCP305"
_STICK_RULES = frozenset({"on", "match", "store-request", "store-response"})
_COOKIE_MODES = ("insert", "rewrite", "prefix")
_SERVERS = frozenset({"server", "server-template"})
_HEADER = re.compile(r"hdr\(\s*([^,)\s]+)", re.IGNORECASE)
_TRACK = re.compile(r"^track-sc\d*$")
_TABLE_FETCH = re.compile(r"(?:^|[^\w.])(?:src_|sc\d*_|table_)\w*(?:\((?P<args>[^)]*)\))?")
_REMEDY = "use `balance roundrobin` or `leastconn`"


def check(config: HaproxyConfig) -> Iterator[Diagnostic]:
    for section in config.proxies():
        for line in section.lines:
            if line.keyword == "balance" and len(line.words) > 1:
                found = _balance(section, line)
                if found is not None:
                    yield Diagnostic(CODE, config.span(line), found)
            elif line.keyword == "stick" and len(line.words) > 2 and line.values[1] in _STICK_RULES:
                yield Diagnostic(CODE, config.span(line), _stick(section, line))
            elif line.keyword == "cookie" and len(line.words) > 1:
                found = _cookie(section, line)
                if found is not None:
                    yield Diagnostic(CODE, config.span(line), found)
    yield from _tables(config)


def _session_note(expression: str) -> str:
    headers = _HEADER.findall(expression)
    return " on the MCP session header" if any(header_is_session(h) for h in headers) else ""


def _balance(section: Section, line: Line) -> str | None:
    algorithm = line.values[1]
    lower = algorithm.lower()
    written = " ".join(line.values[1:])
    if lower == "source":
        how = "by client address (`balance source`): every client is pinned to one server"
    elif lower.startswith("hdr("):
        note = _session_note(lower) or " on a request header"
        how = f"by a hash{note} (`balance {written}`): matching requests are pinned to one server"
    elif lower == "url_param":
        how = f"by a URL parameter (`balance {written}`): matching requests are pinned to one server"
    elif lower.startswith("rdp-cookie"):
        how = f"by an RDP cookie (`balance {written}`): every client is pinned to one server"
    elif lower == "hash":
        note = _session_note(written)
        how = f"by a hash{note} (`balance {written}`): matching requests are pinned to one server"
    else:
        return None
    return f"{section.label} balances {how}; {_REMEDY}"


def _stick(section: Section, line: Line) -> str:
    written = " ".join(line.values)
    note = _session_note(" ".join(line.values[2:]))
    return (
        f"{section.label} pins clients to a server with `{written}`{note}: remove the rule "
        "(and the stick-table it fills) so requests balance freely"
    )


def _cookie(section: Section, line: Line) -> str | None:
    name = line.values[1]
    modes = [m for m in line.values[2:] if m.lower() in _COOKIE_MODES]
    servers = [s for s in section.lines if s.keyword in _SERVERS and "cookie" in s.values[2:]]
    if not modes and not servers:
        return None  # a passive cookie no server answers to does nothing
    how = f"`cookie {name} {modes[0]}`" if modes else f"`cookie {name}`"
    message = f"{section.label} pins clients to a server with a persistence cookie ({how})"
    if servers:
        listed = ", ".join(f"{s.values[1]} (line {s.number})" for s in servers if len(s.words) > 1)
        message += f" and the servers' `cookie` values: {listed}"
    return message + "; remove the `cookie` line and the servers' `cookie <value>` options"


def _tables(config: HaproxyConfig) -> Iterator[Diagnostic]:
    """`stick-table`s that only serve stick rules: nothing else tracks or reads them."""
    persistence: set[str] = set()
    other: set[str] = set()
    for section in config.sections:
        for line in section.lines:
            values = line.values
            target = values[values.index("table") + 1] if "table" in values[:-1] else section.name
            if line.keyword == "stick" and len(values) > 1 and values[1] in _STICK_RULES:
                persistence.add(target)
                continue
            if line.keyword == "stick-table":
                continue
            if any(_TRACK.match(v) for v in values):
                other.add(target)
            for value in values:
                for fetch in _TABLE_FETCH.finditer(value):
                    arguments = fetch.group("args")
                    if arguments is None:
                        other.add(section.name)  # src_* / table_* read the proxy's own table
                    else:
                        other.update(a.strip() for a in arguments.split(","))
    for section in config.sections:
        if section.name not in persistence or section.name in other:
            continue
        for line in section.lines:
            if line.keyword == "stick-table":
                message = f"{section.label} keeps a `stick-table` only for `stick` persistence rules: it goes with them"
                yield Diagnostic(CODE, config.span(line), message)

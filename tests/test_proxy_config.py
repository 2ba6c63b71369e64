"""nginx and HAProxy configuration: which files they are, exact token offsets, MCP305 end to end."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from conftest import Run, write
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_migrate import engine
from mcp_migrate.discovery import SourcePath
from mcp_migrate.errors import ParseError
from mcp_migrate.lang import language_of
from mcp_migrate.lang.haproxy import HaproxyConfig
from mcp_migrate.lang.nginx import NginxConfig


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("nginx.conf", "nginx"),
        ("deploy/NGINX.conf", "nginx"),
        ("deploy/gateway.nginx.conf", "nginx"),
        ("deploy/nginx/upstreams.conf", "nginx"),
        ("etc/nginx/conf.d/mcp.conf", "nginx"),
        ("etc/nginx/sites-enabled/mcp.conf", "nginx"),
        ("etc/nginx/sites-available/mcp.conf", "nginx"),
        ("deploy/app.conf", None),
        ("nginx/nested/app.conf", None),
        ("haproxy.cfg", "haproxy"),
        ("deploy/edge.haproxy.cfg", "haproxy"),
        ("deploy/haproxy/edge.cfg", "haproxy"),
        ("setup.cfg", None),
        ("values.yaml", "yaml"),
        ("server.py", "python"),
    ],
)
def test_language_by_name_and_folder(path: str, language: str | None) -> None:
    assert language_of(PurePosixPath(path)) == language


# -- nginx ------------------------------------------------------------------------------------------
_ARGS = st.sampled_from(
    [
        "10.0.0.1:8000",
        "$http_mcp_session_id",
        '"quoted ; { } # not a comment"',
        "'single \\' quote'",
        '"esc \\" aped"',
        "a\\;b",
        "${var}x",
        "foo#bar",
        "weight=2",
    ]
)
_SPACE = st.sampled_from([" ", "  ", "\t", " \n   "])
_COMMENT = st.sampled_from(["", "  # note", "  # ip_hash; { }", " #"])


@st.composite
def configs(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(config text, the directive names in source order)."""
    names: list[str] = []
    newline = draw(st.sampled_from(["\n", "\r\n"]))

    def block(depth: int) -> str:
        lines = []
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            indent = "    " * depth
            if depth < 2 and draw(st.booleans()):
                name = draw(st.sampled_from(["upstream", "http", "server", "location"]))
                names.append(name)
                arg = draw(st.sampled_from(["", " mcp", ' "/x y"']))
                lines.append(f"{indent}{name}{arg} {{{draw(_COMMENT)}")
                lines.append(block(depth + 1))
                lines.append(f"{indent}}}")
            else:
                name = draw(st.sampled_from(["ip_hash", "hash", "server", "sticky", "keepalive"]))
                names.append(name)
                args = "".join(draw(_SPACE) + draw(_ARGS) for _ in range(draw(st.integers(0, 3))))
                lines.append(f"{indent}{name}{args};{draw(_COMMENT)}")
            if draw(st.booleans()):
                lines.append(f"{indent}# a standalone comment")
        return newline.join(line for line in lines if line)

    text = block(0)
    if draw(st.booleans()):
        text += newline + "# the end, without a line break"
    return text, names


@settings(max_examples=200, deadline=None)
@given(configs())
def test_nginx_tokens_are_located_exactly(case: tuple[str, list[str]]) -> None:
    text, names = case
    config = NginxConfig(text)
    found = list(config.walk())
    assert [d.directive for d in found] == names
    for directive in found:
        assert text[directive.name.start : directive.name.end] == directive.directive
        end = text[directive.end - 1]
        assert end in ";}" or (directive.block is None and end == ";")
    for line, (column, comment) in config.comments.items():
        assert config.lines.line_text(line)[column:] == comment


def test_nginx_lua_blocks_and_escapes() -> None:
    text = (
        "http {\n  upstream mcp { hash $http_mcp_session_id; server a; }\n"
        '  server {\n    location / { content_by_lua_block { ngx.say("}{") -- } comment\n    } }\n'
        "    set_by_lua_block $res { return 32 }\n"
        '    rewrite ^(.*)${a}\\;b "x\\"y" last; # trailing\n  }\n}\n'
    )
    config = NginxConfig(text)
    names = [d.directive for d in config.walk()]
    assert names == [
        "http",
        "upstream",
        "hash",
        "server",
        "server",
        "location",
        "content_by_lua_block",
        "set_by_lua_block",
        "rewrite",
    ]
    rewrite = next(d for d in config.walk() if d.directive == "rewrite")
    assert rewrite.arguments == ["^(.*)${a}\\;b", 'x"y', "last"]
    assert config.comments == {7: (38, "# trailing")}


def test_nginx_syntax_errors() -> None:
    with pytest.raises(ParseError, match="unexpected"):
        NginxConfig("upstream mcp {\n  ip_hash;\n")
    with pytest.raises(ParseError, match="unexpected"):
        NginxConfig("upstream mcp { ip_hash }\n}\n")
    # A `.conf` in conf.d that is not nginx at all (and has no upstream) is not ours to judge.
    assert NginxConfig("<VirtualHost *:80>\n  ServerName hash.example.com\n</VirtualHost>\n").directives == []


def test_nginx_fix_keeps_crlf_and_other_lines(tmp_path: Path) -> None:
    before = "upstream mcp {\r\n    ip_hash;  # sticky\r\n    server a;\r\n}\r\n"
    path = tmp_path / "nginx.conf"
    path.write_bytes(before.encode())
    result = engine.process(SourcePath(str(path), "nginx.conf", "nginx"), engine.Job(("MCP305",), engine.Mode.FIX))
    assert not result.errors and result.fixed == 1
    assert path.read_bytes() == b"upstream mcp {\r\n    server a;\r\n}\r\n"


def test_nginx_in_conf_d_is_checked_and_fixed(run: Run, workdir: Path) -> None:
    path = write("deploy/conf.d/mcp.conf", "upstream mcp {\n    hash $remote_addr consistent;\n    server a;\n}\n")
    code, out, _ = run("check", "--no-progress", ".")
    assert code == 1 and "deploy/conf.d/mcp.conf:2:5: MCP305 [*] upstream 'mcp' hashes on the client address" in out
    assert run("fix", "--no-progress", ".")[0] == 1  # changed files
    assert run("check", "--no-progress", ".")[0] == 0
    assert path.read_text() == "upstream mcp {\n    server a;\n}\n"


# -- HAProxy ----------------------------------------------------------------------------------------
def test_haproxy_words_quotes_and_comments() -> None:
    text = (
        "global\n  log stdout local0\n"
        'backend b  # the pool\n  http-request set-header X "a # b" # real\n'
        "  acl x path_beg /a\\#b\n  balance source\n"
    )
    config = HaproxyConfig(text)
    assert [s.label for s in config.sections] == ["", "global", "backend 'b'"]
    backend = config.sections[2]
    assert [line.values for line in backend.lines] == [
        ["http-request", "set-header", "X", "a # b"],
        ["acl", "x", "path_beg", "/a#b"],
        ["balance", "source"],
    ]
    assert config.comments == {3: (11, "# the pool"), 4: (36, "# real")}
    with pytest.raises(ParseError, match="unmatched quote at line 2"):
        HaproxyConfig('backend b\n  http-request set-header X "open\n')


def test_haproxy_rate_limit_table_is_not_persistence(run: Run, workdir: Path) -> None:
    write(
        "haproxy.cfg",
        "backend mcp\n"
        "  stick-table type ip size 100k expire 30s store conn_rate(10s)\n"
        "  stick on src\n"
        "  tcp-request connection reject if { src_conn_rate gt 10 }\n"
        "  server a 10.0.0.1:80\n",
    )
    code, out, _ = run("check", "--no-progress", ".")
    assert code == 1
    assert "haproxy.cfg:3:3: MCP305" in out and ":2:3:" not in out  # the rule, not the shared table

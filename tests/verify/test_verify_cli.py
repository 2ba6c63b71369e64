"""verify's usage errors: exit 2 with one clear line, never a traceback (no server needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.com/mcp"], "not an http(s) URL"),
        (["http://127.0.0.1:9/mcp", "--args", "{}"], "--args needs --call"),
        (["http://127.0.0.1:9/mcp", "--call", "x", "--args", "{nope"], "not valid JSON"),
        (["http://127.0.0.1:9/mcp", "--header", "no-colon"], "--header wants"),
        (["http://127.0.0.1:9/mcp", "--change-args", "{}"], "--change-args needs --change"),
        (["http://127.0.0.1:9/mcp", "--change", "x", "--change-args", "[1]"], "--change-args must be a JSON object"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "mcp_migrate", "verify", *args], capture_output=True, text=True)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr

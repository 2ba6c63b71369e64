"""TOML on demand: tomllib (tomli on 3.10) is imported when a file is read, not on every start."""

from __future__ import annotations

import sys
from typing import Any


def read_toml(text: str) -> dict[str, Any]:
    """The document; a ValueError (tomllib's TOMLDecodeError is one) when it is not TOML, or is
    nested too deeply to read."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except RecursionError:  # arrays or inline tables nested past the interpreter's limit
        raise ValueError("nested too deeply to read") from None
    return document

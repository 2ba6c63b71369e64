"""Settings: built-in defaults, then `[tool.mcp-migrate]` / `.mcp-migrate.toml`, then the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import UsageError
from .toml_reader import read_toml

FORMATS = ("text", "json", "sarif", "github", "gitlab", "markdown")


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ()  # empty: every rule
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    format: str = "text"
    output: str | None = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    progress: bool = True
    unsafe_fixes: bool = False
    fix_tests: bool = False  # fix test code too (by default its findings are advisory and left alone)
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (glob, codes or prefixes)
    # Per-file budgets: a bigger file, or one whose analysis takes longer, is reported by name
    # and skipped, and the run goes on (a generated 20 MB module, a quadratic expression).
    file_size_limit: float = 10.0  # megabytes
    file_time_limit: float = 30.0  # seconds
    source: str | None = None  # the config file the settings came from


_LIST_KEYS = {"select", "ignore", "exclude"}
_KEYS = _LIST_KEYS | {
    "format",
    "output",
    "jobs",
    "no-progress",
    "unsafe-fixes",
    "fix-tests",
    "per-file-ignores",
    "file-size-limit",
    "file-time-limit",
}


def find_config(start: Path) -> Path | None:
    """The nearest `.mcp-migrate.toml`, or `pyproject.toml` with a [tool.mcp-migrate] table."""
    for directory in (start, *start.parents):
        dedicated = directory / ".mcp-migrate.toml"
        if dedicated.is_file():
            return dedicated
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_our_table(pyproject):
            return pyproject
    return None


def _has_our_table(pyproject: Path) -> bool:
    raw = pyproject.read_bytes()
    if b"mcp-migrate" not in raw:  # most pyproject files: no TOML parse needed
        return False
    try:
        tool = read_toml(raw.decode("utf-8")).get("tool")
    except ValueError:  # not TOML, or not UTF-8
        return True  # ours or not, load() reports it clearly
    return isinstance(tool, dict) and "mcp-migrate" in tool


def load(path: Path) -> Settings:
    """Read one config file into Settings; every problem is one UsageError line."""
    try:
        data = read_toml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read config: {exc.strerror}") from None
    except ValueError as exc:  # not TOML, or not UTF-8
        raise UsageError(f"{path}: invalid TOML: {exc}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise UsageError(f"{path}: 'tool' must be a table")
    # pyproject.toml: only our table; .mcp-migrate.toml: our table or top-level keys
    table = tool.get("mcp-migrate", {} if path.name == "pyproject.toml" else data)
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.mcp-migrate] must be a table")
    return from_mapping(table, f"{path}", Settings(source=str(path)))


def from_mapping(table: dict[str, Any], where: str, base: Settings) -> Settings:
    changes: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("_", "-")
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise UsageError(f"{where}: unknown key {raw_key!r} (known keys: {known})")
        if key in _LIST_KEYS:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise UsageError(f"{where}: {raw_key!r} must be a list of strings")
            changes[key] = tuple(value)
        elif key == "format":
            changes["format"] = check_format(value, f"{where}: 'format'")
        elif key == "output":
            if not isinstance(value, str):
                raise UsageError(f"{where}: 'output' must be a string")
            changes["output"] = value
        elif key == "jobs":
            changes["jobs"] = check_jobs(value, f"{where}: 'jobs'")
        elif key in ("file-size-limit", "file-time-limit"):
            changes[key.replace("-", "_")] = check_limit(value, f"{where}: {raw_key!r}")
        elif key == "no-progress":
            changes["progress"] = not _bool(value, where, raw_key)
        elif key == "unsafe-fixes":
            changes["unsafe_fixes"] = _bool(value, where, raw_key)
        elif key == "fix-tests":
            changes["fix_tests"] = _bool(value, where, raw_key)
        elif key == "per-file-ignores":
            if not isinstance(value, dict) or not all(
                isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()
            ):
                raise UsageError(f'{where}: {raw_key!r} must be a table of glob = ["CODE", ...]')
            changes["per_file_ignores"] = tuple((glob, tuple(codes)) for glob, codes in value.items())
    return replace(base, **changes)


def check_format(value: object, where: str) -> str:
    if value not in FORMATS:
        raise UsageError(f"{where} must be one of {', '.join(FORMATS)}, not {value!r}")
    return str(value)


def check_jobs(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{where} must be a whole number of at least 1, not {value!r}")
    return value


def check_limit(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise UsageError(f"{where} must be a number greater than 0, not {value!r}")
    return float(value)


def _bool(value: object, where: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{where}: {key!r} must be true or false")
    return value


def show(settings: Settings) -> str:
    """The resolved settings as TOML, for `check --show-config`."""
    lines = [f"# from {settings.source or 'built-in defaults'} and the command line", "[tool.mcp-migrate]"]
    for key, value in (
        ("select", list(settings.select) or ["ALL"]),
        ("ignore", list(settings.ignore)),
        ("exclude", list(settings.exclude)),
        ("format", settings.format),
        ("output", settings.output or ""),
        ("jobs", settings.jobs),
        ("no-progress", not settings.progress),
        ("unsafe-fixes", settings.unsafe_fixes),
        ("fix-tests", settings.fix_tests),
        ("file-size-limit", settings.file_size_limit),
        ("file-time-limit", settings.file_time_limit),
    ):
        lines.append(f"{key} = {_toml(value)}")
    lines.append("")
    lines.append("[tool.mcp-migrate.per-file-ignores]")
    lines.extend(f"{_toml(glob)} = {_toml(list(codes))}" for glob, codes in settings.per_file_ignores)
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

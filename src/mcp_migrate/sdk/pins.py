"""The Python packages a project pins, read the way its installer would.

A fix is only as good as the SDK version it is written for: `FastMCP(stateless_http=True)` is
right under fastmcp 2.x and a `TypeError` under 3.x. So before choosing a spelling the rules ask
which versions of `mcp` / `fastmcp` the file's project installs. The answer comes from the
nearest project root above the file (monorepos have one per package): an exact version from a
lock file (`uv.lock`, `poetry.lock`, `Pipfile.lock`; a workspace lock may sit higher up, at the
repository root), otherwise the intersection of every specifier the project declares
(`pyproject.toml`: PEP 621 dependencies and extras, PEP 735 dependency groups, Poetry;
`requirements*.txt`; `setup.cfg`). `setup.py` is code, not data, and is not read.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..toml_reader import read_toml

if TYPE_CHECKING:  # packaging is imported only where a project declares or locks something
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

T = TypeVar("T")

LOCK_FILES = ("uv.lock", "poetry.lock", "Pipfile.lock")
_SPEC_FILES = ("pyproject.toml", "setup.cfg")
_ROOT_MARKERS = (*_SPEC_FILES, "setup.py", "Pipfile", *LOCK_FILES)
_REQUIREMENTS = re.compile(r"requirements[\w.-]*\.(txt|in)$")


@dataclass(frozen=True)
class Pin:
    """What a project says about one package."""

    versions: frozenset[Version] = frozenset()  # exact, from a lock file
    specifier: SpecifierSet | None = None  # declared, when no lock names the package
    sources: tuple[str, ...] = ()  # the files that said so (relative to the project root)

    def admits(self, version: Version) -> bool:
        if self.versions:
            return version in self.versions
        return self.specifier is None or self.specifier.contains(version, prereleases=True)

    def describe(self) -> str:
        """Where the pin comes from: `uv.lock`, or "`>=2.1,<3` in pyproject.toml"."""
        where = ", ".join(self.sources)
        if self.versions or self.specifier is None or not str(self.specifier):
            return where
        return f"`{_ordered(self.specifier)}` in {where}"


@dataclass
class ProjectPins:
    root: Path | None
    pins: dict[str, Pin] = field(default_factory=dict)
    files: tuple[Path, ...] = ()  # every file and folder looked at: a change to one changes the answers

    def get(self, package: str) -> Pin | None:
        return self.pins.get(canonicalize_name(package))


def project_pins(path: Path | None) -> ProjectPins:
    """The pins of the project `path` belongs to (empty when it belongs to none).

    Folders are listed afresh on every call (a long-lived process sees a new lock file); the
    files are parsed once per content stamp."""
    if path is None:
        return ProjectPins(None)
    root, lock_folder, visited = _roots(Path(os.path.abspath(os.path.dirname(path))))
    # Only folders inside the working directory are watched by the results cache: those above
    # it (/tmp, a home folder) change for reasons of their own.
    here = os.getcwd()
    visited = [f for f in visited if str(f) == here or str(f).startswith(here + os.sep)]
    if root is None and lock_folder is None:
        return ProjectPins(None, files=tuple(visited))
    declared: dict[str, list[tuple[SpecifierSet, str]]] = {}
    locked: dict[str, tuple[set[Version], str]] = {}
    read: list[Path] = []
    if root is not None:
        for file in _spec_files(root):
            read.append(file)
            for name, spec in _parsed(_declared, file):
                declared.setdefault(name, []).append((spec, file.name))
    for lock_root in dict.fromkeys(r for r in (root, lock_folder) if r is not None):
        for name in LOCK_FILES:
            lock = lock_root / name
            if lock.is_file():
                read.append(lock)
                where = os.path.relpath(lock, root) if root is not None else lock.name
                for package, version in _parsed(_locked, lock):
                    if package not in locked:
                        locked[package] = (set(), where)
                    if locked[package][1] == where:
                        locked[package][0].add(version)
        if locked:
            break  # the nearest lock is the one the installer uses
    pins: dict[str, Pin] = {}
    for name in set(declared) | set(locked):
        if name in locked:
            versions, where = locked[name]
            pins[name] = Pin(frozenset(versions), None, (where,))
        else:
            from packaging.specifiers import SpecifierSet

            specifier = SpecifierSet()
            for spec, _ in declared[name]:
                specifier &= spec
            pins[name] = Pin(frozenset(), specifier, tuple(dict.fromkeys(s for _, s in declared[name])))
    return ProjectPins(root or lock_folder, pins, (*visited, *read))


def project_root(path: Path) -> Path | None:
    """The nearest folder above `path` (a file) with a project or lock file, inside the repository."""
    root, lock, _ = _roots(path.parent)
    return root or lock


def _roots(folder: Path) -> tuple[Path | None, Path | None, list[Path]]:
    """The nearest folder with a project file, and the nearest one with a lock file (a uv or
    Poetry workspace locks its members at the top), and the folders looked into (a file created
    in one changes the answer). Neither search leaves the repository."""
    root = lock = None
    visited = []
    for current in (folder, *folder.parents):
        visited.append(current)
        try:
            names = set(os.listdir(current))
        except OSError:
            names = set()
        if root is None and (names.intersection(_ROOT_MARKERS) or any(_REQUIREMENTS.match(n) for n in names)):
            root = current
        if lock is None and names.intersection(LOCK_FILES):
            lock = current
        if ".git" in names or (root is not None and lock is not None):
            break
    return root, lock, visited


def _parsed(reader: Callable[[Path], Iterator[T]], file: Path) -> tuple[T, ...]:
    try:
        stat = file.stat()
    except OSError:
        return ()
    return _parsed_once(reader, str(file), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=512)
def _parsed_once(reader: Callable[[Path], Iterator[T]], file: str, size: int, mtime_ns: int) -> tuple[T, ...]:
    return tuple(reader(Path(file)))


def _spec_files(root: Path) -> list[Path]:
    names = sorted(os.listdir(root))
    return [root / n for n in names if n in _SPEC_FILES or _REQUIREMENTS.match(n)]


def _declared(file: Path) -> Iterator[tuple[str, SpecifierSet]]:
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    if file.name == "pyproject.toml":
        yield from _pyproject(text)
    elif file.name == "setup.cfg":
        yield from _setup_cfg(text)
    else:
        yield from _requirements(text.splitlines())


def canonicalize_name(name: str) -> str:
    """PEP 503's normalised project name (what packaging.utils computes, without its import)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(lines: Iterable[str]) -> Iterator[tuple[str, SpecifierSet]]:
    from packaging.requirements import InvalidRequirement, Requirement  # 25 ms: only for declared pins

    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "git+", "http:", "https:", "file:")):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        yield canonicalize_name(requirement.name), requirement.specifier


def _pyproject(text: str) -> Iterator[tuple[str, SpecifierSet]]:
    try:
        data = read_toml(text)
    except ValueError:
        return
    project = _table(data.get("project"))
    yield from _requirements(_strings(project.get("dependencies")))
    for extra in _table(project.get("optional-dependencies")).values():
        yield from _requirements(_strings(extra))
    for group in _table(data.get("dependency-groups")).values():
        yield from _requirements(_strings(group))  # {include-group = ...} entries are not strings
    poetry = _table(_table(data.get("tool")).get("poetry"))
    tables = [_table(poetry.get("dependencies")), _table(poetry.get("dev-dependencies"))]
    tables += [_table(_table(g).get("dependencies")) for g in _table(poetry.get("group")).values()]
    for table in tables:
        for name, constraint in table.items():
            spec = _poetry_specifier(constraint)
            if spec is not None and name != "python":
                yield canonicalize_name(name), spec


def _setup_cfg(text: str) -> Iterator[tuple[str, SpecifierSet]]:
    import configparser  # only for projects that have a setup.cfg

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return
    if parser.has_option("options", "install_requires"):
        yield from _requirements(parser.get("options", "install_requires").splitlines())
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            yield from _requirements(value.splitlines())


def _poetry_specifier(constraint: Any) -> SpecifierSet | None:
    """Poetry's `^1.2`, `~1.2`, `1.2.*`, `>=1,<2` or `{version = ...}` as a PEP 440 set."""
    if isinstance(constraint, dict):
        constraint = constraint.get("version")
    if not isinstance(constraint, str):
        return None
    parts = []
    for piece in constraint.split(","):
        piece = piece.strip()
        if not piece or piece == "*":
            continue
        if piece[0] in "^~" and not piece.startswith("~="):
            parts.extend(_caret_or_tilde(piece[0], piece[1:].strip()))
        elif piece[0].isdigit():
            parts.append(f"=={piece}")
        else:
            parts.append(piece)
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(",".join(parts))
    except InvalidSpecifier:
        return None


def _caret_or_tilde(kind: str, version: str) -> list[str]:
    numbers = [int(n) if n.isdigit() else 0 for n in version.split(".")]
    if kind == "^":  # the left-most non-zero component may not change
        index = next((i for i, n in enumerate(numbers) if n != 0), len(numbers) - 1)
    else:  # ~1.2.3 and ~1.2: the minor may not change; ~1: the major
        index = min(1, len(numbers) - 1)
    upper = [*numbers[:index], numbers[index] + 1]
    return [f">={version}", f"<{'.'.join(map(str, upper))}"]


def _locked(lock: Path) -> Iterator[tuple[str, Version]]:
    try:
        text = lock.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    entries: list[tuple[Any, Any]] = []
    if lock.name == "Pipfile.lock":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return
        for section in ("default", "develop"):
            for name, entry in _table(_table(data).get(section)).items():
                version = _table(entry).get("version")
                if isinstance(version, str):
                    entries.append((name, version.lstrip("=")))
    else:  # uv.lock and poetry.lock are machine-written TOML, megabytes each: scanned, not parsed
        entries = _LOCKED_PACKAGE.findall(text)
    from packaging.version import InvalidVersion, Version

    for name, version in entries:
        if isinstance(name, str) and isinstance(version, str):
            try:
                yield canonicalize_name(name), Version(version)
            except InvalidVersion:
                continue


def _ordered(specifier: SpecifierSet) -> str:
    """`>=2.1,<3` rather than packaging's alphabetical `<3,>=2.1`."""
    return ",".join(sorted((str(s) for s in specifier), key=lambda s: (s[0] == "<", s)))


# `[[package]]` then `name = "..."` and `version = "..."` as its first keys (uv and Poetry both
# write them so; anything else in the table comes after).
_LOCKED_PACKAGE = re.compile(r'(?m)^\[\[package\]\]\r?\nname = "([^"]+)"\r?\nversion = "([^"]+)"')


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

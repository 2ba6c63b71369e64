"""Which files a run looks at.

Inside a git work tree the file list comes from git itself (tracked plus untracked files that
are not ignored), so .gitignore, .git/info/exclude and global excludes are honoured exactly.
Elsewhere the tree is walked. Either way virtualenvs, node_modules, build and cache folders
are skipped, no symlink is followed, and user `--exclude` globs apply.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import UsageError
from .lang import language_of_name

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "__pypackages__",
    "site-packages",
    "node_modules",
    "bower_components",
    "build",
    "dist",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".cache",
    ".next",
    ".nuxt",
    ".turbo",
)


@dataclass(frozen=True)
class SourcePath:
    file: str  # what to open
    display: str  # what to print: relative to the working directory, or as given
    language: str
    stamp: tuple[int, int, int] | None = None  # size, mtime_ns, ctime_ns when discovered (for the cache)

    @property
    def path(self) -> Path:
        return Path(self.file)


def discover(paths: Sequence[str], excludes: Sequence[str] = ()) -> list[SourcePath]:
    """Files under `paths`, in a stable order, each once.

    Plain strings and `os` calls throughout: building `pathlib` objects for every file of a
    monorepo cost more than listing and reading it."""
    found: dict[str, SourcePath] = {}
    cwd = os.getcwd()
    cwd_prefix = cwd if cwd.endswith(os.sep) else cwd + os.sep
    for given in paths:
        if not os.path.lexists(given):
            raise UsageError(f"{given}: no such file or directory")
        candidates: Iterable[str] = _list_dir(given) if os.path.isdir(given) else [""]
        here = os.path.normpath(given) == "."
        for relative in candidates:
            if relative:
                if _default_excluded(relative):
                    continue
                name = relative[relative.rfind("/") + 1 :]
                path = relative if here else os.path.join(given, relative)
            else:
                path = given
                name = os.path.basename(path)
            lowered = name.lower()
            folder = os.path.basename(os.path.dirname(path)) if lowered.endswith((".conf", ".cfg")) else ""
            language = language_of_name(lowered, folder)
            if language is None:
                continue
            # git lists normalised relative paths: only other spellings need normalising
            display = path if here and relative else os.path.normpath(path).replace(os.sep, "/")
            if excludes and (matches_glob(display, excludes) or matches_glob(_from_cwd(path, cwd), excludes)):
                continue
            try:
                info = os.lstat(path)  # one system call: links and non-files at once
                if stat.S_ISLNK(info.st_mode):
                    if relative:
                        continue  # found while walking: never followed
                    path = os.path.realpath(path)  # named on the command line: edit the real file
                    info = os.stat(path)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            # the absolute path (listed paths below "." are normalised: joining is enough)
            key = cwd_prefix + path if here and relative else os.path.normpath(os.path.join(cwd, path))
            if key not in found:
                found[key] = SourcePath(path, display, language, (info.st_size, info.st_mtime_ns, info.st_ctime_ns))
    return sorted(found.values(), key=lambda s: s.display)


_EXCLUDED_NAMES = frozenset(p for p in DEFAULT_EXCLUDES if "*" not in p)
_EXCLUDED_SUFFIXES = tuple(p[1:] for p in DEFAULT_EXCLUDES if p.startswith("*"))  # `*.egg-info`: a suffix


def _default_excluded(relative: str) -> bool:
    """Whether a folder of the `/`-separated relative path is a default exclude: folder names
    (a set intersection) and `*.egg-info` (a substring test)."""
    folders = relative.split("/")[:-1]
    if not folders:
        return False
    if not _EXCLUDED_NAMES.isdisjoint(folders):
        return True
    return any(suffix + "/" in relative for suffix in _EXCLUDED_SUFFIXES)


def _from_cwd(path: str, cwd: str) -> str:
    """The path relative to the working directory, so globs match however it was spelled."""
    absolute = os.path.normpath(os.path.join(cwd, path))
    if absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return absolute[len(cwd.rstrip(os.sep)) + 1 :].replace(os.sep, "/")
    return path.replace(os.sep, "/")


def _list_dir(root: str) -> Iterable[str]:
    listed = _git_files(root)
    return listed if listed is not None else _walk(root)


def _git_files(root: str) -> list[str] | None:
    """Files git would consider part of the tree below `root` (relative, `/`-separated);
    None outside a work tree."""
    try:
        result = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=root,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    names = result.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [n for n in dict.fromkeys(names) if n]


def _walk(root: str) -> Iterator[str]:
    for directory, dirnames, filenames in os.walk(root):
        base = os.path.relpath(directory, root).replace(os.sep, "/")
        prefix = "" if base == "." else base + "/"
        dirnames[:] = sorted(d for d in dirnames if not _default_excluded(d + "/"))
        for name in sorted(filenames):
            yield prefix + name


def matches_glob(path: str, patterns: Sequence[str] | str) -> bool:
    """A glob matches the whole path, or any one of its leading parts or components."""
    if isinstance(patterns, str):
        patterns = [patterns]
    if not patterns:
        return False
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatchcase(path, pattern):
            return True
        for i, part in enumerate(parts):
            if fnmatch.fnmatchcase(part, pattern) or fnmatch.fnmatchcase(prefixes[i], pattern):
                return True
    return False

"""Languages the engine understands: which files are which, and how each is parsed.

Each language module is imported only when a file of that language passes the prefilter,
so a run that parses nothing never pays for a parser import.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePath
from typing import Any

_SUFFIXES = {
    ".py": "python",
    ".pyi": "python",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
}
# Dialects that share one set of checkers: rules declare triggers and checkers per family.
_FAMILIES = {"tsx": "typescript", "javascript": "typescript"}
# Proxy configs have generic suffixes: the name, or the folder they sit in, says what they are.
_NGINX_FOLDERS = frozenset({"nginx", "conf.d", "sites-available", "sites-enabled"})


def language_of(path: PurePath) -> str | None:
    return language_of_name(path.name, path.parent.name)


def language_of_name(name: str, folder: str) -> str | None:
    """The language of a file called `name` in a folder called `folder`."""
    name = name.lower()
    if name.endswith(".conf"):
        if name == "nginx.conf" or name.endswith(".nginx.conf") or folder.lower() in _NGINX_FOLDERS:
            return "nginx"
        return None
    if name.endswith(".cfg"):
        if name == "haproxy.cfg" or name.endswith(".haproxy.cfg") or folder.lower() == "haproxy":
            return "haproxy"
        return None
    if name.endswith(".d.ts") or name.endswith(".min.js"):
        return None  # declarations and bundles: nothing a migration edits
    dot = name.rfind(".")
    return _SUFFIXES.get(name[dot:]) if dot > 0 else None


def is_test_file(path: PurePath | None) -> bool:
    """Test code exercises handlers on purpose (fake sessions, stub state): rules about what a
    deployed server does skip it. Judged by the test runners' naming conventions (pytest's
    `test_*.py` / `*_test.py` / `conftest.py`, Jest/Vitest's `*.test.ts` / `*.spec.ts` /
    `__tests__/`, `__mocks__/`), end-to-end suites (`e2e/`, chainsaw's Kubernetes assertions)
    and test helper folders (`testHelpers/`, `test-utils/`: mock servers): what they hold
    describes what a test expects. A `tests/` folder alone says nothing (fixtures and
    examples live there too)."""
    if path is None:
        return False
    name = path.name.lower()
    if name.startswith("test_") or name == "conftest.py" or name.endswith(("_test.py", "_tests.py")):
        return True
    if ".test." in name or ".spec." in name:
        return True
    return not _TEST_FOLDERS.isdisjoint(part.lower() for part in path.parts[:-1])


# Jest's and Vitest's folders, end-to-end suites, and the helpers tests share (mock servers).
_TEST_FOLDERS = frozenset(
    {"__tests__", "__mocks__", "e2e", "chainsaw", "testhelpers", "test-helpers", "test_helpers", "test-utils"}
)


def family(language: str) -> str:
    """The language whose rules check this one (TSX and JavaScript share TypeScript's)."""
    return _FAMILIES.get(language, language)


@dataclass(frozen=True)
class Language:
    name: str  # the family: it names the rules' checker modules
    # (text, newline, path) -> parsed file with `.text` and `.lines` (a LineIndex); raises
    # ParseError. The path is only for reading related files (a relative import's re-exports).
    parse: Callable[[str, str, Path | None], Any]
    comments: Callable[[Any], dict[int, tuple[int, str]]]  # parsed file -> {line: (column, comment)}
    # (before, after) parsed files -> what a fix broke: names it left used but declared nowhere.
    # Every fix of every rule passes it before anything is written.
    fix_problems: Callable[[Any, Any], list[str]] = lambda before, after: []
    # (text, newline, path) -> a file parsed around its syntax errors (`syntax_errors`,
    # `broken_statement(byte offset)`, `describe_error(node)`), for parsers that recover
    # (tree-sitter); None: a file that does not parse is an error.
    parse_partial: Callable[[str, str, Path | None], Any] | None = None
    # text -> why the language's own reference implementation rejects it (None: accepted).
    # A file is fixed only when it is accepted before and after: libcst takes some files
    # CPython refuses (a NUL byte), and those are not ours to rewrite.
    rejects: Callable[[str], str | None] = lambda text: None


def _python() -> Language:
    from .python import PythonModule

    # Tokenizing a module for its comments costs as much as indexing it; a file that never
    # says "mcp-migrate" has no suppression comment to find.
    return Language(
        "python",
        PythonModule,
        lambda module: module.comments if "mcp-migrate" in module.text else {},
        lambda before, after: after.unbound_after_fix(before),
        rejects=_cpython_rejects,
    )


def _cpython_rejects(text: str) -> str | None:
    import ast

    try:
        ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        return f"CPython rejects it ({exc.msg if isinstance(exc, SyntaxError) else exc})"
    return None


def _yaml() -> Language:
    from ..errors import ParseError
    from .yaml import YamlFile

    def rejects(text: str) -> str | None:
        try:
            valid = YamlFile(text).valid
        except ParseError as exc:
            return str(exc)
        return None if valid else "PyYAML rejects it"

    # A stream PyYAML rejects is not analysed: its suppression comments silence nothing, and
    # are not "unused" either (the fuzzer caught MCP001 removing one from a broken values file).
    return Language(
        "yaml",
        lambda text, newline, path: YamlFile(text, newline, path=path),
        lambda f: f.comments if f.valid else {},
        lambda before, after: after.fix_problems(before),
        rejects=rejects,
    )


def _nginx() -> Language:
    from .nginx import NginxConfig

    return Language("nginx", lambda text, newline, path: NginxConfig(text, newline), lambda c: c.comments)


def _haproxy() -> Language:
    from .haproxy import HaproxyConfig

    return Language("haproxy", lambda text, newline, path: HaproxyConfig(text, newline), lambda c: c.comments)


def _typescript(dialect: str) -> Callable[[], Language]:
    def loader() -> Language:
        from .ts_bindings import unbound_after_fix
        from .typescript import TsModule

        def parse(text: str, newline: str, path: Path | None) -> TsModule:
            return TsModule(text, newline, path, dialect)

        def parse_partial(text: str, newline: str, path: Path | None) -> TsModule:
            return TsModule(text, newline, path, dialect, partial=True)

        return Language("typescript", parse, lambda module: module.comments, unbound_after_fix, parse_partial)

    return loader


_LOADERS: dict[str, Callable[[], Language]] = {
    "python": _python,
    "yaml": _yaml,
    "nginx": _nginx,
    "haproxy": _haproxy,
    "typescript": _typescript("typescript"),
    "tsx": _typescript("tsx"),
    "javascript": _typescript("javascript"),
}
_LOADED: dict[str, Language] = {}


def load(name: str) -> Language:
    if name not in _LOADED:
        _LOADED[name] = _LOADERS[name]()
    return _LOADED[name]


# `# mcp-migrate: ignore[MCP101, MCP102]`, or a bare `# mcp-migrate: ignore` (then only
# white space or a reason may follow). A malformed code list suppresses nothing.
_SUPPRESSION = re.compile(r"mcp-migrate:\s*ignore(?P<rest>.*)$")
_CODE_LIST = re.compile(r"\s*\[\s*(?P<codes>MCP\d+(?:\s*,\s*MCP\d+)*)\s*,?\s*\]", re.IGNORECASE)
_WHOLE = re.compile(r"^(#|//)\s*mcp-migrate:")


@dataclass(frozen=True)
class Suppression:
    line: int
    column: int  # 0-based start of the comment
    comment: str
    codes: frozenset[str] | None  # None: every code

    @property
    def whole_comment(self) -> bool:
        """The comment is only the directive (plus a reason), so removing it loses nothing else."""
        return bool(_WHOLE.match(self.comment))


def suppressions(comments: dict[int, tuple[int, str]]) -> dict[int, Suppression]:
    """Suppression comments by line."""
    found: dict[int, Suppression] = {}
    for line, (column, comment) in comments.items():
        match = _SUPPRESSION.search(comment)
        if match is None:
            continue
        rest = match.group("rest")
        if not rest.strip().startswith("["):
            if not rest or rest[0].isspace():
                found[line] = Suppression(line, column, comment, None)
            continue
        codes = _CODE_LIST.match(rest)
        if codes is not None:
            listed = frozenset(c.strip().upper() for c in codes.group("codes").split(","))
            found[line] = Suppression(line, column, comment, listed)
    return found


# -- the index phase: what crossing a module boundary needs, gathered before the rules run ------
@dataclass(frozen=True)
class Indexer:
    """How a language's files are indexed across a run (see engine.run)."""

    index_file: Callable[[str, bytes], Any]  # (absolute path, bytes) -> facts, or None: not taking part
    build: Callable[[dict[str, Any]], Any]  # every file's facts -> the project
    activate: Callable[[Any], None]  # make the project the one the rules consult (in each process)
    relevant: Callable[[str], bool]  # rules must see this file even if the prefilter would drop it
    dependencies: Callable[[str], set[str]]  # the files an answer about this one was read from
    # (facts by absolute path, every file of the language in the run) -> files to index as well,
    # though the byte gate does not pass them (names the indexed ones take from them matter)
    wanted: Callable[[dict[str, Any], Iterable[str]], set[str]]
    index_forced: Callable[[str, bytes], Any]  # (absolute path, bytes) -> facts, no byte gate
    to_json: Callable[[Any], Any]  # facts as the results cache keeps them
    from_json: Callable[[str, Any], Any]  # (absolute path, kept form) -> facts; raises when malformed


INDEXED_FAMILIES = ("python",)


def new_run() -> None:
    """Forget what an earlier run in this process learnt of the file system (which folders hold
    a tsconfig.json)."""
    tsconfig = sys.modules.get(f"{__name__}.tsconfig")
    if tsconfig is not None:
        tsconfig.forget()


def import_aliases(language: str, path: str, packages: tuple[bytes, ...]) -> tuple[tuple[bytes, ...], tuple[Path, ...]]:
    """What a file may write instead of importing `packages` (its project's import aliases), and
    the files that say so; nothing for a language without aliases."""
    if family(language) != "typescript":
        return (), ()
    from .tsconfig import alias_prefixes

    return alias_prefixes(path, packages)


@cache  # asked for every file of a run
def indexer(language: str) -> Indexer | None:
    if family(language) not in INDEXED_FAMILIES:
        return None
    from ..sdk import python_project
    from .python_modules import facts_from_json, facts_to_json

    return Indexer(
        python_project.index_file,
        python_project.build,
        python_project.activate,
        python_project.relevant,
        python_project.dependencies,
        python_project.wanted,
        python_project.index_forced,
        facts_to_json,
        facts_from_json,
    )

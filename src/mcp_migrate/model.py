"""The vocabulary shared by rules, the engine and the reporters."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    """How much a finding blocks a stateless deployment."""

    ERROR = "error"  # the server stays pinned to one replica until this is fixed
    WARNING = "warning"  # dead or misleading configuration, harmless once sessions are off


class FixSafety(str, Enum):
    """Ruff's applicability: safe fixes run by default, unsafe ones need --unsafe-fixes."""

    SAFE = "safe"
    UNSAFE = "unsafe"


class FixAvailability(str, Enum):
    """What a rule can offer in general (shown by `rules` and `explain`)."""

    ALWAYS = "always"
    SOMETIMES = "sometimes"
    NONE = "none"


@dataclass(frozen=True, order=True)
class Edit:
    """Replace text[start:end] (character offsets into the decoded file) with `text`."""

    start: int
    end: int
    text: str = ""


@dataclass(frozen=True)
class Fix:
    safety: FixSafety
    description: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True, order=True)
class Span:
    """1-based lines and columns; the end is exclusive, like ruff's."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Diagnostic:
    """What a rule reports about one file; the engine adds the path."""

    code: str
    span: Span
    message: str
    fix: Fix | None = None


@dataclass(frozen=True)
class Finding:
    code: str
    path: str
    span: Span
    message: str
    severity: Severity
    fix: Fix | None = None
    edits: tuple[tuple[Span, str], ...] = ()  # the fix's edits as positions, for JSON consumers
    source_line: str = ""  # the stripped text of the first line: what fingerprints are made of

    def sort_key(self) -> tuple[str, Span, str]:
        return (self.path, self.span, self.code)


@dataclass(frozen=True)
class FileError:
    """A file the run could not read, parse or write: reported once and left untouched."""

    path: str
    message: str
    # A warning is said but does not fail the run: a file parsed only in part, whose findings
    # outside the broken code are still reported.
    warning: bool = False


@dataclass
class FileResult:
    """Everything one file contributed to a run."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    fixed: int = 0  # findings removed by applied fixes
    diff: str = ""  # unified diff of the applied (or, with --diff, proposed) changes
    # character ranges of the file as read that the applied fixes replaced (every pass, mapped
    # back): outside them the written file is the file as read, byte for byte
    fixed_ranges: tuple[tuple[int, int], ...] = ()
    depends_on: tuple[str, ...] = ()  # other files and folders the result was computed from


@dataclass(frozen=True)
class Gate:
    """A file passes when it holds one of `literals` (if any) and matches the bytes regex
    `pattern`. The literals come first because a substring test is far cheaper than a regex
    that may start anywhere, and nearly every file fails them."""

    pattern: bytes
    literals: tuple[bytes, ...] = ()
    # The literals are package prefixes of import specifiers: a file importing those packages
    # through its project's aliases (tsconfig `paths`) passes too.
    imports: bool = False


@dataclass(frozen=True)
class Rule:
    """A rule's contract: its code and documentation, shared by every language it checks.

    `triggers` maps a language to byte strings (or `Gate`s, for a trigger that needs two
    things at once) of which at least one must occur in a file for the rule to run there, and
    `gates` a `Gate` it must pass as well: the cheap prefilter that keeps most files from
    being parsed.
    The checker for a language lives in the rule package's module of that name.
    """

    code: str
    name: str
    summary: str
    severity: Severity
    fix: FixAvailability
    docs: str
    triggers: dict[str, tuple[bytes | Gate, ...]]
    # language -> what the file must also hold (e.g. "imports an MCP SDK")
    gates: dict[str, Gate] = field(default_factory=dict)
    # The checker follows servers across modules (the index phase): it also runs on files the
    # index names although its triggers and gate would drop them (`mcp.run(...)` on an import).
    follows_project: bool = False

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.triggers)

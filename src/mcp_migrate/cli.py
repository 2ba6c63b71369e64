"""The command line: options -> settings -> engine -> reporter. Nothing else lives here.

A typer application (per-command help, shell completion, rich help) whose commands only gather
their options and hand them on. Start-up is most of the cost of the pre-commit case (one file per
commit), so the engine, reporters, rich and the rules load only when a command needs them.
"""

import contextlib
import gc
import io
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TextIO

import typer
from typer.core import TyperGroup
from typer.models import CommandInfo

from . import DISTRIBUTION, HOME, __version__, config
from .errors import UsageError

if TYPE_CHECKING:
    from typer import _click as click  # typer's own copy of click: its types, for annotations

    from . import engine
    from .cache import Cache
    from .config import Settings
    from .discovery import SourcePath
    from .model import FileResult, Finding

PROGRESS_MIN_FILES = 200
CACHE_MIN_FILES = 32

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
COMPLETE_VAR = "_MCP_MIGRATE_COMPLETE"  # set by the shell completion scripts (`--show-completion`)

Format = Literal["text", "json", "sarif", "github", "gitlab", "markdown"]  # config.FORMATS (a test holds them equal)


def _rule_codes(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion for --select/--ignore: rule codes with their summaries, after any commas."""
    from . import rules

    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    candidates = [("ALL", "every rule")] + [(r.code, r.summary) for r in rules.all_rules()]
    return [(prefix + code, help) for code, help in candidates if code.startswith(last.upper())]


def _jobs(value: str) -> int:
    try:
        return config.check_jobs(int(value), "--jobs")
    except (ValueError, UsageError):
        raise typer.BadParameter(f"must be a whole number of at least 1, not {value!r}") from None


def _limit(value: str) -> float:
    try:
        return config.check_limit(float(value), "limit")
    except (ValueError, UsageError):
        raise typer.BadParameter(f"must be a number greater than 0, not {value!r}") from None


def _show_version(value: bool) -> None:
    if value:
        print(f"mcp-migrate {__version__} ({DISTRIBUTION}, {HOME})")
        raise typer.Exit()


_HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}


class _CommandsOnDemand(TyperGroup):
    """The root group, which builds a command's parameters when that command is used: typer builds
    every command's up front, a fifth of the start-up that a one-file pre-commit run pays for it."""

    def list_commands(self, ctx: "click.Context") -> list[str]:
        return [_name_of(info) for info in commands.registered_commands] + [
            str(group.name) for group in commands.registered_groups
        ]

    def get_command(self, ctx: "click.Context", cmd_name: str) -> "click.Command | None":
        if cmd_name not in self.commands:
            built = _build(cmd_name)
            if built is None:
                return None
            self.commands[cmd_name] = built
        return self.commands[cmd_name]


def _name_of(info: CommandInfo) -> str:
    return info.name or typer.main.get_command_name(info.callback.__name__ if info.callback else "")


def _build(name: str) -> "click.Command | None":
    for info in commands.registered_commands:
        if _name_of(info) == name:
            return typer.main.get_command_from_info(info, pretty_exceptions_short=True, rich_markup_mode="rich")
    for group in commands.registered_groups:
        if group.name == name:
            return typer.main.get_group_from_info(
                group, pretty_exceptions_short=True, rich_markup_mode="rich", suggest_commands=True
            )
    return None


app = typer.Typer(
    name="mcp-migrate",
    cls=_CommandsOnDemand,
    help="Take MCP servers from session-based deployments to the stateless 2026-07-28 protocol.",
    epilog="Examples: mcp-migrate check . | mcp-migrate fix --diff src/ | mcp-migrate explain MCP101",
    context_settings=_HELP_OPTIONS,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    no_args_is_help=False,
)
commands = typer.Typer(context_settings=_HELP_OPTIONS, rich_markup_mode="rich")  # what the root group builds
scaffold_app = typer.Typer(
    help="Generate a task store or a reference stateless server.",
    context_settings=_HELP_OPTIONS,
    rich_markup_mode="rich",
)
commands.add_typer(scaffold_app, name="scaffold")


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and the project's home."
        ),
    ] = False,
) -> None:
    """Take MCP servers from session-based deployments to the stateless 2026-07-28 protocol."""


# -- the options `check` and `fix` share -----------------------------------------------------------
Paths = Annotated[list[Path] | None, typer.Argument(metavar="PATH", help="Files or folders.", show_default=".")]
Select = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        metavar="CODES",
        help="Only these rules: codes or prefixes (MCP1), comma-separated, repeatable.",
        autocompletion=_rule_codes,
    ),
]
Ignore = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore", metavar="CODES", help="Skip these rules (added to the configured ones).", autocompletion=_rule_codes
    ),
]
Exclude = Annotated[
    list[str] | None, typer.Option("--exclude", metavar="GLOB", help="Skip paths matching the glob (repeatable).")
]
FormatOption = Annotated[Format | None, typer.Option("--format", help="Report format.", show_default="text")]
Output = Annotated[
    str | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE instead of stdout.")
]
Jobs = Annotated[
    int | None,
    typer.Option("--jobs", "-j", metavar="N", parser=_jobs, help="Processes to use.", show_default="all cores"),
]
FileSizeLimit = Annotated[
    float | None,
    typer.Option(
        "--file-size-limit",
        metavar="MB",
        parser=_limit,
        help="Skip (and name) files bigger than this.",
        show_default="10",
    ),
]
FileTimeLimit = Annotated[
    float | None,
    typer.Option(
        "--file-time-limit",
        metavar="SECONDS",
        parser=_limit,
        help="Skip (and name) a file whose analysis takes longer.",
        show_default="30",
    ),
]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="Never show a progress bar.")]
ConfigFile = Annotated[
    str | None,
    typer.Option("--config", metavar="FILE", help="Read settings from FILE instead of the nearest config."),
]
Isolated = Annotated[bool, typer.Option("--isolated", help="Ignore every configuration file.")]
NoCache = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the results cache (also MCP_MIGRATE_NO_CACHE=1).")
]
CacheDir = Annotated[
    str | None,
    typer.Option(
        "--cache-dir",
        metavar="DIR",
        help="Where the results cache lives.",
        show_default="$MCP_MIGRATE_CACHE_DIR, else $XDG_CACHE_HOME/mcp-migrate, else ~/.cache/mcp-migrate",
    ),
]


@dataclass(frozen=True)
class LintOptions:
    """What `check` and `fix` were asked, as the command line gave it (None: not given)."""

    command: Literal["check", "fix"]
    paths: list[str]
    select: list[str] | None = None
    ignore: list[str] | None = None
    exclude: list[str] | None = None
    format: str | None = None
    output: str | None = None
    jobs: int | None = None
    file_size_limit: float | None = None
    file_time_limit: float | None = None
    no_progress: bool = False
    config: str | None = None
    isolated: bool = False
    no_cache: bool = False
    cache_dir: str | None = None
    baseline: str | None = None
    write_baseline: str | None = None
    show_config: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    fix_tests: bool = False


@commands.command(
    epilog="Example: mcp-migrate check --select MCP1,MCP3 --format sarif -o report.sarif .",
)
def check(
    paths: Paths = None,
    select: Select = None,
    ignore: Ignore = None,
    exclude: Exclude = None,
    format: FormatOption = None,
    output: Output = None,
    jobs: Jobs = None,
    file_size_limit: FileSizeLimit = None,
    file_time_limit: FileTimeLimit = None,
    no_progress: NoProgress = False,
    config: ConfigFile = None,
    isolated: Isolated = False,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", metavar="FILE", help="Report only findings not recorded in FILE.")
    ] = None,
    write_baseline: Annotated[
        str | None,
        typer.Option("--write-baseline", metavar="FILE", help="Record the current findings in FILE and exit 0."),
    ] = None,
    show_config: Annotated[bool, typer.Option("--show-config", help="Print the resolved settings and exit.")] = False,
) -> int:
    """Report findings (exit 1 when there are any, 0 when clean)."""
    options = {k: v for k, v in locals().items() if k != "paths"}
    return _lint(LintOptions("check", [str(p) for p in paths or [Path(".")]], **options))


@commands.command(
    epilog="Examples: mcp-migrate fix --diff . (show, write nothing) | mcp-migrate fix --unsafe-fixes services/api",
)
def fix(
    paths: Paths = None,
    select: Select = None,
    ignore: Ignore = None,
    exclude: Exclude = None,
    format: FormatOption = None,
    output: Output = None,
    jobs: Jobs = None,
    file_size_limit: FileSizeLimit = None,
    file_time_limit: FileTimeLimit = None,
    no_progress: NoProgress = False,
    config: ConfigFile = None,
    isolated: Isolated = False,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    unsafe_fixes: Annotated[bool, typer.Option("--unsafe-fixes", help="Also apply fixes marked unsafe.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff of the fixes; write nothing.")] = False,
    fix_tests: Annotated[
        bool,
        typer.Option(
            "--fix-tests", help="Fix test code too (test_*.py, *.test.ts, ...: advisory and left alone by default)."
        ),
    ] = False,
) -> int:
    """Apply fixes in place (exit 1 when anything changed or remains)."""
    options = {k: v for k, v in locals().items() if k != "paths"}
    return _lint(LintOptions("fix", [str(p) for p in paths or [Path(".")]], **options))


@commands.command(name="rules", epilog="Example: mcp-migrate rules --format json")
def list_rules(
    format: Annotated[Literal["text", "json"], typer.Option("--format", help="Output format.")] = "text",
) -> int:
    """List every rule: code, name, fix safety, summary."""
    from . import rules

    all_rules = rules.all_rules()
    if format == "json":
        import json

        rows = [
            {
                "code": r.code,
                "name": r.name,
                "summary": r.summary,
                "severity": r.severity.value,
                "fix": r.fix.value,
                "languages": list(r.languages),
            }
            for r in all_rules
        ]
        print(json.dumps(rows, indent=2))
        return EXIT_CLEAN
    width = max(len(r.name) for r in all_rules)
    for rule in all_rules:
        print(f"{rule.code}  {rule.name:<{width}}  fix: {rule.fix.value:<9}  {rule.summary}")
    return EXIT_CLEAN


def _all_codes(incomplete: str) -> list[tuple[str, str]]:
    return [(code, summary) for code, summary in _rule_codes(incomplete) if code != "ALL"]


@commands.command(epilog="Example: mcp-migrate explain MCP105")
def explain(
    code: Annotated[str, typer.Argument(metavar="CODE", help="A rule code.", autocompletion=_all_codes)],
) -> int:
    """Print one rule's documentation."""
    from . import rules

    rule = rules.get_rule(code)
    print(f"# {rule.code} {rule.name}\n")
    print(f"{rule.summary}.\n")
    print(f"Severity: {rule.severity.value}. Fix: {rule.fix.value}. Languages: {', '.join(rule.languages)}.")
    print(rule.docs.rstrip())
    return EXIT_CLEAN


@commands.command(
    epilog="Examples: mcp-migrate verify https://mcp.example.com/mcp | mcp-migrate verify http://10.0.0.1:8000/mcp "
    'http://10.0.0.2:8000/mcp --call echo --args \'{"text": "hi"}\'',
)
def verify(
    urls: Annotated[
        list[str], typer.Argument(metavar="URL...", help="The MCP endpoint(s): one balanced URL or each replica.")
    ],
    header: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", metavar="'NAME: VALUE'", help="Send on every request (repeatable)."),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", metavar="SECONDS", help="Per request.")] = 10.0,
    requests: Annotated[
        int, typer.Option("--requests", metavar="N", help="Requests in the round-robin conversation.")
    ] = 6,
    call: Annotated[
        str | None,
        typer.Option("--call", metavar="TOOL", help="Also call this tool (verify never calls tools on its own)."),
    ] = None,
    args: Annotated[
        str | None, typer.Option("--args", metavar="JSON", help="Arguments for --call, a JSON object.")
    ] = None,
    change: Annotated[
        str | None,
        typer.Option(
            "--change",
            metavar="TOOL",
            help="A tool whose call the server announces to subscriptions/listen clients: called through the "
            "last URL while a listener waits on the first.",
        ),
    ] = None,
    change_args: Annotated[
        str | None, typer.Option("--change-args", metavar="JSON", help="Arguments for --change, a JSON object.")
    ] = None,
    format: Annotated[Literal["text", "json"], typer.Option("--format", help="Output format.")] = "text",
) -> int:
    """Probe running replicas: prove the deployment is stateless (exit 1 when a check fails, 2 when unreachable)."""
    calls = {"--call": (call, args), "--change": (change, change_args)}
    return _verify(urls, header or [], timeout, requests, calls, format)


Out = Annotated[Path, typer.Option("--out", metavar="DIR", help="Where to write it.")]
Lang = Annotated[Literal["python", "typescript"], typer.Option("--lang", help="The language to generate.")]
Force = Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")]


@scaffold_app.command(epilog="Example: mcp-migrate scaffold tasks --out src/ --lang python")
def tasks(out: Out = Path("."), lang: Lang = "python", force: Force = False) -> int:
    """A durable, principal-bound, TTL'd task store (the Tasks extension) on Redis."""
    return _scaffold("tasks", out, lang, force)


@scaffold_app.command(epilog="Example: mcp-migrate scaffold server --out reference-server")
def server(out: Out = Path("."), lang: Lang = "python", force: Force = False) -> int:
    """A reference stateless server with its deployment (3 replicas behind round-robin, Redis)."""
    return _scaffold("server", out, lang, force)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit code is returned, never raised (completion and --help aside)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if not args and COMPLETE_VAR not in os.environ:  # completion calls come with no arguments
            raise UsageError("a command is required: check, fix, rules, explain, verify or scaffold (see --help)")
        command = typer.main.get_command(app)
        result = command.main(args, prog_name="mcp-migrate", standalone_mode=False)
        return result if isinstance(result, int) else EXIT_CLEAN
    except UsageError as exc:
        print(f"mcp-migrate: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except typer.TyperException as exc:  # the command line's own usage errors (unknown option, bad value)
        return _usage_error(exc)
    except (KeyboardInterrupt, typer.Abort):
        print("mcp-migrate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:
        if os.environ.get("MCP_MIGRATE_DEBUG"):
            raise
        print(
            f"mcp-migrate: internal error: {type(exc).__name__}: {exc} "
            "(set MCP_MIGRATE_DEBUG=1 for a traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _usage_error(exc: typer.TyperException) -> int:
    """One line on stderr, naming the help to read: not click's boxed usage block."""
    if isinstance(exc, typer.Exit):
        return int(getattr(exc, "exit_code", 0))
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    message = message.replace("Value error, ", "")  # the wording of typer's value checks
    context = getattr(exc, "ctx", None)
    where = f" (see '{context.command_path} --help')" if context is not None else ""
    print(f"mcp-migrate: error: {' '.join(message.split())}{where}", file=sys.stderr)
    return int(getattr(exc, "exit_code", EXIT_ERROR)) or EXIT_ERROR


def _verify(
    urls: list[str],
    header_lines: list[str],
    timeout: float,
    requests: int,
    calls: dict[str, tuple[str | None, str | None]],
    fmt: str,
) -> int:
    """`calls`: the tools verify may call (`--call`, `--change`), each with its JSON arguments."""
    import json
    from urllib.parse import urlparse

    from . import verify as probe  # only this command needs it
    from .verify import report

    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"not an http(s) URL: {url!r}")
    headers = {}
    for header in header_lines:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header wants 'Name: value', not {header!r}")
        headers[name.strip()] = value.strip()
    arguments: dict[str, dict[str, object]] = {}
    for option, (tool, text) in calls.items():
        flag = "--args" if option == "--call" else f"{option}-args"
        if text is not None and not tool:
            raise UsageError(f"{flag} needs {option} TOOL")
        try:
            value = json.loads(text) if text is not None else {}
        except ValueError as exc:
            raise UsageError(f"{flag} is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise UsageError(f"{flag} must be a JSON object")
        arguments[option] = value
    if timeout <= 0 or requests < 2:
        raise UsageError("--timeout must be positive and --requests at least 2")
    options = probe.Options(urls, headers, timeout, requests, calls["--call"][0], arguments["--call"])
    options.change, options.change_arguments = calls["--change"][0], arguments["--change"]
    result = probe.run(options)
    sys.stdout.write(report.as_json(result) if fmt == "json" else report.text(result))
    if result.unreachable:
        return EXIT_ERROR
    return EXIT_CLEAN if result.passed else EXIT_FINDINGS


def _scaffold(kind: str, out: Path, lang: str, force: bool) -> int:
    from . import scaffold  # only this command needs it

    written = scaffold.generate(kind, out, lang, force)
    for path in written:
        print(path)
    print(f"Wrote {len(written)} files under {out}. See {_next_steps(kind, lang, out)}.")
    return EXIT_CLEAN


def _next_steps(kind: str, lang: str, out: Path) -> str:
    if kind == "server":
        return str(out / "README.md")
    return str(out / ("mcp_tasks/README.md" if lang == "python" else "mcp-tasks/README.md"))


def _settings(args: LintOptions) -> "Settings":
    from . import rules
    from .config import Settings

    if args.isolated:
        settings = Settings()
    elif args.config:
        settings = config.load(Path(args.config))
    else:
        found = config.find_config(Path.cwd())
        settings = config.load(found) if found else Settings()
    overrides: dict[str, object] = {}
    if args.select is not None:  # --select replaces the configured selection, --ignore adds to it
        overrides["select"] = tuple(code for value in args.select for code in value.split(","))
    if args.ignore is not None:
        overrides["ignore"] = settings.ignore + tuple(code for value in args.ignore for code in value.split(","))
    if args.exclude:
        overrides["exclude"] = settings.exclude + tuple(args.exclude)
    for option in ("format", "output", "jobs", "file_size_limit", "file_time_limit"):
        if getattr(args, option) is not None:
            overrides[option] = getattr(args, option)
    if args.no_progress:
        overrides["progress"] = False
    if args.unsafe_fixes:
        overrides["unsafe_fixes"] = True
    if args.fix_tests:
        overrides["fix_tests"] = True
    settings = replace(settings, **overrides)  # type: ignore[arg-type]
    where = f" (in {settings.source})" if settings.source else ""
    return replace(
        settings,
        select=tuple(rules.validate_selectors(settings.select, "--select" + where)),
        ignore=tuple(rules.validate_selectors(settings.ignore, "--ignore" + where)),
        per_file_ignores=tuple(
            (glob, tuple(rules.validate_selectors(codes, f"per-file-ignores {glob!r}{where}")))
            for glob, codes in settings.per_file_ignores
        ),
    )


def _lint(args: LintOptions) -> int:
    from . import engine, rules
    from .discovery import discover

    settings = _settings(args)
    if args.show_config:
        sys.stdout.write(config.show(settings))
        return EXIT_CLEAN
    mode = engine.Mode.CHECK
    if args.command == "fix":
        mode = engine.Mode.DIFF if args.diff else engine.Mode.FIX
    if args.baseline or args.write_baseline:
        from . import baseline  # hashing and git only for baselines
    known = baseline.load(args.baseline) if args.baseline else None
    selected = rules.select(settings.select or None, settings.ignore)
    sources = discover(args.paths, settings.exclude)
    if not sources:  # say so, rather than let "all checks passed" suggest something was checked
        shown = " ".join(args.paths)
        print(
            f"mcp-migrate: warning: no files to check in {shown} (none of a supported language, "
            "or all ignored by git or excluded)",
            file=sys.stderr,
        )
    job = engine.Job(
        tuple(r.code for r in selected),
        mode,
        settings.unsafe_fixes,
        settings.per_file_ignores,
        settings.fix_tests,
        int(settings.file_size_limit * 1_000_000),
        settings.file_time_limit,
    )
    cache = _cache(args, job, len(sources))
    with _open_output(settings.output, sources) as out:  # a bad --output fails before any file is fixed
        with _progress(len(sources), settings) as advance:
            results = engine.run(sources, job, settings.jobs, advance, cache)
        findings = engine.findings_of(results)
        if args.write_baseline:
            baseline.write(args.write_baseline, findings)
            print(f"Recorded {len(findings)} findings in {args.write_baseline}.", file=sys.stderr)
            return EXIT_CLEAN
        if known is not None:
            before = len(findings)
            findings = baseline.new_findings(findings, known)
            if settings.format == "text" and before != len(findings):
                print(f"{before - len(findings)} findings hidden by the baseline {args.baseline}.", file=sys.stderr)
        out.write(_report(results, findings, mode.value, settings, color=out is sys.stdout and _color()))
    changed = any(r.diff for r in results)
    failed = (
        findings or any(not e.warning for r in results for e in r.errors) or (mode is not engine.Mode.CHECK and changed)
    )
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def _cache(args: LintOptions, job: "engine.Job", files: int) -> "Cache | None":
    """The results cache, for runs big enough to gain from it: one file is checked faster
    than a monorepo's cache is loaded."""
    if args.no_cache or os.environ.get("MCP_MIGRATE_NO_CACHE") or files < CACHE_MIN_FILES:
        return None
    from .cache import Cache, default_dir

    key = (job.codes, job.per_file_ignores, job.fix_tests, job.max_bytes, job.max_seconds)
    return Cache(Path(args.cache_dir) if args.cache_dir else default_dir(), key)


def _report(
    results: "list[FileResult]", findings: "list[Finding]", mode: str, settings: "Settings", color: bool
) -> str:
    """Reporters are imported only when used: the text path stays light for pre-commit."""
    fmt = settings.format
    if fmt == "json":
        from .report import json as as_json

        return as_json.render(results, findings, mode, settings.unsafe_fixes)
    if fmt == "sarif":
        from .report import sarif

        return sarif.render(results, findings)
    if fmt == "github":
        from .report import github

        return github.render(results, findings)
    if fmt == "gitlab":
        from .report import gitlab

        return gitlab.render(results, findings)
    if fmt == "markdown":
        from .report import markdown

        return markdown.render(results, findings, mode, settings.unsafe_fixes)
    from .report import text as plain

    return plain.render(results, findings, mode, settings.unsafe_fixes, color)


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _open_output(output: str | None, sources: "list[SourcePath]") -> AbstractContextManager[TextIO]:
    """stdout, or a report file checked now and written whole when the run is done: never one
    of the files being checked, and never truncated before the run has read its inputs."""
    if output is None:
        return nullcontext(sys.stdout)
    target = Path(output)
    if target.is_dir():
        raise UsageError(f"--output {output}: is a folder")
    folder = target.resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise UsageError(f"--output {output}: cannot write in {folder}")
    if target.exists():
        if not os.access(target, os.W_OK):
            raise UsageError(f"--output {output}: file is read-only")
        for source in sources:
            with contextlib.suppress(OSError):
                if os.path.samefile(source.file, target):
                    raise UsageError(f"--output {output}: is one of the files being checked")
    return _ReportFile(target)


class _ReportFile(io.StringIO):
    """The report, kept in memory and written to its file (atomically) when the run is done."""

    def __init__(self, target: Path) -> None:
        super().__init__()
        self.target = target

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            from .edits import atomic_write

            data = self.getvalue().encode("utf-8")
            try:
                if self.target.exists():
                    atomic_write(self.target, data)
                else:
                    self.target.write_bytes(data)
            except OSError as exc:
                raise UsageError(f"--output {self.target}: {exc.strerror or exc}") from None
        super().__exit__(kind, *rest)  # type: ignore[arg-type]


def _progress(total: int, settings: "Settings") -> AbstractContextManager[Callable[[int], None] | None]:
    """A rich progress bar on stderr for long interactive runs; nothing otherwise."""
    if not settings.progress or total < PROGRESS_MIN_FILES or not sys.stderr.isatty():
        return nullcontext(None)
    from ._progress import progress_bar

    return progress_bar(total)


def entrypoint() -> None:
    # A run allocates libcst's node classes and trees and frees little before it ends: collecting
    # the youngest generation every 700 allocations (the default) costs a pre-commit run ~2%.
    gc.set_threshold(100_000, 50, 100)
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()

"""The command line: options -> settings -> engine -> reporter. Nothing else lives here.

argparse rather than typer/click: the pre-commit case runs this on every commit, and start-up
time is most of the cost of checking one file.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import DISTRIBUTION, HOME, __version__, config, engine, rules
from .config import Settings
from .discovery import SourcePath, discover
from .edits import atomic_write
from .errors import UsageError
from .model import FileResult, Finding

if TYPE_CHECKING:
    from .cache import Cache

PROGRESS_MIN_FILES = 200
CACHE_MIN_FILES = 32

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Version(argparse.Action):
    """argparse's own version action wraps the line at the terminal's width; this prints it whole."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(f"mcp-migrate {__version__} ({DISTRIBUTION}, {HOME})")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-migrate",
        description="Take MCP servers from session-based deployments to the stateless 2026-07-28 protocol.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and the project's home")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: .)")
    common.add_argument(
        "--select", action="append", metavar="CODES", help="only these rules (codes or prefixes, comma-separated)"
    )
    common.add_argument("--ignore", action="append", metavar="CODES", help="skip these rules")
    common.add_argument("--exclude", action="append", metavar="GLOB", help="skip paths matching the glob (repeatable)")
    common.add_argument("--format", choices=config.FORMATS, help="report format (default: text)")
    common.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    common.add_argument("--jobs", "-j", type=_positive_int, metavar="N", help="processes to use (default: all cores)")
    common.add_argument(
        "--file-size-limit",
        type=_limit("--file-size-limit"),
        metavar="MB",
        help="skip (and name) files bigger than this (default: 10)",
    )
    common.add_argument(
        "--file-time-limit",
        type=_limit("--file-time-limit"),
        metavar="SECONDS",
        help="skip (and name) a file whose analysis takes longer (default: 30)",
    )
    common.add_argument("--no-progress", action="store_true", default=None, help="never show a progress bar")
    common.add_argument("--config", metavar="FILE", help="read settings from FILE instead of the nearest config")
    common.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    common.add_argument(
        "--no-cache", action="store_true", help="neither read nor write the results cache (also MCP_MIGRATE_NO_CACHE=1)"
    )
    common.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where the results cache lives (default: $MCP_MIGRATE_CACHE_DIR, else $XDG_CACHE_HOME/mcp-migrate, "
        "else ~/.cache/mcp-migrate)",
    )

    check = commands.add_parser("check", parents=[common], help="report findings (exit 1 when there are any)")
    check.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in FILE")
    check.add_argument("--write-baseline", metavar="FILE", help="record the current findings in FILE and exit 0")
    check.add_argument("--show-config", action="store_true", help="print the resolved settings and exit")
    fix = commands.add_parser(
        "fix", parents=[common], help="apply fixes in place (exit 1 when anything changed or remains)"
    )
    fix.add_argument("--unsafe-fixes", action="store_true", default=None, help="also apply fixes marked unsafe")
    fix.add_argument("--diff", action="store_true", help="print a unified diff of the fixes; write nothing")
    fix.add_argument(
        "--fix-tests",
        action="store_true",
        default=None,
        help="fix test code too (test_*.py, *.test.ts, ...: advisory and left alone by default)",
    )

    listing = commands.add_parser("rules", help="list every rule")
    listing.add_argument("--format", choices=config.FORMATS, default="text")
    explain = commands.add_parser("explain", help="print one rule's documentation")
    explain.add_argument("code", metavar="CODE")
    verify = commands.add_parser("verify", help="probe running replicas: prove the deployment is stateless")
    verify.add_argument("urls", nargs="+", metavar="URL", help="the MCP endpoint(s): one balanced URL or each replica")
    verify.add_argument(
        "--header", "-H", action="append", default=[], metavar="'NAME: VALUE'", help="send on every request"
    )
    verify.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="per request (default: 10)")
    verify.add_argument("--requests", type=int, default=6, metavar="N", help="requests in the round-robin conversation")
    verify.add_argument("--call", metavar="TOOL", help="also call this tool (verify never calls tools on its own)")
    verify.add_argument("--args", metavar="JSON", help="arguments for --call, a JSON object")
    verify.add_argument("--format", choices=("text", "json"), default="text")
    scaffold = commands.add_parser("scaffold", help="generate a task store or a reference stateless server")
    scaffold.add_argument("kind", choices=("tasks", "server"), help="what to generate")
    scaffold.add_argument("--out", default=".", metavar="DIR", help="where to write it (default: .)")
    scaffold.add_argument("--lang", choices=("python", "typescript"), default="python", help="default: python")
    scaffold.add_argument("--force", action="store_true", help="overwrite files that already exist")
    return parser


def _positive_int(value: str) -> int:
    try:
        return config.check_jobs(int(value), "--jobs")
    except (ValueError, UsageError):
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}") from None


def _limit(option: str) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            return config.check_limit(float(value), option)
        except (ValueError, UsageError):
            raise argparse.ArgumentTypeError(f"must be a number greater than 0, not {value!r}") from None

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command == "rules":
            return _list_rules(args.format)
        if args.command == "explain":
            return _explain(args.code)
        if args.command == "scaffold":
            return _scaffold(args)
        if args.command == "verify":
            return _verify(args)
        return _lint(args)
    except UsageError as exc:
        print(f"mcp-migrate: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
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


def _verify(args: argparse.Namespace) -> int:
    import json
    from urllib.parse import urlparse

    from . import verify  # only this command needs it
    from .verify import report

    for url in args.urls:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"not an http(s) URL: {url!r}")
    headers = {}
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header wants 'Name: value', not {header!r}")
        headers[name.strip()] = value.strip()
    if args.args is not None and not args.call:
        raise UsageError("--args needs --call TOOL")
    try:
        arguments = json.loads(args.args) if args.args is not None else {}
    except ValueError as exc:
        raise UsageError(f"--args is not valid JSON: {exc}") from None
    if not isinstance(arguments, dict):
        raise UsageError("--args must be a JSON object")
    if args.timeout <= 0 or args.requests < 2:
        raise UsageError("--timeout must be positive and --requests at least 2")
    options = verify.Options(args.urls, headers, args.timeout, args.requests, args.call, arguments)
    result = verify.run(options)
    sys.stdout.write(report.as_json(result) if args.format == "json" else report.text(result))
    if result.unreachable:
        return EXIT_ERROR
    return EXIT_CLEAN if result.passed else EXIT_FINDINGS


def _scaffold(args: argparse.Namespace) -> int:
    from . import scaffold  # only this command needs it

    out = Path(args.out)
    written = scaffold.generate(args.kind, out, args.lang, args.force)
    for path in written:
        print(path)
    print(f"Wrote {len(written)} files under {out}. See {_next_steps(args.kind, args.lang, out)}.")
    return EXIT_CLEAN


def _next_steps(kind: str, lang: str, out: Path) -> str:
    if kind == "server":
        return str(out / "README.md")
    return str(out / ("mcp_tasks/README.md" if lang == "python" else "mcp-tasks/README.md"))


def _settings(args: argparse.Namespace) -> Settings:
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
    if getattr(args, "unsafe_fixes", None):
        overrides["unsafe_fixes"] = True
    if getattr(args, "fix_tests", None):
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


def _lint(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if getattr(args, "show_config", False):
        sys.stdout.write(config.show(settings))
        return EXIT_CLEAN
    mode = engine.Mode.CHECK
    if args.command == "fix":
        mode = engine.Mode.DIFF if args.diff else engine.Mode.FIX
    if getattr(args, "baseline", None) or getattr(args, "write_baseline", None):
        from . import baseline  # hashing and git only for baselines
    known = baseline.load(args.baseline) if getattr(args, "baseline", None) else None
    selected = rules.select(settings.select or None, settings.ignore)
    sources = discover(args.paths or ["."], settings.exclude)
    if not sources:  # say so, rather than let "all checks passed" suggest something was checked
        shown = " ".join(args.paths or ["."])
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
        if getattr(args, "write_baseline", None):
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


def _cache(args: argparse.Namespace, job: engine.Job, files: int) -> Cache | None:
    """The results cache, for runs big enough to gain from it: one file is checked faster
    than a monorepo's cache is loaded."""
    if args.no_cache or os.environ.get("MCP_MIGRATE_NO_CACHE") or files < CACHE_MIN_FILES:
        return None
    from .cache import Cache, default_dir

    key = (job.codes, job.per_file_ignores, job.fix_tests, job.max_bytes, job.max_seconds)
    return Cache(Path(args.cache_dir) if args.cache_dir else default_dir(), key)


def _report(results: list[FileResult], findings: list[Finding], mode: str, settings: Settings, color: bool) -> str:
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


def _open_output(output: str | None, sources: list[SourcePath]) -> AbstractContextManager[TextIO]:
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
            data = self.getvalue().encode("utf-8")
            try:
                if self.target.exists():
                    atomic_write(self.target, data)
                else:
                    self.target.write_bytes(data)
            except OSError as exc:
                raise UsageError(f"--output {self.target}: {exc.strerror or exc}") from None
        super().__exit__(kind, *rest)  # type: ignore[arg-type]


def _progress(total: int, settings: Settings) -> AbstractContextManager[Callable[[int], None] | None]:
    """A rich progress bar on stderr for long interactive runs; nothing otherwise."""
    if not settings.progress or total < PROGRESS_MIN_FILES or not sys.stderr.isatty():
        return nullcontext(None)
    from ._progress import progress_bar

    return progress_bar(total)


def _list_rules(fmt: str) -> int:
    all_rules = rules.all_rules()
    if fmt == "json":
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


def _explain(code: str) -> int:
    rule = rules.get_rule(code)
    print(f"# {rule.code} {rule.name}\n")
    print(f"{rule.summary}.\n")
    print(f"Severity: {rule.severity.value}. Fix: {rule.fix.value}. Languages: {', '.join(rule.languages)}.")
    print(rule.docs.rstrip())
    return EXIT_CLEAN


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()

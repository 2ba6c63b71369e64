"""The ecosystem check: mcp-migrate over a pinned corpus of real public MCP repositories.

Like ruff's: fixtures say a rule does what we meant, real code says whether what we meant is
right. For each repository in ecosystem/corpus.toml (mirrors fetched outside this repository,
`<mirrors>/<owner>+<name>/repo`, a bare git directory), this
1. checks out the pinned commit into `<work>/trees/` (files the mirror lacks, such as Git LFS
   objects and files over the mirror's size limit, are left out and counted);
2. runs `check` (JSON, no cache) and times it;
3. runs `fix --unsafe-fixes` on a copy in `<work>/fixed/`, then: every changed Python file must
   compile, and every SDK call of every server in it must bind to the real signatures of each
   SDK release its project pins (tests/sdk_versions: one environment per modelled release);
   every changed file must still parse for the tool (its re-check reports no error); with
   `--tsc`, every TypeScript project a fix changed is type-checked with its own dependencies
   (`npm ci` from its lockfile, cached in `<work>/node/`; needs the npm registry) and its own
   `tsc`, before and after: an error in a changed file that only the fixed copy has is a problem;
4. compares each finding with ecosystem/verdicts.tsv (reviewed: true / false / debatable, one
   line of reason each): a finding without a verdict, or a verdict whose finding is gone, fails
   the check until someone reviews it.

    python scripts/ecosystem.py [--mirrors DIR] [--work DIR] [--repo NAME ...] [--no-fix]
                                [--tsc] [--add-unreviewed]

Exit 0 when everything is reviewed and every fix holds; 1 otherwise; 2 when a mirror is missing.
The mirrors cannot be fetched in CI (no network but package registries): this runs on a
developer's machine; its result is recorded in the closing notes and ecosystem/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
CORPUS = HERE / "ecosystem" / "corpus.toml"
VERDICTS = HERE / "ecosystem" / "verdicts.tsv"
VERDICT_FIELDS = ("repo", "path", "line", "code", "verdict", "reason")
VERDICT_VALUES = ("true", "false", "debatable")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass
class RepoResult:
    name: str
    commit: str
    files: int = 0
    missing_blobs: int = 0
    seconds: float = 0.0
    findings: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    fix_problems: list[str] = field(default_factory=list)
    bound_calls: int = 0
    typechecked: list[str] = field(default_factory=list)  # TypeScript files tsc checked after the fix


def load_corpus(path: Path | None = None) -> list[dict[str, str]]:
    return list(tomllib.loads((path or CORPUS).read_text(encoding="utf-8"))["repo"])


def load_verdicts(path: Path | None = None) -> dict[tuple[str, str, int, str], dict[str, str]]:
    path = path or VERDICTS
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as file:
        rows = [r for r in csv.DictReader(file, delimiter="\t") if not r["repo"].startswith("#")]
    verdicts = {}
    for row in rows:
        if row["verdict"] not in (*VERDICT_VALUES, "?"):
            raise SystemExit(f"{path}: unknown verdict {row['verdict']!r} in {row}")
        verdicts[(row["repo"], row["path"], int(row["line"]), row["code"])] = row
    return verdicts


def checkout(mirror: Path, commit: str, into: Path) -> tuple[int, int]:
    """The commit's regular files under `into` (kept when already there); (files, missing)."""
    marker = into / ".ecosystem-commit"
    if marker.exists() and marker.read_text() == commit:
        counts = json.loads((into / ".ecosystem-counts").read_text())
        return counts["files"], counts["missing"]
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    listing = subprocess.run(
        ["git", "--git-dir", str(mirror), "ls-tree", "-r", "-z", commit], capture_output=True, check=True
    ).stdout
    entries = []
    for item in listing.split(b"\0"):
        if not item:
            continue
        meta, path = item.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode in (b"100644", b"100755"):
            entries.append((sha, path.decode("utf-8", "surrogateescape"), mode == b"100755"))
    batch = subprocess.Popen(
        ["git", "--git-dir", str(mirror), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert batch.stdin is not None and batch.stdout is not None
    missing = 0
    for sha, path, executable in entries:
        batch.stdin.write(sha + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            missing += 1
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)  # the newline after the object
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if executable:
            target.chmod(0o755)
    batch.stdin.close()
    batch.wait()
    # A git work tree of its own: discovery honours the repository's .gitignore as a user's run would.
    subprocess.run(["git", "init", "-q", str(into)], check=True)
    marker.write_text(commit)
    (into / ".ecosystem-counts").write_text(json.dumps({"files": len(entries) - missing, "missing": missing}))
    return len(entries) - missing, missing


def run_tool(args: list[str], cwd: Path) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mcp_migrate", *args, "--format", "json", "--no-cache", "--no-progress"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "MCP_MIGRATE_NO_CACHE": "1"},
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"mcp-migrate {' '.join(args)} in {cwd} exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout), seconds


def verify_fixes(result: RepoResult, tree: Path, fixed: Path, scratch: Path) -> None:
    """Compile every changed Python file and bind its SDK calls under each pinned release."""
    sys.path.insert(0, str(HERE / "tests" / "sdk_versions"))
    from envs import bind_calls, ensure, sdk_calls

    failures = ensure()
    for name, log in failures.items():
        result.fix_problems.append(f"SDK environment {name} could not be built: {log[-300:]}")
    for relative in result.changed:
        path = fixed / relative
        if path.suffix != ".py":
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        try:
            compile(text, str(path), "exec")
        except SyntaxError as exc:
            result.fix_problems.append(f"{relative}: does not compile after fix: {exc}")
            continue
        for env, calls in sdk_calls(path, text).items():
            if env.name in failures:
                continue
            result.bound_calls += len(calls)
            for call, error in zip(calls, bind_calls(env, calls, scratch), strict=True):
                if error:
                    result.fix_problems.append(f"{relative}:{call['line']}: under {env.name}: {error}")


TYPESCRIPT_SUFFIXES = (".ts", ".tsx", ".mts", ".cts")


def typecheck_fixes(result: RepoResult, tree: Path, fixed: Path, deps: Path) -> None:
    """`tsc --noEmit` over the project of each TypeScript file the fix changed, with the
    project's own dependencies and compiler, on the original and on the fixed copy: a compiler
    error in a changed file that the original does not have is a fix problem. Errors are
    compared without positions (a rewrite moves lines)."""
    projects: dict[tuple[Path, Path], list[str]] = {}
    for relative in result.changed:
        if not relative.endswith(TYPESCRIPT_SUFFIXES) or relative.endswith(".d.ts"):
            continue
        root = _nearest(fixed, relative, "package-lock.json")
        config = _nearest(fixed, relative, "tsconfig.json")
        if root is None or config is None:
            result.fix_problems.append(
                f"{relative}: no package-lock.json and tsconfig.json above it to type-check with"
            )
            continue
        projects.setdefault((root, config), []).append(relative)
    for (root, config), files in projects.items():
        modules = _installed(tree / root, deps / root)
        compiler = modules / ".bin" / "tsc"
        if not compiler.exists():
            result.fix_problems.append(f"{root}: typescript is not among the project's dependencies")
            continue
        before = _tsc_errors(compiler, tree, root, config, modules)
        after = _tsc_errors(compiler, fixed, root, config, modules)
        for path, errors in after.items():
            if path in files:
                for error in sorted(set(errors) - set(before.get(path, []))):
                    result.fix_problems.append(f"{path}: tsc after the fix: {error}")
        result.typechecked += files


def _nearest(top: Path, relative: str, name: str) -> Path | None:
    """The folder (relative to `top`) nearest above `relative` that holds `name`."""
    folder = Path(relative).parent
    while True:
        if (top / folder / name).is_file():
            return folder
        if folder == Path("."):
            return None
        folder = folder.parent


def _installed(project: Path, into: Path) -> Path:
    """The project's node_modules, installed once from its lockfile (scripts not run)."""
    lock = (project / "package-lock.json").read_bytes()
    if not (into / "node_modules").is_dir() or (into / "package-lock.json").read_bytes() != lock:
        shutil.rmtree(into, ignore_errors=True)
        into.mkdir(parents=True)
        shutil.copyfile(project / "package.json", into / "package.json")
        (into / "package-lock.json").write_bytes(lock)
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=into, check=True
        )
    return into / "node_modules"


def _tsc_errors(compiler: Path, top: Path, root: Path, config: Path, modules: Path) -> dict[str, list[str]]:
    """tsc's errors by file (relative to `top`), positions dropped; node_modules linked in for
    the run and taken away again."""
    link = top / root / "node_modules"
    made = not link.exists()
    if made:
        link.symlink_to(modules, target_is_directory=True)
    try:
        done = subprocess.run(
            [str(compiler), "--noEmit", "--pretty", "false", "-p", str(top / config)],
            cwd=top,
            capture_output=True,
            text=True,
        )
    finally:
        if made:
            link.unlink()
    errors: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        path, paren, rest = line.partition("(")
        if paren and "): error TS" in rest:
            errors.setdefault(path, []).append(rest.split("): ", 1)[1])
    return errors


def changed_files(tree: Path, fixed: Path) -> list[str]:
    changed = []
    for root, dirs, files in os.walk(fixed):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(root) / name
            relative = path.relative_to(fixed)
            original = tree / relative
            if not original.exists() or original.read_bytes() != path.read_bytes():
                changed.append(str(relative))
    return sorted(changed)


def is_test_path(path: str) -> bool:
    """Test code by the conventions the tool uses, plus test folders (for the precision figure)."""
    sys.path.insert(0, str(HERE / "src"))
    from mcp_migrate.lang import is_test_file

    parts = Path(path).parts
    return is_test_file(Path(path)) or any(p in ("tests", "test", "__tests__", "e2e") for p in parts[:-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, default=Path(os.environ.get("MCP_MIGRATE_MIRRORS", "/work/.mirror")))
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "mcp-migrate" / "ecosystem")
    parser.add_argument("--repo", action="append", help="only these repositories (owner/name)")
    parser.add_argument("--no-fix", action="store_true", help="check only")
    parser.add_argument(
        "--tsc", action="store_true", help="type-check fixed TypeScript projects with their own dependencies (npm)"
    )
    parser.add_argument(
        "--add-unreviewed", action="store_true", help="append findings without a verdict to verdicts.tsv as '?'"
    )
    parser.add_argument("--json", type=Path, help="write every result to this file")
    args = parser.parse_args(argv)

    corpus = [r for r in load_corpus() if not args.repo or r["name"] in args.repo]
    verdicts = load_verdicts()
    results: list[RepoResult] = []
    for repo in corpus:
        slug = repo["name"].replace("/", "+")
        mirror = args.mirrors / slug / "repo"
        if not mirror.exists():
            print(f"error: no mirror of {repo['name']} at {mirror} (fetch it with the search tool)", file=sys.stderr)
            return 2
        result = RepoResult(repo["name"], repo["commit"])
        tree = args.work / "trees" / slug
        result.files, result.missing_blobs = checkout(mirror, repo["commit"], tree)
        report, result.seconds = run_tool(["check", "."], tree)
        result.findings = report["findings"]
        result.errors = report.get("errors", [])
        if not args.no_fix:
            fixed = args.work / "fixed" / slug
            shutil.rmtree(fixed, ignore_errors=True)
            shutil.copytree(tree, fixed, symlinks=True)
            after, _ = run_tool(["fix", "--unsafe-fixes", "."], fixed)
            result.changed = [c for c in changed_files(tree, fixed) if not c.startswith(".ecosystem")]
            new_errors = {e["path"] for e in after.get("errors", [])} - {e["path"] for e in result.errors}
            result.fix_problems += [f"{path}: the fixed file cannot be checked again" for path in sorted(new_errors)]
            scratch = args.work / "scratch"
            scratch.mkdir(parents=True, exist_ok=True)
            verify_fixes(result, tree, fixed, scratch)
            if args.tsc:
                typecheck_fixes(result, tree, fixed, args.work / "node" / slug)
        results.append(result)
        print(f"{repo['name']}: {len(result.findings)} findings, {result.seconds:.1f} s", file=sys.stderr)

    return report_results(results, verdicts, args)


def report_results(results: list[RepoResult], verdicts: dict[Any, dict[str, str]], args: argparse.Namespace) -> int:
    seen: set[tuple[str, str, int, str]] = set()
    unreviewed: list[dict[str, str]] = []
    problems = 0
    lines = [
        "| repository | files | time | findings by code | true / false / debatable (non-test) | test code | "
        "files fixed | SDK calls bound | TS files type-checked | fix problems |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    totals: Counter[str] = Counter()
    for result in results:
        tally: Counter[str] = Counter()
        tests = 0
        for finding in result.findings:
            key = (result.name, finding["path"], finding["line"], finding["code"])
            seen.add(key)
            verdict = verdicts.get(key)
            if is_test_path(finding["path"]):
                tests += 1
            if verdict is None or verdict["verdict"] == "?":
                unreviewed.append(
                    {
                        "repo": result.name,
                        "path": finding["path"],
                        "line": str(finding["line"]),
                        "code": finding["code"],
                        "verdict": "?",
                        "reason": finding["message"][:200].replace("\t", " ").replace("\n", " "),
                    }
                )
            elif not is_test_path(finding["path"]):
                tally[verdict["verdict"]] += 1
        totals.update(tally)
        codes = ", ".join(f"{c} {n}" for c, n in sorted(Counter(f["code"] for f in result.findings).items()))
        problems += len(result.fix_problems)
        lines.append(
            f"| {result.name} | {result.files} (+{result.missing_blobs} not in mirror) | {result.seconds:.1f} s | "
            f"{codes or '-'} | {tally['true']} / {tally['false']} / {tally['debatable']} | {tests} | "
            f"{len(result.changed)} | {result.bound_calls} | {len(result.typechecked) if args.tsc else '-'} | "
            f"{len(result.fix_problems)} |"
        )
    checked = {r.name for r in results}
    vanished = [v for k, v in verdicts.items() if k[0] in checked and k not in seen]
    decided = totals["true"] + totals["false"]
    precision = f"{100 * totals['true'] / decided:.1f}%" if decided else "n/a"
    print("\n".join(lines))
    print(
        f"\nnon-test findings reviewed: {totals['true']} true, {totals['false']} false, "
        f"{totals['debatable']} debatable; precision {precision}"
    )
    for result in results:
        for problem in result.fix_problems:
            print(f"FIX PROBLEM {result.name}: {problem}")
        for error in result.errors:
            print(f"file {error.get('level', 'error')} {result.name}: {error['path']}: {error['message']}")
    for row in unreviewed:
        print(f"UNREVIEWED {row['repo']} {row['path']}:{row['line']} {row['code']}: {row['reason'][:120]}")
    for row in vanished:
        print(f"VANISHED {row['repo']} {row['path']}:{row['line']} {row['code']} (was {row['verdict']})")
    if args.add_unreviewed and unreviewed:
        new = not VERDICTS.exists()
        with VERDICTS.open("a", encoding="utf-8", newline="") as file:
            writer = csv.DictWriter(file, VERDICT_FIELDS, delimiter="\t", lineterminator="\n")
            if new:
                writer.writeheader()
            writer.writerows(r for r in unreviewed if (r["repo"], r["path"], int(r["line"]), r["code"]) not in verdicts)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1))
    return 1 if unreviewed or vanished or problems else 0


if __name__ == "__main__":
    sys.exit(main())

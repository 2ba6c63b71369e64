#!/usr/bin/env python3
"""The benchmark suite: one command, figures as ratios to baselines measured in the same run.

    python benchmarks/run.py [--files 20000] [--runs 5] [--tree DIR] [--figures abcde]

Generates the monorepo (benchmarks/generate.py) into a temporary folder, or reuses `--tree DIR`
(generated there first when DIR does not exist), then measures:

  (a) `mcp-migrate check` over the whole tree vs `git grep -l -F` of the rules' trigger words,
      one git grep per language with that language's triggers over its files (the floor:
      reading every file once, and the very prefilter mcp-migrate runs). Target: within 3x.
  (b) the same check vs semgrep with benchmarks/semgrep-rules.yaml on the same tree and the same
      number of processes, with the findings of both counted per rule code and per rule family
      (language and code, next to the generator's manifest). Target: at least 5x faster, with at
      least as many findings.
  (c) `check` of one changed file (the pre-commit case: a plain module, and separately an MCP
      server) vs `python -c pass` on the interpreter mcp-migrate runs on. Target: within 0.25 s.
  (d) `--jobs 1` vs `--jobs 2`. Target: two jobs at least 1.6x faster.
  (e) peak memory of the whole-tree check, in extra runs: the largest single process
      (/usr/bin/time's %M; wait4's ru_maxrss without it) and the whole process tree (PSS summed
      over the main process and its workers, sampled every 20 ms). Target: under 300 MB.

Commands of one figure run alternately (baseline, candidate, baseline, ...) after one untimed
warm-up each, so that load from other work on the machine falls on both; medians are reported.
Writes benchmarks/results.json and prints a Markdown table. No assertion fails the run: misses
are reported as such (exit code 0 unless a command itself fails unexpectedly).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEMGREP_RULES = HERE / "semgrep-rules.yaml"
# The files of each language mcp-migrate reads (git pathspec globs match across `/`), as in
# mcp_migrate.lang.language_of; nginx and haproxy are approximated by their usual names.
PATHSPECS = {
    "python": ("*.py", "*.pyi"),
    "typescript": (
        *("*.ts", "*.mts", "*.cts", "*.tsx", "*.js", "*.mjs", "*.cjs", "*.jsx"),
        *(":(exclude)*.d.ts", ":(exclude)*.min.js"),
    ),
    "yaml": ("*.yaml", "*.yml"),
    "nginx": ("*nginx.conf", "*/nginx/*.conf", "*/conf.d/*.conf", "*/sites-available/*.conf", "*/sites-enabled/*.conf"),
    "haproxy": ("*haproxy.cfg", "*/haproxy/*.cfg"),
}
# the codes semgrep-rules.yaml covers
COMPARED_CODES = ("MCP101", "MCP102", "MCP104", "MCP105", "MCP301", "MCP302", "MCP303")
# rule families by file suffix (anything else: TypeScript/JavaScript)
FAMILIES = {".py": "Python", ".pyi": "Python", ".yaml": "YAML", ".yml": "YAML", ".conf": "nginx", ".cfg": "HAProxy"}
MIB = 1024 * 1024


# -- running one command -----------------------------------------------------------------------
@dataclass
class Sample:
    seconds: float
    maxrss_mib: float  # largest single process of the command's tree (wait4 ru_maxrss)
    returncode: int
    cpu_s: float = 0.0  # user + system time of the command and its reaped children
    others_cores: float = 0.0  # CPU the rest of the machine used meanwhile, in cores (noise)
    tree_pss_mib: float | None = None  # sampled peak of the PSS summed over the process tree


@dataclass
class Command:
    name: str
    argv: list[str]
    cwd: Path
    ok_codes: tuple[int, ...] = (0,)
    env: dict[str, str] | None = None
    samples: list[Sample] = field(default_factory=list)
    memory: list[Sample] = field(default_factory=list)
    stdout: bytes = b""
    display: str | None = None  # how to show the command, when not its argv
    before: Callable[[], None] | None = None  # untimed, before every run (e.g. edit a file)

    @property
    def shell(self) -> str:
        return self.display or shlex.join(self.argv)

    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found: list[int] = []
        for task in tasks:
            found += [int(c) for c in (task / "children").read_text().split()]
        return found
    except OSError:
        return []


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _watch_memory(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        pids, seen = [pid], []
        while pids:
            current = pids.pop()
            seen.append(current)
            pids += _children(current)
        peak[0] = max(peak[0], sum(_pss_kib(p) for p in seen))
        stop.wait(0.02)


def _busy_ticks() -> int:
    """CPU time the whole machine spent busy since boot, in clock ticks (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return user + nice + system + irq + softirq + steal


TICKS = os.sysconf("SC_CLK_TCK")


TIME = Path("/usr/bin/time")


def run_once(command: Command, watch_memory: bool = False) -> Sample:
    """Run the command once; time it, and take its peak RSS from wait4 (so each run is fresh).

    A child's ru_maxrss also counts the moments between fork and exec, when its memory is still
    this process's: fine for timed runs of large commands, wrong for small ones. Memory runs
    therefore go through /usr/bin/time (a small C parent) when it exists, and take its `%M`."""
    argv = command.argv
    if command.before is not None:
        command.before()
    timed_by_time = watch_memory and TIME.exists()
    if timed_by_time:
        argv = [str(TIME), "-f", "maxrss_kib=%M", *argv]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        busy = _busy_ticks()
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=command.cwd, stdout=out, stderr=err, env=command.env)
        stop, peak = threading.Event(), [0]
        watcher = None
        if watch_memory:
            watcher = threading.Thread(target=_watch_memory, args=(proc.pid, stop, peak), daemon=True)
            watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        busy = _busy_ticks() - busy
        stop.set()
        if watcher is not None:
            watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in command.ok_codes:
            err.seek(0)
            raise SystemExit(
                f"{command.shell} (in {command.cwd}) exited {proc.returncode}:\n{err.read().decode(errors='replace')}"
            )
        out.seek(0)
        command.stdout = out.read()
        maxrss_kib = usage.ru_maxrss
        if timed_by_time:
            err.seek(0)
            found = re.findall(rb"maxrss_kib=(\d+)", err.read())
            maxrss_kib = int(found[-1]) if found else maxrss_kib
    cpu = usage.ru_utime + usage.ru_stime
    others = max(0.0, busy / TICKS - cpu) / seconds if seconds > 0 else 0.0
    return Sample(seconds, maxrss_kib / 1024, proc.returncode, cpu, others, peak[0] / 1024 if watch_memory else None)


def edit_file(path: Path) -> None:
    """Append a comment line (or take it away again), then date the file 10 s back: an edit the
    results cache may remember (see its racy window), unlike one made during the run."""
    text = path.read_text(encoding="utf-8")
    marker = "# edited by benchmarks/run.py\n"
    path.write_text(text[: -len(marker)] if text.endswith(marker) else text + marker, encoding="utf-8")
    past = time.time() - 10
    os.utime(path, (past, past))


def alternate(commands: Sequence[Command], runs: int, label: str) -> None:
    """One untimed warm-up each, then `runs` rounds of each command in turn."""
    for command in commands:
        run_once(command)
    for i in range(runs):
        for command in commands:
            sample = run_once(command)
            command.samples.append(sample)
            print(
                f"  {label} run {i + 1}/{runs}: {command.name:<22} {sample.seconds:8.3f} s wall "
                f"{sample.cpu_s:8.3f} s cpu, others using {sample.others_cores:.2f} cores",
                file=sys.stderr,
            )


# -- the tree and the tools ------------------------------------------------------------------------
def tool_paths(args: argparse.Namespace) -> tuple[str, str, str | None]:
    """mcp-migrate, the interpreter it runs on (from its shebang), and semgrep (None if missing)."""
    mcp = args.mcp_migrate or shutil.which("mcp-migrate")
    if mcp is None:
        raise SystemExit("mcp-migrate not found: activate its virtualenv or pass --mcp-migrate")
    first = Path(mcp).read_bytes().split(b"\n", 1)[0].decode()
    python = first[2:].strip() if first.startswith("#!") else sys.executable
    semgrep = args.semgrep
    if semgrep is None:
        default = Path("/work/bench-venv/bin/semgrep")
        semgrep = str(default) if default.exists() else shutil.which("semgrep")
    return mcp, python, semgrep


def prepare_tree(args: argparse.Namespace) -> tuple[Path, tempfile.TemporaryDirectory[str] | None]:
    if args.tree is not None and (args.tree / ".git" / "bench-manifest.json").exists():
        return args.tree.resolve(), None
    holder = None
    if args.tree is None:
        holder = tempfile.TemporaryDirectory(prefix="mcp-migrate-bench-")
        tree = Path(holder.name) / "mono"
    else:
        tree = args.tree.resolve()
    print(f"generating {args.files} files (seed {args.seed}) into {tree}", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            str(HERE / "generate.py"),
            "--files",
            str(args.files),
            "--seed",
            str(args.seed),
            "--out",
            str(tree),
        ],
        check=True,
    )
    return tree, holder


def pin_source(folder: Path, python: str, rev: str = "HEAD") -> str:
    """Copy `rev`'s src/ into `folder`, compiled to bytecode as an installed package would be; the
    PYTHONPATH that makes mcp-migrate run from it (before the editable install's path entry)."""
    archive = subprocess.run(
        ["git", "-C", str(HERE.parent), "archive", "--format=tar", rev, "src"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    subprocess.run([python, "-m", "compileall", "-q", str(folder / "src")], check=True)
    return str(folder / "src")


def trigger_words(python: str, env: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Each language's prefilter triggers (all rules), read from the installed mcp-migrate."""
    code = (
        "import json\nfrom mcp_migrate import rules\nfound = {}\n"
        "for r in rules.all_rules():\n"
        "    for language, triggers in r.triggers.items():\n"
        "        for t in triggers:  # a plain string, or a Gate: its literals\n"
        "            words = [t] if isinstance(t, bytes) else t.literals\n"
        "            found.setdefault(language, set()).update(w.decode() for w in words)\n"
        "print(json.dumps({k: sorted(v) for k, v in found.items()}))"
    )
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, env=env).stdout
    words: dict[str, list[str]] = json.loads(out)
    return words


def grep_floor(words: dict[str, list[str]]) -> tuple[list[str], str]:
    """One shell line: per language, `git grep -l -F` of its triggers over its files; and a
    readable form of it with the trigger lists abbreviated."""
    lines, shown = [], []
    for language, specs in PATHSPECS.items():
        if words.get(language):
            argv = ["git", "grep", "-l", "-F", *[a for w in words[language] for a in ("-e", w)], "--", *specs]
            lines.append(shlex.join(argv) + " || test $? = 1")
            shown.append(f"git grep -l -F -e <{len(words[language])} {language} triggers> -- {shlex.join(specs)}")
    return ["sh", "-c", "set -e; " + "; ".join(lines)], "; ".join(shown)


def mcp_counts(stdout: bytes) -> tuple[Counter[str], dict[str, Counter[str]], dict[str, Any]]:
    report = json.loads(stdout)
    by_file: dict[str, Counter[str]] = {}
    for finding in report["findings"]:
        by_file.setdefault(finding["path"], Counter())[finding["code"]] += 1
    return Counter(report["summary"]["by_code"]), by_file, report["summary"]


def semgrep_counts(stdout: bytes) -> tuple[Counter[str], dict[str, Counter[str]], Counter[str]]:
    report = json.loads(stdout)
    by_code: Counter[str] = Counter()
    by_file: dict[str, Counter[str]] = {}
    for result in report["results"]:
        rule = result["check_id"].rsplit(".", 1)[-1]
        code = rule.split("-", 1)[0].upper()
        by_code[code] += 1
        path = result["path"].removeprefix("./")
        by_file.setdefault(path, Counter())[code] += 1
    errors: Counter[str] = Counter()  # files semgrep could not parse, by kind
    for error in report.get("errors", []):
        path = str(error.get("path", ""))
        kind = "Helm template" if "/templates/" in path else Path(path).suffix or error.get("type", "other")
        errors[str(kind)] += 1
    return by_code, by_file, errors


def against_manifest(
    manifest: dict[str, Any], by_file: dict[str, Counter[str]], codes: Sequence[str]
) -> dict[str, int]:
    """How a tool's findings compare with what the generator put in the MCP files, on `codes`."""
    expected = {m["path"]: Counter({c: n for c, n in m["expected"].items() if c in codes}) for m in manifest["mcp"]}
    got = {p: Counter({c: n for c, n in found.items() if c in codes}) for p, found in by_file.items()}
    tally = {"expected": 0, "found": 0, "missed": 0, "unexpected": 0, "files_wrong": 0}
    for path in sorted(set(expected) | set(got)):
        want, have = expected.get(path, Counter()), got.get(path, Counter())
        tally["expected"] += sum(want.values())
        tally["found"] += sum((want & have).values())
        tally["missed"] += sum((want - have).values())
        tally["unexpected"] += sum((have - want).values())
        tally["files_wrong"] += want != have
    return tally


def family(path: str) -> str:
    return FAMILIES.get(Path(path).suffix, "TypeScript")


def by_family(
    manifest: dict[str, Any], tools: dict[str, dict[str, Counter[str]]], codes: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Findings per rule family ("TypeScript MCP101"): the generator's expectation and each tool's."""
    table: dict[str, dict[str, int]] = {}

    def add(path: str, found: Counter[str] | dict[str, int], column: str) -> None:
        for code, n in found.items():
            if code in codes:
                row = table.setdefault(f"{family(path)} {code}", {"expected": 0, **dict.fromkeys(tools, 0)})
                row[column] += n

    for entry in manifest["mcp"]:
        add(entry["path"], entry["expected"], "expected")
    for tool, files in tools.items():
        for path, found in files.items():
            add(path, found, tool)
    return dict(sorted(table.items(), key=lambda item: (item[0].split()[1], item[0])))


# -- figures -------------------------------------------------------------------------------------
@dataclass
class Figure:
    key: str
    title: str
    baseline: str
    candidate: str
    baseline_s: float
    candidate_s: float
    value: float  # the ratio (or difference) judged against the target
    unit: str  # "x" or "s"
    target: str
    passed: bool
    note: str = ""


def ratio_figure(key: str, title: str, base: Command, cand: Command, target: float, faster: bool) -> Figure:
    """faster=False: candidate/baseline must be <= target; True: baseline/candidate >= target."""
    b, c = base.median(), cand.median()
    if faster:
        value, passed, text = b / c, b / c >= target, f">= {target}x faster"
    else:
        value, passed, text = c / b, c / b <= target, f"<= {target}x"
    return Figure(key, title, base.shell, cand.shell, b, c, value, "x", text, passed)


def machine() -> dict[str, str]:
    def sh(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()

    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": sh("nproc"),
        "cpu": cpu,
        "memory": sh("free -h | awk '/^Mem:/ {print $2}'"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "git": sh("git --version"),
        "loadavg_start": Path("/proc/loadavg").read_text().strip(),
    }


def source_state() -> dict[str, str | bool]:
    """Which mcp-migrate was measured: the commit, and whether src/ differed from it (the
    package is installed editable, so every run executes the src/ of that moment)."""
    repo = HERE.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    diff = git("diff", "HEAD", "--", "src")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "subject": git("log", "-1", "--format=%s"),
        "src_dirty": bool(diff),
        "src_diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:16] if diff else "",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20_000, help="files to generate (default 20000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (default 5)")
    parser.add_argument("--runs-precommit", type=int, help="timed runs for (c) (default 4 x --runs)")
    parser.add_argument("--memory-runs", type=int, default=2, help="extra runs sampling memory for (e)")
    parser.add_argument("--tree", type=Path, help="reuse (or generate once into) this folder")
    parser.add_argument("--figures", default="abcde", help="which figures to measure (default abcde)")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the parallel runs (default 2)")
    parser.add_argument("--mcp-migrate", help="mcp-migrate executable (default: on PATH)")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="(c) also runs the release REV's src/ (a git revision, pinned and compiled like --pin) in the same "
        "rounds, and compares the two",
    )
    parser.add_argument("--semgrep", help="semgrep executable (default: /work/bench-venv/bin/semgrep, then PATH)")
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument(
        "--pin",
        nargs="?",
        const="HEAD",
        metavar="REV",
        help="measure HEAD's src/ (or REV's), copied to a temporary folder first (PYTHONPATH), so that edits or "
        "commits made to src/ while the benchmark runs do not mix into it",
    )
    args = parser.parse_args(argv)
    figures = set(args.figures)
    runs_c = args.runs_precommit or 4 * args.runs

    mcp, python, semgrep = tool_paths(args)
    started = dt.datetime.now(dt.timezone.utc)
    info = machine()
    source = source_state()
    tree, holder = prepare_tree(args)
    pinned = tempfile.TemporaryDirectory(prefix="mcp-migrate-src-") if args.pin else None
    against = tempfile.TemporaryDirectory(prefix="mcp-migrate-release-") if args.against else None
    if pinned is None and os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print(
            "note: PYTHONDONTWRITEBYTECODE is set, so without a __pycache__ in src/ every run compiles "
            "mcp-migrate's modules again (pessimistic start-up; --pin measures a compiled copy)",
            file=sys.stderr,
        )
    # mcp-migrate's results cache lives in a folder of this run: cold figures pass --no-cache,
    # the warm one starts from what its own warm-up wrote.
    cache_dir = tempfile.TemporaryDirectory(prefix="mcp-migrate-cache-")
    mcp_env: dict[str, str] = {**os.environ, "MCP_MIGRATE_CACHE_DIR": cache_dir.name}
    mcp_env.pop("MCP_MIGRATE_NO_CACHE", None)
    if pinned is not None:
        mcp_env["PYTHONPATH"] = pin_source(Path(pinned.name), python, args.pin)
        commit = subprocess.run(
            ["git", "-C", str(HERE.parent), "rev-parse", "--short", args.pin],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        source = {**source, "commit": commit, "pinned": args.pin, "src_dirty": False, "src_diff_sha256": ""}
    try:
        manifest = json.loads((tree / ".git" / "bench-manifest.json").read_text(encoding="utf-8"))
        words = trigger_words(python, mcp_env)
        jobs = str(args.jobs)
        floor, shown = grep_floor(words)
        grep = Command("git grep -l (floor)", floor, tree, display=shown)
        check = Command(
            f"check --jobs {jobs}",
            [mcp, "check", "--no-progress", "--format", "json", "--no-cache", "--jobs", jobs, "."],
            tree,
            (0, 1),
            mcp_env,
        )
        check1 = Command(
            "check --jobs 1",
            [mcp, "check", "--no-progress", "--format", "json", "--no-cache", "--jobs", "1", "."],
            tree,
            (0, 1),
            mcp_env,
        )
        # The same check again with the results cache its warm-up filled: a re-run after the
        # first one (nothing in the tree changed in between).
        warm = Command(
            f"check --jobs {jobs} (cache)",
            [mcp, "check", "--no-progress", "--format", "json", "--jobs", jobs, "."],
            tree,
            (0, 1),
            mcp_env,
        )
        # A re-run after one Python server module was edited (a line appended, the file's mtime
        # put back beyond the cache's racy window, as an edit made a while ago): its results, and
        # those of the modules that depend on it, are computed again; the rest come from the cache.
        # It has a cache of its own (the warm figure's would see the edit too).
        edited_file = tree / next(m["path"] for m in manifest["mcp"] if m["language"] == "python")
        edited_original = edited_file.read_bytes()
        edited = Command(
            f"check --jobs {jobs} (cache, 1 edit)",
            warm.argv,
            tree,
            (0, 1),
            {**mcp_env, "MCP_MIGRATE_CACHE_DIR": os.path.join(cache_dir.name, "edited")},
            before=lambda: edit_file(edited_file),
        )
        # Diagnostic: a rule whose trigger (`mcp-migrate:`) no generated file contains, so the run
        # is start-up + discovery + reading + prefilter, with no parsing.
        bare = Command(
            "check --select MCP001",
            [
                mcp,
                "check",
                "--no-progress",
                "--format",
                "json",
                "--no-cache",
                "--jobs",
                jobs,
                "--select",
                "MCP001",
                ".",
            ],
            tree,
            (0, 1),
            mcp_env,
        )
        sg_env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
        sg = None
        if semgrep and "b" in figures:
            sg = Command(
                "semgrep",
                [
                    semgrep,
                    "scan",
                    "--metrics=off",
                    "--disable-version-check",
                    "--config",
                    str(SEMGREP_RULES),
                    "--json",
                    "--quiet",
                    "--jobs",
                    jobs,
                    ".",
                ],
                tree,
                (0, 1),
                sg_env,
            )
        results: dict[str, Any] = {
            "date": started.isoformat(timespec="seconds"),
            "machine": info,
            "source": source,
            "bytecode_cached": bool(args.pin or not os.environ.get("PYTHONDONTWRITEBYTECODE")),
            "tree": {
                "path": str(tree),
                "files": manifest["files"],
                "bytes": manifest["bytes"],
                "seed": manifest["seed"],
                "mcp_files": len(manifest["mcp"]),
            },
            "runs": args.runs,
            "commands": {},
            "figures": [],
        }
        out: list[Figure] = []
        findings: dict[str, Any] = {}

        whole = [
            c
            for c, want in (
                (grep, "a"),
                (bare, "a"),
                (check, "abde"),
                (warm, "a"),
                (sg, "b"),
                (check1, "d"),
            )
            if c and set(want) & figures
        ]
        if whole:
            print(f"whole tree: {', '.join(c.name for c in whole)} x {args.runs}", file=sys.stderr)
            alternate(whole, args.runs, "tree")
        # The edits would make every other cached run a re-run after an edit: a round of their own,
        # with the floor measured again in it.
        floor_again = Command(grep.name, grep.argv, tree, display=grep.display)
        if "a" in figures:
            print(f"one edit: {floor_again.name}, {edited.name} x {args.runs}", file=sys.stderr)
            alternate([floor_again, edited], args.runs, "tree")
            out.append(
                ratio_figure("a", "whole-tree check vs `git grep -l` floor, no cache", grep, check, 3.0, faster=False)
            )
            hits = len(grep.stdout.splitlines())
            out[-1].note = (
                f"{hits} files contain a trigger word of their language (pass the prefilter); "
                f"`check --select MCP001`, which parses no file here (start-up, discovery, reading, prefilter): "
                f"{bare.median():.2f} s = {bare.median() / grep.median():.1f}x the floor"
            )
            out.append(
                ratio_figure("a", "whole-tree check vs `git grep -l` floor, re-run (cache)", grep, warm, 3.0, False)
            )
            if mcp_counts(warm.stdout)[0] != mcp_counts(check.stdout)[0]:
                out[-1].passed = False
                out[-1].note = "the re-run's findings differ from the cold run's"
            else:
                out[-1].note = "the same findings as the cold run"
            out.append(
                ratio_figure(
                    "a", "whole-tree check vs `git grep -l` floor, re-run after 1 edit", floor_again, edited, 3.0, False
                )
            )
            same = mcp_counts(edited.stdout)[0] == mcp_counts(check.stdout)[0]
            out[-1].passed = out[-1].passed and same
            out[-1].note = f"`{edited_file.relative_to(tree)}` edited before each run" + (
                "; the same findings as the cold run" if same else "; the findings differ from the cold run's"
            )
        if check.samples:
            by_code, by_file, summary = mcp_counts(check.stdout)
            findings["mcp-migrate"] = {
                "total": summary["findings"],
                "by_code": dict(sorted(by_code.items())),
                "files_checked": summary["files_checked"],
                "errors": summary["errors"],
                "vs_manifest": against_manifest(manifest, by_file, sorted(by_code)),
            }
        if "b" in figures:
            if sg is None:
                findings["semgrep"] = {"error": "semgrep not installed"}
            else:
                sg_codes, sg_files, sg_errors = semgrep_counts(sg.stdout)
                mcp_codes, _, _ = mcp_counts(check.stdout)
                same_mcp = sum(mcp_codes[c] for c in COMPARED_CODES)
                same_sg = sum(sg_codes[c] for c in COMPARED_CODES)
                findings["semgrep"] = {
                    "total": sum(sg_codes.values()),
                    "by_code": dict(sorted(sg_codes.items())),
                    "parse_errors": sum(sg_errors.values()),
                    "parse_errors_by_kind": dict(sg_errors),
                    "vs_manifest": against_manifest(manifest, sg_files, COMPARED_CODES),
                }
                _, mcp_files, _ = mcp_counts(check.stdout)
                findings["compared_codes"] = {
                    "codes": list(COMPARED_CODES),
                    "mcp-migrate": same_mcp,
                    "semgrep": same_sg,
                }
                findings["by_family"] = by_family(
                    manifest, {"mcp-migrate": mcp_files, "semgrep": sg_files}, COMPARED_CODES
                )
                fig = ratio_figure(
                    "b", "whole-tree check vs semgrep (same rules, same jobs)", sg, check, 5.0, faster=True
                )
                fig.passed = fig.passed and same_mcp >= same_sg
                fig.target += ", findings >= semgrep's"
                fig.note = f"findings on {'/'.join(COMPARED_CODES)}: mcp-migrate {same_mcp}, semgrep {same_sg}"
                out.append(fig)
        if "d" in figures:
            out.append(ratio_figure("d", f"`--jobs 1` vs `--jobs {jobs}`", check1, check, 1.6, faster=True))

        if "c" in figures:
            sizes: dict[str, int] = manifest["sizes"]
            plain = sorted(manifest["plain_python"], key=lambda p: sizes[p])
            plain_file = plain[len(plain) // 2]  # the median-sized plain module
            servers = sorted(
                (m for m in manifest["mcp"] if m["language"] == "python" and m["expected"]),
                key=lambda m: sizes[m["path"]],
            )
            server_file = servers[len(servers) // 2]["path"]
            start = Command("python -c pass", [python, "-c", "pass"], tree, env=mcp_env)
            one_plain = Command(
                "check <plain module>", [mcp, "check", "--no-progress", plain_file], tree, (0, 1), mcp_env
            )
            one_mcp = Command("check <MCP server>", [mcp, "check", "--no-progress", server_file], tree, (0, 1), mcp_env)
            print(
                f"pre-commit: {plain_file} ({sizes[plain_file]} B), {server_file} ({sizes[server_file]} B)",
                file=sys.stderr,
            )
            released: list[Command] = []
            if against is not None:  # the same two commands, run from the release's src/ in the same rounds
                release_env = {**mcp_env, "PYTHONPATH": pin_source(Path(against.name), python, args.against)}
                released = [
                    Command(f"{c.name} @{args.against}", c.argv, tree, (0, 1), release_env)
                    for c in (one_plain, one_mcp)
                ]
            alternate([start, one_plain, one_mcp, *released], runs_c, "pre-commit")
            for cand, what, path in ((one_plain, "plain module", plain_file), (one_mcp, "MCP server", server_file)):
                delta = cand.median() - start.median()
                out.append(
                    Figure(
                        "c",
                        f"pre-commit: `check` one {what} vs interpreter start-up",
                        start.shell,
                        cand.shell,
                        start.median(),
                        cand.median(),
                        delta,
                        "s",
                        "<= +0.25 s",
                        delta <= 0.25,
                        f"{path} ({sizes[path]} B)",
                    )
                )
            for cand, rel in zip((one_plain, one_mcp), released, strict=False):  # none without --against
                delta = cand.median() - rel.median()
                out.append(
                    Figure(
                        "c",
                        f"pre-commit: {cand.name.removeprefix('check ')} vs the release {args.against}",
                        rel.shell + f" @{args.against}",
                        cand.shell,
                        rel.median(),
                        cand.median(),
                        delta,
                        "s",
                        "<= +0.02 s (noise)",
                        delta <= 0.02,
                    )
                )
            whole.extend([start, one_plain, one_mcp, *released])

        if "e" in figures:
            print(f"memory: {args.memory_runs} sampled run(s) of each", file=sys.stderr)
            base = Command("python -c pass (memory)", [python, "-c", "pass"], tree, env=mcp_env)
            watched = [base, check, check1] if "d" in figures else [base, check]
            for command in watched:
                for _ in range(args.memory_runs):
                    command.memory.append(run_once(command, watch_memory=True))
            peak_rss = max(s.maxrss_mib for s in check.memory)
            jobs1_rss = max([s.maxrss_mib for s in check1.memory or check1.samples] or [0.0])
            peak_tree = max([s.tree_pss_mib or 0.0 for s in check.memory] or [0.0])
            base_rss = max(s.maxrss_mib for s in base.memory)
            judged = max(peak_tree, peak_rss)
            out.append(
                Figure(
                    "e",
                    f"peak memory, whole-tree check --jobs {jobs}",
                    base.shell,
                    check.shell,
                    base_rss,
                    judged,
                    judged / base_rss,
                    "MiB",
                    "< 300 MB",
                    judged * MIB < 300e6,
                    f"largest process {peak_rss:.0f} MiB (ru_maxrss), process tree {peak_tree:.0f} MiB PSS; "
                    f"--jobs 1: {jobs1_rss:.0f} MiB",
                )
            )
            if base not in whole:
                whole.append(base)

        info["loadavg_end"] = Path("/proc/loadavg").read_text().strip()
        if pinned is None and source_state() != source:
            source["changed_during_run"] = True
            print("warning: src/ or HEAD changed during the run: results mix versions", file=sys.stderr)
        for command in whole:
            results["commands"][command.name] = {
                "command": command.shell,
                "cwd": str(command.cwd),
                "median_s": command.median() if command.samples else None,
                "median_cpu_s": statistics.median(s.cpu_s for s in command.samples) if command.samples else None,
                "median_others_cores": (
                    statistics.median(s.others_cores for s in command.samples) if command.samples else None
                ),
                "min_s": min((s.seconds for s in command.samples), default=None),
                "max_s": max((s.seconds for s in command.samples), default=None),
                "samples": [asdict(s) for s in command.samples],
                "memory_samples": [asdict(s) for s in command.memory],
            }
        results["figures"] = [asdict(f) for f in out]
        results["findings"] = findings
        args.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        print(markdown(results, out, findings))
        print(f"\nwrote {args.output}", file=sys.stderr)
    finally:
        if "edited_original" in locals():
            edited_file.write_bytes(edited_original)
        cache_dir.cleanup()
        if holder is not None:
            holder.cleanup()
        for folder in (pinned, against):
            if folder is not None:
                folder.cleanup()
    return 0


def _fmt(value: float, unit: str) -> str:
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def markdown(results: dict[str, Any], figures: Sequence[Figure], findings: dict[str, Any]) -> str:
    tree = results["tree"]
    lines = [
        f"Tree: {tree['files']} files, {tree['bytes'] / 1e6:.0f} MB, {tree['mcp_files']} MCP files "
        f"(seed {tree['seed']}); "
        f"{results['runs']} runs, medians; {results['date']}; load {results['machine']['loadavg_start']} -> "
        f"{results['machine'].get('loadavg_end', '?')}; mcp-migrate {results['source']['commit']}"
        + (" + uncommitted src/ changes" if results["source"]["src_dirty"] else "")
        + (f" (pinned copy of {results['source']['pinned']}'s src/)" if results["source"].get("pinned") else "")
        + (" (CHANGED DURING THE RUN)" if results["source"].get("changed_during_run") else ""),
        "",
        "| figure | baseline | median | mcp-migrate | median | ratio | target | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        unit = "MiB" if f.unit == "MiB" else "s"
        value = f"{f.value:+.3f} s" if f.unit == "s" else f"{f.value:.2f}x"
        base = _label(f.baseline)
        cand = _label(f.candidate)
        verdict = "**pass**" if f.passed else "**MISS**"
        lines.append(
            f"| ({f.key}) {f.title} | {base} | {_fmt(f.baseline_s, unit)} | {cand} | {_fmt(f.candidate_s, unit)} "
            f"| {value} | {f.target} | {verdict} |"
        )
    notes = [f"- ({f.key}) {f.note}" for f in figures if f.note]
    if notes:
        lines += ["", *notes]
    if findings:
        lines += [
            "",
            "| findings | "
            + " | ".join(sorted({c for v in findings.values() if isinstance(v, dict) for c in v.get("by_code", {})}))
            + " | total |",
        ]
        codes = sorted({c for v in findings.values() if isinstance(v, dict) for c in v.get("by_code", {})})
        lines.append("|---" * (len(codes) + 2) + "|")
        for tool in ("mcp-migrate", "semgrep"):
            data = findings.get(tool)
            if not isinstance(data, dict) or "by_code" not in data:
                continue
            row = " | ".join(str(data["by_code"].get(c, 0)) for c in codes)
            lines.append(f"| {tool} | {row} | {data['total']} |")
        families = findings.get("by_family")
        if families:
            lines += ["", "| rule family (codes semgrep-rules.yaml covers) | expected | mcp-migrate | semgrep |"]
            lines.append("|---|---|---|---|")
            for name, row in families.items():
                lines.append(f"| {name} | {row['expected']} | {row['mcp-migrate']} | {row['semgrep']} |")
        for tool in ("mcp-migrate", "semgrep"):
            data = findings.get(tool)
            if isinstance(data, dict) and "vs_manifest" in data:
                v = data["vs_manifest"]
                lines.append("")
                lines.append(
                    f"- {tool} vs the generator's manifest: {v['found']}/{v['expected']} expected findings, "
                    f"{v['missed']} missed, {v['unexpected']} unexpected"
                    + (
                        f"; {data['parse_errors']} files it could not parse "
                        f"({', '.join(f'{n} {k}' for k, n in data['parse_errors_by_kind'].items())})"
                        if data.get("parse_errors")
                        else ""
                    )
                )
    return "\n".join(lines)


def _label(command: str) -> str:
    text = re.sub(r"\S*/(mcp-migrate|semgrep|python3?(\.\d+)?)\b", r"\1", command)
    text = text.replace(" --no-progress", "").replace(" --format json", "")
    if text.startswith("git grep"):
        return "`git grep -l -F -e <triggers>` per language"
    if text.startswith("semgrep"):
        return "`semgrep scan --config semgrep-rules.yaml`"
    return f"`{text}`" if len(text) < 60 else f"`{text[:57]}...`"


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Where the time of the figures run.py misses goes: py-spy profiles, summed by stage.

    python benchmarks/profile.py --tree /work/bench-trees/mono-20000-s1-ts [--rate 250] [--repeat 6]

Profiles, with py-spy (a sampling profiler: it counts what is running, the interpreter is not
instrumented, so the proportions are those of a normal run), a pinned and byte-compiled copy of
HEAD's `src/` (as `run.py --pin`):

  (a) `check --no-cache --jobs 2 .` over the whole tree, workers included (`--subprocesses`);
  (c) `check <the median-sized Python MCP server>` (the pre-commit case), `--repeat` times at
      1 kHz, summed.

For each it prints the share of samples by stage (the first stage a sample's stack belongs to,
in the order listed) and the functions with the most samples of their own. py-spy is a
benchmark tool, not a dependency: install it beside semgrep
(`/work/bench-venv/bin/pip install py-spy`) or pass `--py-spy`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from run import pin_source, tool_paths

# (stage, a pattern one of the sample's frames matches), first match wins. Frames of the entry
# point (`mcp_migrate/__main__.py`, runpy) hold every stack and are not matched.
TREE_STAGES = (
    ("libcst's parser (builds the Python nodes)", r"_parse \(libcst/_parser"),
    ("import of libcst, tree-sitter, PyYAML", r"<module> \((libcst|tree_sitter|yaml)"),
    ("Python index and name resolution (python_tree, python_names)", r"python_(tree|names)\.py"),
    ("TypeScript: tree-sitter and the analyses", r"typescript|tree_sitter"),
    ("YAML: PyYAML and the rules", r"lang/yaml\.py|/yaml/|mcp30\d"),
    ("Python rules and SDK models", r"mcp_migrate/(rules|sdk)/"),
    ("reading files and the prefilter (engine.process, _prefilter)", r"engine\.py"),
    ("discovery (git ls-files, lstat)", r"discovery\.py"),
)
PRECOMMIT_STAGES = (
    ("import libcst", r"<module> \(libcst/"),
    ("import mcp-migrate's CLI, engine and rule metadata", r"<module> \(mcp_migrate/"),
    ("other imports (stdlib)", r"<module> \("),
    ("libcst's parser", r"_parse \(libcst/_parser"),
    ("the checks (index, names, rules)", r"mcp_migrate/(lang|sdk|rules)/"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tree", type=Path, required=True, help="a tree generate.py wrote")
    parser.add_argument("--rate", type=int, default=250, help="samples per second for (a) (default 250)")
    parser.add_argument("--repeat", type=int, default=6, help="runs of the pre-commit case (default 6)")
    parser.add_argument("--top", type=int, default=12, help="own-time entries to show (default 12)")
    parser.add_argument("--py-spy", dest="py_spy", help="py-spy executable (default: /work/bench-venv/bin, PATH)")
    parser.add_argument("--mcp-migrate", dest="mcp_migrate", help="mcp-migrate executable (default: on PATH)")
    args = parser.parse_args()
    args.semgrep = None
    spy = args.py_spy or next(
        (p for p in ("/work/bench-venv/bin/py-spy", shutil.which("py-spy")) if p and Path(p).exists()), None
    )
    if spy is None:
        raise SystemExit("py-spy not found: /work/bench-venv/bin/pip install py-spy, or pass --py-spy")
    _, python, _ = tool_paths(args)
    tree = args.tree.resolve()
    manifest = json.loads((tree / ".git" / "bench-manifest.json").read_text(encoding="utf-8"))
    sizes = manifest["sizes"]
    servers = sorted(
        (m["path"] for m in manifest["mcp"] if m["language"] == "python" and m["expected"]), key=lambda p: sizes[p]
    )
    server = servers[len(servers) // 2]
    with tempfile.TemporaryDirectory(prefix="mcp-migrate-profile-") as work:
        env = {**os.environ, "PYTHONPATH": pin_source(Path(work), python), "MCP_MIGRATE_NO_CACHE": "1"}
        whole = Path(work) / "tree.raw"
        _record(spy, args.rate, whole, [python, "-m", "mcp_migrate", "check", "--jobs", "2", "."], tree, env, True)
        print(f"## (a) `check --no-cache --jobs 2 .` over {tree}, {args.rate} samples/s, workers included\n")
        _report(whole.read_text(), TREE_STAGES, args.top, runs=1, rate=args.rate)
        stacks = []
        for i in range(args.repeat):
            out = Path(work) / f"one-{i}.raw"
            _record(spy, 1000, out, [python, "-m", "mcp_migrate", "check", server], tree, env, False)
            stacks.append(out.read_text())
        print(f"\n## (c) `check {server}` ({sizes[server]} B), {args.repeat} runs at 1000 samples/s\n")
        _report("".join(stacks), PRECOMMIT_STAGES, args.top, runs=args.repeat, rate=1000)
    return 0


def _record(spy: str, rate: int, out: Path, argv: list[str], cwd: Path, env: dict[str, str], children: bool) -> None:
    command = [spy, "record", "--rate", str(rate), "--format", "raw", "--output", str(out)]
    command += ["--subprocesses"] if children else []
    subprocess.run(
        [*command, "--", *argv, "--no-progress", "--format", "json"],
        cwd=cwd,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not out.exists() or not out.read_text().strip():
        raise SystemExit(f"py-spy recorded nothing for {' '.join(argv)} (ptrace not permitted?)")


def _report(raw: str, stages: tuple[tuple[str, str], ...], top: int, runs: int, rate: int) -> None:
    by_stage: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    compiled = [(name, re.compile(pattern)) for name, pattern in stages]
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = [f for f in stack.split(";") if not _ENTRY.search(f)]
        own[_short(frames[-1]) if frames else "?"] += samples
        for name, pattern in compiled:
            if any(pattern.search(f) for f in frames):
                by_stage[name] += samples
                break
        else:
            by_stage["everything else (interpreter, process pool, results, report)"] += samples
    print(f"{total} samples, {1000 * total / rate / runs:.0f} ms per run under the profiler\n")
    print("| stage | share |\n|---|---|")
    for name, samples in by_stage.most_common():
        print(f"| {name} | {100 * samples / total:.1f}% |")
    print("\n| function (own samples) | share |\n|---|---|")
    for name, samples in own.most_common(top):
        print(f"| `{name}` | {100 * samples / total:.1f}% |")


_ENTRY = re.compile(r"__main__\.py|runpy|^process \d+:")  # py-spy's process labels, the entry point


def _short(frame: str) -> str:
    """`name (path/to/module.py:12)` -> `name (module.py:12)`."""
    return re.sub(r"\(([^()]*/)?([^/()]+)\)$", r"(\2)", frame)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Per-file cost of `check`: every Python MCP server of a benchmark tree, in one process.

    python benchmarks/per_file.py --tree /work/bench-trees/mono-20000-s1 [--runs 3] [--src DIR]
    python benchmarks/per_file.py --tree ... --profile out.prof      # one cProfile'd pass instead

Runs the engine on each file that imports `mcp` or `fastmcp` (what `grep -rlE
"^(from|import) (mcp|fastmcp)" --include=*.py` lists), all rules, check mode, after one untimed
warm-up pass, and reports the median of `--runs` timings per file: their sum, median, mean and
maximum, as CPU time of this process (steadier on a shared machine) and wall time. Start-up and
imports are not in it: that is figure (c) of run.py. `--src` imports mcp_migrate from another
`src/` folder (e.g. `git archive HEAD src | tar -x -C /tmp/head` for a before/after).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

GATE = re.compile(rb"(?m)^(from|import) (mcp|fastmcp)")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tree", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--src", type=Path, help="import mcp_migrate from this src/ folder")
    parser.add_argument("--profile", type=Path, help="write a cProfile of one pass here instead of timing")
    args = parser.parse_args()
    if args.src is not None:
        sys.path.insert(0, str(args.src.resolve()))
    from mcp_migrate import engine, rules
    from mcp_migrate.discovery import SourcePath

    tree = args.tree.resolve()
    paths = sorted(p for p in tree.rglob("*.py") if ".git" not in p.parts and GATE.search(p.read_bytes()))
    sources = [SourcePath(str(p), str(p.relative_to(tree)), "python") for p in paths]
    job = engine.Job(tuple(r.code for r in rules.all_rules()))
    findings = sum(len(engine.process(s, job).findings) for s in sources)  # warm-up: imports, caches
    if args.profile is not None:
        import cProfile

        profile = cProfile.Profile()
        profile.runcall(lambda: [engine.process(s, job) for s in sources])
        profile.dump_stats(args.profile)
        print(f"wrote {args.profile}")
        return 0
    cpu: list[list[float]] = [[] for _ in sources]
    wall: list[list[float]] = [[] for _ in sources]
    for _ in range(args.runs):
        for i, source in enumerate(sources):
            c, w = time.process_time(), time.perf_counter()
            result = engine.process(source, job)
            cpu[i].append(time.process_time() - c)
            wall[i].append(time.perf_counter() - w)
            if result.errors:
                raise SystemExit(f"{source.display}: {result.errors}")
    import mcp_migrate

    print(f"mcp_migrate from {Path(mcp_migrate.__file__).parent}; {len(sources)} files, {findings} findings")
    for label, samples in (("CPU", cpu), ("wall", wall)):
        per = [statistics.median(s) for s in samples]
        print(
            f"{label:>4}: sum {sum(per):.2f} s; per file median {statistics.median(per) * 1000:.1f} ms, "
            f"mean {statistics.mean(per) * 1000:.1f} ms, max {max(per) * 1000:.0f} ms (median of {args.runs})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

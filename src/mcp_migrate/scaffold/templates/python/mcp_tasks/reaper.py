"""The reaper: fails tasks whose worker stopped (crash, deploy, OOM kill) so clients stop polling.

A worker proves it is alive by calling `store.update(task_id)` (the heartbeat) more often than
its tool's maximum; a `working` task not updated for longer is failed with -32603 "task
abandoned". `input_required` tasks wait for the client and are only dropped by their TTL.

Run it in every replica (`run_reaper` as a background task: the store makes concurrent reapers
safe, each task is failed once) or once from a scheduler:

    python -m mcp_tasks.reaper --store redis://redis:6379/0 --default-max-ms 600000 --max render=3600000 --once
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Mapping, Sequence

from . import open_store
from .store import Task, TaskStore

logger = logging.getLogger("mcp_tasks.reaper")


async def reap_once(store: TaskStore, *, max_working_ms: Mapping[str, int], default_max_ms: int) -> list[Task]:
    """One pass: fail the abandoned tasks and drop the expired ones; returns the failed tasks."""
    return await store.reap(max_working_ms=max_working_ms, default_max_ms=default_max_ms)


async def run_reaper(
    store: TaskStore, *, max_working_ms: dict[str, int], default_max_ms: int, interval_s: float
) -> None:
    """Reap every `interval_s` seconds until cancelled. A failing pass (the database briefly
    unreachable) is logged and retried at the next interval instead of ending the loop."""
    while True:
        try:
            await reap_once(store, max_working_ms=max_working_ms, default_max_ms=default_max_ms)
        except Exception:
            logger.exception("task reaper: pass failed; retrying in %s s", interval_s)
        await asyncio.sleep(interval_s)


def _limit(text: str) -> tuple[str, int]:
    tool, sep, ms = text.rpartition("=")
    if not sep or not tool or not ms.isdigit():
        raise argparse.ArgumentTypeError(f"expected TOOL=MILLISECONDS, not {text!r}")
    return tool, int(ms)


async def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_tasks.reaper", description="Fail abandoned tasks and drop expired ones."
    )
    parser.add_argument("--store", default=None, help="store URL (default: MCP_TASKS_DB, else sqlite:///./tasks.db)")
    parser.add_argument("--default-max-ms", type=int, required=True, help="longest a tool may go without a heartbeat")
    parser.add_argument("--max", type=_limit, action="append", default=[], metavar="TOOL=MS", help="per-tool maximum")
    parser.add_argument("--interval", type=float, default=30.0, metavar="SECONDS", help="between passes (default 30)")
    parser.add_argument("--once", action="store_true", help="one pass, then exit (for a cron job)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    store = open_store(args.store)
    limits = dict(args.max)
    try:
        if args.once:
            await reap_once(store, max_working_ms=limits, default_max_ms=args.default_max_ms)
        else:
            await run_reaper(store, max_working_ms=limits, default_max_ms=args.default_max_ms, interval_s=args.interval)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(_main())

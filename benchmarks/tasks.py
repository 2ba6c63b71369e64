"""Benchmark of the reference stateless server (`mcp-migrate scaffold server`) behind nginx.

One command:  python benchmarks/tasks.py [--calls 300] [--concurrency 16] [--seconds 5]

It generates the server into a temporary folder, starts a real redis-server, replicas of the
server and a real nginx round-robin in front (tests/support: the same harness the proof tests
use), and measures with plain HTTP/1.1 keep-alive clients speaking 2026-07-28 JSON-RPC:

- time from `tools/call refund` to the returned task id (the task is durably in Redis by then),
  p50 and p99 over sequential calls;
- throughput of the quick tool (`lookup_order`) with N concurrent clients.

Each figure is measured directly against one replica (the baseline: no proxy) and through
nginx with 1 and with 3 replicas, in the same run, and reported as a ratio to the baseline.
The machine is shared and noisy: compare ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.proxy import nginx_round_robin, replicas  # noqa: E402
from support.redis_server import redis_server  # noqa: E402

TASKS = "io.modelcontextprotocol/tasks"
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {"extensions": {TASKS: {}}},
    "io.modelcontextprotocol/clientInfo": {"name": "mcp-migrate-bench", "version": "1"},
}
# Refunds finish fast and nobody is asked to confirm: the benchmark measures the server, not
# the simulated payment provider.
SERVER_ENV = {"REFUND_STEP_SECONDS": "0.01", "REFUND_CONFIRM_ABOVE_CENTS": "100000000", "REAPER_INTERVAL_SECONDS": "5"}


class Connection:
    """One keep-alive HTTP/1.1 connection posting 2026-07-28 requests."""

    def __init__(self, url: str, token: str) -> None:
        parsed = urlparse(url)
        self.path = parsed.path
        self.http = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        self.token = token
        self.next_id = 0

    def call(self, tool: str, arguments: dict[str, object]) -> dict[str, object]:
        self.next_id += 1
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": self.next_id,
                "method": "tools/call",
                "params": {"name": tool, "arguments": arguments, "_meta": META},
            }
        )
        headers = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": "2026-07-28",
            "mcp-method": "tools/call",
            "mcp-name": tool,
            "authorization": f"Bearer {self.token}",
        }
        self.http.request("POST", self.path, body, headers)
        response = self.http.getresponse()
        raw = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {raw[:200]!r}")
        text = raw.decode()
        if response.getheader("content-type", "").startswith("text/event-stream"):
            text = next(line[5:].strip() for line in text.splitlines() if line.startswith("data:"))
        message = json.loads(text)
        if "result" not in message:
            raise RuntimeError(f"JSON-RPC error: {message.get('error')}")
        result: dict[str, object] = message["result"]
        return result

    def close(self) -> None:
        self.http.close()


def task_id_latencies(url: str, calls: int) -> list[float]:
    """Sequential `refund` calls; seconds from sending to holding the task id."""
    connection = Connection(url, "bench-latency")
    timings = []
    try:
        for index in range(calls):
            started = time.perf_counter()
            result = connection.call("refund", {"order_id": f"o-{index}", "amount_cents": 1500})
            timings.append(time.perf_counter() - started)
            if result.get("resultType") != "task" or not result.get("taskId"):
                raise RuntimeError(f"refund did not return a task: {result}")
    finally:
        connection.close()
    return timings


def throughput(url: str, concurrency: int, seconds: float) -> tuple[float, int]:
    """`lookup_order` calls per second with `concurrency` clients for `seconds`; and errors."""
    stop = time.perf_counter() + seconds
    counts = [0] * concurrency
    errors = [0] * concurrency

    def client(index: int) -> None:
        connection = Connection(url, f"bench-{index}")
        try:
            while time.perf_counter() < stop:
                try:
                    connection.call("lookup_order", {"order_id": f"o-{index}-{counts[index]}"})
                    counts[index] += 1
                except (RuntimeError, OSError, http.client.HTTPException):
                    errors[index] += 1
                    connection.close()
                    connection = Connection(url, f"bench-{index}")
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started), sum(errors)


@dataclass
class Figures:
    label: str
    p50_ms: float
    p99_ms: float
    calls_per_s: float
    errors: int


def measure(label: str, url: str, args: argparse.Namespace) -> Figures:
    task_id_latencies(url, 10)  # warm-up: connections, imports, Redis scripts
    timings = task_id_latencies(url, args.calls)
    rate, errors = throughput(url, args.concurrency, args.seconds)
    quantiles = statistics.quantiles(timings, n=100)
    figures = Figures(label, quantiles[49] * 1000, quantiles[98] * 1000, rate, errors)
    print(
        f"  {label:<26} task id p50 {figures.p50_ms:7.2f} ms  p99 {figures.p99_ms:7.2f} ms  "
        f"lookup_order {figures.calls_per_s:8.1f} calls/s  errors {errors}",
        flush=True,
    )
    return figures


def _median(samples: list[Figures]) -> Figures:
    return Figures(
        samples[0].label,
        statistics.median(f.p50_ms for f in samples),
        statistics.median(f.p99_ms for f in samples),
        statistics.median(f.calls_per_s for f in samples),
        sum(f.errors for f in samples),
    )


@contextmanager
def server_tree() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mcp-tasks-bench-") as folder:
        out = Path(folder) / "server"
        subprocess.run(
            [sys.executable, "-m", "mcp_migrate", "scaffold", "server", "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        yield out


def run(args: argparse.Namespace) -> dict[str, object]:
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="mcp-tasks-bench-run-") as work:
        tree = stack.enter_context(server_tree())
        folder = Path(work)
        redis = stack.enter_context(redis_server(folder / "redis"))
        env = {**SERVER_ENV, "REDIS_URL": redis.url, "MCP_TASKS_DB": ""}
        started = stack.enter_context(
            replicas([sys.executable, "server.py"], 3, folder / "replicas", cwd=tree, env=env)
        )
        addresses = [f"127.0.0.1:{replica.port}" for replica in started]
        one = stack.enter_context(nginx_round_robin(addresses[:1], folder / "nginx-1"))
        three = stack.enter_context(nginx_round_robin(addresses, folder / "nginx-3"))
        print(
            f"reference server, Redis store, {args.calls} task calls, {args.concurrency} clients x {args.seconds:g} s"
        )
        setups = [
            ("direct to one replica", f"http://{addresses[0]}/mcp"),
            ("nginx, 1 replica", one.url("/mcp")),
            ("nginx, 3 replicas", three.url("/mcp")),
        ]
        rounds = []
        for number in range(1, args.rounds + 1):  # interleaved, so drift on a shared machine hits all alike
            print(f"round {number}/{args.rounds}")
            rounds.append([measure(label, url, args) for label, url in setups])
    results = [_median([r[i] for r in rounds]) for i in range(len(setups))]
    base = results[0]
    table = []
    for figures in results:
        table.append(
            {
                **figures.__dict__,
                "p50_vs_direct": figures.p50_ms / base.p50_ms,
                "p99_vs_direct": figures.p99_ms / base.p99_ms,
                "throughput_vs_direct": figures.calls_per_s / base.calls_per_s,
            }
        )
    print(f"medians of {args.rounds} rounds, as ratios to the direct baseline (same run):")
    for row in table:
        print(
            f"  {row['label']:<26} p50 x{row['p50_vs_direct']:.2f}  p99 x{row['p99_vs_direct']:.2f}  "
            f"throughput x{row['throughput_vs_direct']:.2f}  ({row['p50_ms']:.2f} / {row['p99_ms']:.2f} ms, "
            f"{row['calls_per_s']:.0f} calls/s, {row['errors']} errors)"
        )
    return {"machine": os.uname().machine, "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d"), "rows": table}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="sequential refund calls per setup (default 300)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent lookup_order clients (default 16)")
    parser.add_argument("--seconds", type=float, default=5.0, help="throughput window per setup (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians reported (default 3)")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "tasks-results.json")
    args = parser.parse_args()
    results = run(args)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

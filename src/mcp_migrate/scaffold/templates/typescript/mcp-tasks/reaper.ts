/**
 * The reaper: a worker that died (crash, deploy, OOM kill) leaves its task `working` forever,
 * and its client polling forever. Every replica runs one; `store.reap` is atomic per task, so
 * running it everywhere at once is safe, and any one surviving replica is enough.
 */

import type { ReapOptions, Task, TaskStore } from "./store.js";

export interface ReaperOptions extends ReapOptions {
  /** How often to look (default: 30 s). */
  intervalMs?: number;
  /** Called with each task the reaper failed. */
  onReaped?: (task: Task) => void;
  /** A failed pass (e.g. Redis unreachable) is reported here and retried on the next tick. */
  onError?: (error: unknown) => void;
}

export interface Reaper {
  /** Run one pass now (also what the timer does). */
  runOnce(): Promise<Task[]>;
  /** Stop the timer and wait for a pass in progress. */
  stop(): Promise<void>;
}

export function startReaper(store: TaskStore, options: ReaperOptions): Reaper {
  let running: Promise<Task[]> | undefined;
  const runOnce = (): Promise<Task[]> => {
    // Passes never overlap: a slow pass is joined, not duplicated.
    running ??= store
      .reap(options)
      .then((reaped) => {
        for (const task of reaped) options.onReaped?.(task);
        return reaped;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => {
    runOnce().catch((error: unknown) => (options.onError ?? reportError)(error));
  }, options.intervalMs ?? 30_000);
  timer.unref(); // the reaper alone must not keep the process alive
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

function reportError(error: unknown): void {
  process.stderr.write(`${JSON.stringify({ event: "task.reaper_error", error: String(error) })}\n`);
}

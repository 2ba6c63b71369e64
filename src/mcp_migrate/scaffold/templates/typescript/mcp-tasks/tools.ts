/**
 * Tasks on `@modelcontextprotocol/sdk` 1.x, which has no Tasks extension (SEP-2663): a tool
 * that would take too long for one request starts a task with `startTask` and returns its id
 * at once; the client follows it with three ordinary tools, the fallback for clients and SDKs
 * without the extension:
 * - `get_task_status {taskId}`: the task as SEP-2663's `tasks/get` would return it;
 * - `cancel_task {taskId}`: like `tasks/cancel`;
 * - `provide_task_input {taskId, inputResponses}`: like `tasks/update`.
 * All state lives in the TaskStore, so any replica can answer any of these calls.
 */

import { setTimeout as sleep } from "node:timers/promises";

import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

import {
  INTERNAL_ERROR,
  InvalidTransition,
  TERMINAL,
  TaskNotFound,
  type CreateOptions,
  type JsonObject,
  type Task,
  type TaskStore,
} from "./store.js";

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Who is calling: the key every task is bound to. Derive it from authentication (e.g. the
 * token's subject in `extra.authInfo`), never from a session id: sessions are gone, and a
 * principal that a caller can choose lets it read other callers' tasks.
 */
export type PrincipalOf = (extra: ToolExtra) => string;

const taskId = z.string().min(1).max(256).describe("The taskId returned when the task was started.");

const wireTask = {
  taskId: z.string(),
  status: z.enum(["working", "input_required", "completed", "failed", "cancelled"]),
  statusMessage: z.string().optional(),
  createdAt: z.string(),
  lastUpdatedAt: z.string(),
  ttlMs: z.number().nullable(),
  pollIntervalMs: z.number().optional(),
  inputRequests: z.record(z.string(), z.unknown()).optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.object({ code: z.number(), message: z.string(), data: z.unknown().optional() }).optional(),
};

/** A tool result carrying the task (structured, plus the same JSON as text for older clients). */
export function taskToolResult(task: Task): CallToolResult {
  const wire = task.toWire();
  return { content: [{ type: "text", text: JSON.stringify(wire) }], structuredContent: wire };
}

function errorResult(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** Store errors a caller can act on become tool errors; anything else is the SDK's to report. */
function explain(error: unknown): CallToolResult {
  if (error instanceof TaskNotFound) {
    return errorResult(`Task ${error.taskId} not found (unknown, expired, or not yours).`);
  }
  if (error instanceof InvalidTransition) {
    return errorResult(
      `Task ${error.taskId} is ${error.current}; it does not accept this (it would have to become ${error.wanted}).`,
    );
  }
  throw error;
}

/** Register `get_task_status`, `cancel_task` and `provide_task_input` on `server`. */
export function registerTaskTools(server: McpServer, store: TaskStore, principalOf: PrincipalOf): RegisteredTool[] {
  const getStatus = server.registerTool(
    "get_task_status",
    {
      title: "Get task status",
      description:
        "Status of a long-running task started by another tool. Poll it (every pollIntervalMs) until the status is " +
        "completed (read `result`), failed (read `error`) or cancelled; on input_required answer `inputRequests` " +
        "with provide_task_input.",
      inputSchema: { taskId },
      outputSchema: wireTask,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args, extra) => {
      try {
        return taskToolResult(await store.get(args.taskId, { principal: principalOf(extra) }));
      } catch (error) {
        return explain(error);
      }
    },
  );
  const cancel = server.registerTool(
    "cancel_task",
    {
      title: "Cancel task",
      description:
        "Ask to stop a task. Cancellation is cooperative: a task that already finished keeps its final status, " +
        "which this returns.",
      inputSchema: { taskId },
      outputSchema: wireTask,
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args, extra) => {
      try {
        return taskToolResult(await store.cancel(args.taskId, { principal: principalOf(extra) }));
      } catch (error) {
        return explain(error);
      }
    },
  );
  const provideInput = server.registerTool(
    "provide_task_input",
    {
      title: "Provide task input",
      description:
        "Answer a task in status input_required: `inputResponses` has one entry per key of the task's " +
        "`inputRequests`. The task then goes back to working.",
      inputSchema: {
        taskId,
        inputResponses: z.record(z.string(), z.unknown()).describe("Answers, keyed like the task's inputRequests."),
      },
      outputSchema: wireTask,
      annotations: { idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      try {
        const task = await store.provideInput(args.taskId, {
          principal: principalOf(extra),
          inputResponses: args.inputResponses,
        });
        return taskToolResult(task);
      } catch (error) {
        return explain(error);
      }
    },
  );
  return [getStatus, cancel, provideInput];
}

export interface StartTaskOptions extends CreateOptions {
  /**
   * How often the running work tells the store it is alive (default: 10 s). Keep it well
   * under the reaper's maximum, or live tasks get failed as stuck.
   */
  heartbeatMs?: number;
}

/** What the background work gets. */
export interface TaskContext {
  readonly taskId: string;
  readonly arguments: JsonObject;
  /**
   * Aborted when the task ends elsewhere: cancelled by the client, failed by the reaper, or
   * expired. Its reason is the TaskNotFound or InvalidTransition that revealed it. Stop then:
   * nothing the work returns afterwards is recorded.
   */
  readonly signal: AbortSignal;
  /** A heartbeat, optionally with a new status message for the client. */
  progress(statusMessage?: string): Promise<void>;
  /**
   * Ask the client for input (`input_required`) and wait until it answers with
   * provide_task_input; resolves to its `inputResponses`.
   */
  requestInput(inputRequests: JsonObject, message?: string): Promise<JsonObject>;
}

export type TaskWork = (context: TaskContext) => Promise<CallToolResult>;

export interface StartedTask {
  /** The task as created (`working`), already durable. */
  task: Task;
  /** What the tool handler returns to its caller: the task and its id. */
  response: CallToolResult;
  /**
   * Resolves (never rejects) when the work is over: with the final task it recorded, or
   * undefined when the task was ended elsewhere or the store could not be reached.
   */
  settled: Promise<Task | undefined>;
}

/**
 * Create a task durably, run `work` in the background with heartbeats, and return at once.
 *
 *     async (args, extra) => (await startTask(store, { principal: principalOf(extra), tool: "report",
 *       arguments: args, ttlMs: 3_600_000 }, async (task) => buildReport(args, task))).response
 *
 * The result of `work` completes the task (a result with isError too); a thrown error fails it.
 */
export async function startTask(store: TaskStore, options: StartTaskOptions, work: TaskWork): Promise<StartedTask> {
  const { heartbeatMs = 10_000, ...create } = options;
  if (!(heartbeatMs > 0)) throw new RangeError(`heartbeatMs must be positive, not ${heartbeatMs}`);
  const task = await store.create(create); // durable before its id leaves this process
  const id = task.taskId;
  const controller = new AbortController();
  let waitingForInput = false;

  // Only proof that the task is over stops the work; a lost heartbeat race with
  // requireInput (status input_required) is not.
  const stopIfEnded = (error: unknown): void => {
    if (error instanceof TaskNotFound || (error instanceof InvalidTransition && TERMINAL.has(error.current))) {
      controller.abort(error);
    }
  };
  const heartbeat = async (statusMessage?: string): Promise<void> => {
    try {
      await store.update(id, statusMessage === undefined ? {} : { statusMessage });
    } catch (error) {
      stopIfEnded(error);
      throw error;
    }
  };
  const timer = setInterval(() => {
    if (!waitingForInput && !controller.signal.aborted) heartbeat().catch(() => undefined);
  }, heartbeatMs);
  timer.unref(); // the work itself keeps the process alive while it runs

  const context: TaskContext = {
    taskId: id,
    arguments: task.arguments,
    signal: controller.signal,
    async progress(statusMessage) {
      controller.signal.throwIfAborted();
      await heartbeat(statusMessage);
    },
    async requestInput(inputRequests, message) {
      controller.signal.throwIfAborted();
      waitingForInput = true;
      try {
        await store
          .requireInput(id, message === undefined ? { inputRequests } : { inputRequests, message })
          .catch((error: unknown) => {
            stopIfEnded(error);
            throw error;
          });
        const pollMs = task.pollIntervalMs ?? 1_000;
        for (;;) {
          await sleep(pollMs, undefined, { signal: controller.signal }).catch(() => controller.signal.throwIfAborted());
          const current = await store.get(id, { principal: task.principal }).catch((error: unknown) => {
            stopIfEnded(error);
            throw error;
          });
          if (current.status === "working") return current.inputResponses ?? {};
          if (current.terminal) {
            const ended = new InvalidTransition(id, current.status, "working");
            controller.abort(ended);
            throw ended;
          }
        }
      } finally {
        waitingForInput = false;
      }
    },
  };

  const settled = (async (): Promise<Task | undefined> => {
    try {
      let result: CallToolResult;
      try {
        result = await work(context);
      } catch (error) {
        if (controller.signal.aborted) return undefined; // ended elsewhere: nothing to record
        const message = error instanceof Error ? error.message : String(error);
        return await store.fail(id, { error: { code: INTERNAL_ERROR, message }, message });
      }
      return await store.complete(id, { result });
    } catch (error) {
      // A cancel, the reaper or the TTL got there first: the first final state stands.
      if (error instanceof InvalidTransition || error instanceof TaskNotFound) return undefined;
      // The store is unreachable: the task stays `working` without heartbeats, so the
      // reaper fails it once the store is back.
      process.stderr.write(`${JSON.stringify({ event: "task.store_error", taskId: id, error: String(error) })}\n`);
      return undefined;
    } finally {
      clearInterval(timer);
    }
  })();

  return { task, response: taskToolResult(task), settled };
}

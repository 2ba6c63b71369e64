/**
 * The task store contract: what a task is, which transitions are allowed, and the interface
 * every backend (memory, Redis) implements with the same semantics.
 *
 * Semantics follow the Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663):
 * - a task is created `working` and durably stored before its id is returned;
 * - `working` -> `input_required` | `completed` | `failed` | `cancelled`;
 *   `input_required` -> `working` | `completed` | `failed` | `cancelled`;
 *   `completed`, `failed` and `cancelled` are final;
 * - every task belongs to the principal that created it: for anyone else it does not exist;
 * - `ttlMs` counts from creation; an expired task is gone (not found);
 * - task ids carry 192 random bits, so they cannot be guessed.
 * Every transition writes one JSON log line (see `transitionLine`).
 */

import { randomBytes } from "node:crypto";

export type TaskStatus = "working" | "input_required" | "completed" | "failed" | "cancelled";

/** A JSON object: tool arguments, a CallToolResult, input requests and responses. */
export type JsonObject = { [key: string]: unknown };

/** A JSON-RPC error object, what a `failed` task carries. */
export type TaskError = { code: number; message: string; data?: unknown };

export const TERMINAL: ReadonlySet<TaskStatus> = new Set<TaskStatus>(["completed", "failed", "cancelled"]);

export const ALLOWED: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  working: ["input_required", "completed", "failed", "cancelled"],
  input_required: ["working", "completed", "failed", "cancelled"],
  completed: [],
  failed: [],
  cancelled: [],
};

/** JSON-RPC "internal error": what a task fails with when its work threw or was lost. */
export const INTERNAL_ERROR = -32603;

/** No such task for this principal (unknown id, another principal's task, or expired). */
export class TaskNotFound extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} not found`);
    this.name = "TaskNotFound";
  }
}

/** The task's current status does not allow the requested change (terminal states are final). */
export class InvalidTransition extends Error {
  constructor(
    readonly taskId: string,
    readonly current: TaskStatus,
    readonly wanted: TaskStatus,
  ) {
    super(`task ${taskId} is ${current}; it cannot become ${wanted}`);
    this.name = "InvalidTransition";
  }
}

/** 192 random bits, URL-safe (32 characters). */
export function newTaskId(): string {
  return randomBytes(24).toString("base64url");
}

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === "string" && Object.hasOwn(ALLOWED, value);
}

export function isAllowed(from: TaskStatus, to: TaskStatus): boolean {
  return ALLOWED[from].includes(to);
}

/** The task as SEP-2663 puts it on the wire (`DetailedTask`: one extra field per status). */
export type WireTask = {
  taskId: string;
  status: TaskStatus;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number | null;
  pollIntervalMs?: number;
  inputRequests?: JsonObject;
  result?: JsonObject;
  error?: TaskError;
};

export interface TaskFields {
  taskId: string;
  principal: string;
  tool: string;
  status: TaskStatus;
  createdMs: number;
  updatedMs: number;
  ttlMs: number | null;
  pollIntervalMs?: number | undefined;
  statusMessage?: string | undefined;
  inputRequests?: JsonObject | undefined;
  inputResponses?: JsonObject | undefined;
  result?: JsonObject | undefined;
  error?: TaskError | undefined;
  /** What the tool was called with. */
  arguments: JsonObject;
}

/** One immutable snapshot of a task; every change produces a new one. */
export class Task {
  readonly taskId: string;
  readonly principal: string;
  readonly tool: string;
  readonly status: TaskStatus;
  readonly createdMs: number;
  readonly updatedMs: number;
  readonly ttlMs: number | null;
  readonly pollIntervalMs: number | undefined;
  readonly statusMessage: string | undefined;
  readonly inputRequests: JsonObject | undefined;
  readonly inputResponses: JsonObject | undefined;
  readonly result: JsonObject | undefined;
  readonly error: TaskError | undefined;
  readonly arguments: JsonObject;

  constructor(fields: TaskFields) {
    this.taskId = fields.taskId;
    this.principal = fields.principal;
    this.tool = fields.tool;
    this.status = fields.status;
    this.createdMs = fields.createdMs;
    this.updatedMs = fields.updatedMs;
    this.ttlMs = fields.ttlMs;
    this.pollIntervalMs = fields.pollIntervalMs;
    this.statusMessage = fields.statusMessage;
    this.inputRequests = fields.inputRequests;
    this.inputResponses = fields.inputResponses;
    this.result = fields.result;
    this.error = fields.error;
    this.arguments = fields.arguments;
    Object.freeze(this);
  }

  get terminal(): boolean {
    return TERMINAL.has(this.status);
  }

  expired(atMs: number = Date.now()): boolean {
    return this.ttlMs !== null && atMs >= this.createdMs + this.ttlMs;
  }

  /** A copy with some fields changed (the snapshot itself never changes). */
  with(changes: Partial<TaskFields>): Task {
    return new Task({ ...this.fields(), ...changes });
  }

  fields(): TaskFields {
    return {
      taskId: this.taskId,
      principal: this.principal,
      tool: this.tool,
      status: this.status,
      createdMs: this.createdMs,
      updatedMs: this.updatedMs,
      ttlMs: this.ttlMs,
      pollIntervalMs: this.pollIntervalMs,
      statusMessage: this.statusMessage,
      inputRequests: this.inputRequests,
      inputResponses: this.inputResponses,
      result: this.result,
      error: this.error,
      arguments: this.arguments,
    };
  }

  toWire(): WireTask {
    const wire: WireTask = {
      taskId: this.taskId,
      status: this.status,
      createdAt: new Date(this.createdMs).toISOString(),
      lastUpdatedAt: new Date(this.updatedMs).toISOString(),
      ttlMs: this.ttlMs,
    };
    if (this.statusMessage !== undefined) wire.statusMessage = this.statusMessage;
    if (this.pollIntervalMs !== undefined) wire.pollIntervalMs = this.pollIntervalMs;
    if (this.status === "input_required" && this.inputRequests !== undefined) wire.inputRequests = this.inputRequests;
    if (this.status === "completed" && this.result !== undefined) wire.result = this.result;
    if (this.status === "failed" && this.error !== undefined) wire.error = this.error;
    return wire;
  }
}

/** Throws InvalidTransition unless `task` may become `wanted`. */
export function checkTransition(task: Task, wanted: TaskStatus): void {
  if (!isAllowed(task.status, wanted)) throw new InvalidTransition(task.taskId, task.status, wanted);
}

/** Where transition lines go: stderr by default, since stdout is the protocol on stdio servers. */
export type TransitionLog = (line: string) => void;

export const stderrLog: TransitionLog = (line) => {
  process.stderr.write(`${line}\n`);
};

/** One JSON line per state change: what operators grep when a task goes missing. */
export function transitionLine(from: TaskStatus | null, after: Task): string {
  return JSON.stringify({
    event: "task.transition",
    taskId: after.taskId,
    from,
    to: after.status,
    tool: after.tool,
    duration_ms: after.updatedMs - after.createdMs,
  });
}

export interface CreateOptions {
  principal: string;
  tool: string;
  arguments?: JsonObject;
  /** From creation; null or absent = unlimited. */
  ttlMs?: number | null;
  pollIntervalMs?: number;
}

export interface ReapOptions {
  /** Per tool: how long a task may stay `working` without a heartbeat. */
  maxWorkingMs?: Readonly<Record<string, number>>;
  /** For tools not in `maxWorkingMs`. */
  defaultMaxMs: number;
}

/**
 * One interface, several backends. Every method that changes a task is atomic across
 * processes: two replicas racing on one task cannot both win, and a lost race raises
 * InvalidTransition instead of overwriting.
 *
 * `get`, `provideInput` and `cancel` act for a caller and take its principal; the others are
 * called by the server's own background work, which already holds the task id.
 */
export interface TaskStore {
  /** Store a new `working` task; resolves only once it is durable. */
  create(options: CreateOptions): Promise<Task>;

  /** The task, if it belongs to `principal` and has not expired; else TaskNotFound. */
  get(taskId: string, options: { principal: string }): Promise<Task>;

  /**
   * Progress on a `working` task: a new status message (if given) and a heartbeat (the reaper
   * judges a task by when it was last updated). Not a transition, so no log line.
   */
  update(taskId: string, options?: { statusMessage?: string }): Promise<Task>;

  /** `working` -> `input_required`, with the requests the client must answer. */
  requireInput(taskId: string, options: { inputRequests: JsonObject; message?: string }): Promise<Task>;

  /** `input_required` -> `working` with the client's answers (the owner only). */
  provideInput(taskId: string, options: { principal: string; inputResponses: JsonObject }): Promise<Task>;

  /** -> `completed` with the tool's result (a tool result with isError is still completed). */
  complete(taskId: string, options: { result: JsonObject }): Promise<Task>;

  /** -> `failed` with a JSON-RPC error object. */
  fail(taskId: string, options: { error: TaskError; message?: string }): Promise<Task>;

  /** -> `cancelled` (the owner only); a task already final stays as it is and is returned. */
  cancel(taskId: string, options: { principal: string }): Promise<Task>;

  /**
   * Fail every task stuck in `working` (not updated) for longer than its tool's maximum, and
   * drop expired tasks. Returns the tasks it failed. Safe to run on every replica at once.
   */
  reap(options: ReapOptions): Promise<Task[]>;

  /** Release what the store holds (connections it opened itself). */
  close(): Promise<void>;
}

/** The fields of a new `working` task (shared by every backend so they validate alike). */
export function newTaskFields(options: CreateOptions, atMs: number): TaskFields {
  // An empty principal would bind the task to nobody in particular.
  if (typeof options.principal !== "string" || options.principal === "") {
    throw new RangeError("principal must be a non-empty string");
  }
  const ttlMs = options.ttlMs ?? null;
  if (ttlMs !== null && !(Number.isSafeInteger(ttlMs) && ttlMs > 0)) {
    throw new RangeError(`ttlMs must be a positive integer or null, not ${ttlMs}`);
  }
  const poll = options.pollIntervalMs;
  if (poll !== undefined && !(Number.isSafeInteger(poll) && poll > 0)) {
    throw new RangeError(`pollIntervalMs must be a positive integer, not ${poll}`);
  }
  return {
    taskId: newTaskId(),
    principal: options.principal,
    tool: options.tool,
    status: "working",
    createdMs: atMs,
    updatedMs: atMs,
    ttlMs,
    pollIntervalMs: poll,
    arguments: structuredClone(options.arguments ?? {}),
  };
}

/** The maximum time in `working` for a tool. */
export function maxWorkingFor(tool: string, options: ReapOptions): number {
  const perTool = options.maxWorkingMs;
  return perTool !== undefined && Object.hasOwn(perTool, tool)
    ? (perTool[tool] ?? options.defaultMaxMs)
    : options.defaultMaxMs;
}

/** The error a reaped task carries. */
export function stuckError(maxMs: number): TaskError {
  return { code: INTERNAL_ERROR, message: `no progress for ${maxMs} ms: the worker is gone` };
}

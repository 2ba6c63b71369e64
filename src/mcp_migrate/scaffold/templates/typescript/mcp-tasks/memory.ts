/**
 * In-memory task store: for tests and single-process development only. Tasks vanish with the
 * process and are invisible to other replicas; use RedisTaskStore when more than one process
 * serves the same clients.
 */

import {
  InvalidTransition,
  Task,
  TaskNotFound,
  checkTransition,
  maxWorkingFor,
  newTaskFields,
  stderrLog,
  stuckError,
  transitionLine,
  type CreateOptions,
  type JsonObject,
  type ReapOptions,
  type TaskError,
  type TaskFields,
  type TaskStatus,
  type TaskStore,
  type TransitionLog,
} from "./store.js";

export interface MemoryTaskStoreOptions {
  log?: TransitionLog;
  /** The clock, in ms since the epoch (tests move it). */
  now?: () => number;
}

export class MemoryTaskStore implements TaskStore {
  readonly #tasks = new Map<string, Task>();
  readonly #log: TransitionLog;
  readonly #now: () => number;

  constructor(options: MemoryTaskStoreOptions = {}) {
    this.#log = options.log ?? stderrLog;
    this.#now = options.now ?? Date.now;
  }

  async create(options: CreateOptions): Promise<Task> {
    const task = new Task(newTaskFields(options, this.#now()));
    this.#tasks.set(task.taskId, task);
    this.#log(transitionLine(null, task));
    return task;
  }

  async get(taskId: string, options: { principal: string }): Promise<Task> {
    return this.#owned(taskId, options.principal);
  }

  async update(taskId: string, options: { statusMessage?: string } = {}): Promise<Task> {
    const task = this.#live(taskId);
    if (task.status !== "working") throw new InvalidTransition(taskId, task.status, "working");
    const changes: Partial<TaskFields> = { updatedMs: this.#now() };
    if (options.statusMessage !== undefined) changes.statusMessage = options.statusMessage;
    return this.#store(task.with(changes));
  }

  async requireInput(taskId: string, options: { inputRequests: JsonObject; message?: string }): Promise<Task> {
    return this.#transition(this.#live(taskId), "input_required", {
      inputRequests: copy(options.inputRequests),
      statusMessage: options.message,
    });
  }

  async provideInput(taskId: string, options: { principal: string; inputResponses: JsonObject }): Promise<Task> {
    const task = this.#owned(taskId, options.principal);
    // Only an `input_required` task takes answers, even though `working` is reachable from it.
    if (task.status !== "input_required") throw new InvalidTransition(taskId, task.status, "working");
    return this.#transition(task, "working", {
      inputResponses: copy(options.inputResponses),
      statusMessage: undefined,
    });
  }

  async complete(taskId: string, options: { result: JsonObject }): Promise<Task> {
    return this.#transition(this.#live(taskId), "completed", { result: copy(options.result) });
  }

  async fail(taskId: string, options: { error: TaskError; message?: string }): Promise<Task> {
    return this.#transition(this.#live(taskId), "failed", {
      error: copy(options.error),
      statusMessage: options.message,
    });
  }

  async cancel(taskId: string, options: { principal: string }): Promise<Task> {
    const task = this.#owned(taskId, options.principal);
    if (task.terminal) return task;
    return this.#transition(task, "cancelled", {});
  }

  async reap(options: ReapOptions): Promise<Task[]> {
    const at = this.#now();
    const reaped: Task[] = [];
    for (const task of [...this.#tasks.values()]) {
      if (task.expired(at)) {
        this.#tasks.delete(task.taskId);
        continue;
      }
      const maxMs = maxWorkingFor(task.tool, options);
      if (task.status === "working" && at - task.updatedMs > maxMs) {
        const error = stuckError(maxMs);
        reaped.push(this.#transition(task, "failed", { error, statusMessage: error.message }));
      }
    }
    return reaped;
  }

  async close(): Promise<void> {
    this.#tasks.clear();
  }

  /** The task if it exists and has not expired (expired ones are dropped on sight). */
  #live(taskId: string): Task {
    const task = this.#tasks.get(taskId);
    if (task === undefined) throw new TaskNotFound(taskId);
    if (task.expired(this.#now())) {
      this.#tasks.delete(taskId);
      throw new TaskNotFound(taskId);
    }
    return task;
  }

  /** Another principal's task is reported exactly like a missing one. */
  #owned(taskId: string, principal: string): Task {
    const task = this.#live(taskId);
    if (task.principal !== principal) throw new TaskNotFound(taskId);
    return task;
  }

  #transition(task: Task, wanted: TaskStatus, changes: Partial<TaskFields>): Task {
    checkTransition(task, wanted);
    const after = this.#store(task.with({ ...changes, status: wanted, updatedMs: this.#now() }));
    this.#log(transitionLine(task.status, after));
    return after;
  }

  #store(task: Task): Task {
    this.#tasks.set(task.taskId, task);
    return task;
  }
}

/** Stored values are copies, as a real backend's would be: callers cannot mutate a task. */
function copy<T>(value: T): T {
  return structuredClone(value);
}

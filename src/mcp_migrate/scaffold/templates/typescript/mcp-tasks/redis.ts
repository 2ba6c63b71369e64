/**
 * Redis task store: for many replicas on many hosts.
 *
 * Layout (all keys share one Redis Cluster hash tag, the braces in the prefix, so every Lua
 * script touches a single slot):
 * - `{prefix}:task:<id>`: a hash, one field per task field (JSON for the object-valued ones),
 *   expiring with PEXPIRE when the task has a ttlMs;
 * - `{prefix}:working`: a sorted set of `working` task ids scored by their last heartbeat, which
 *   lets the reaper find stale tasks without scanning the keyspace.
 * Every change is one Lua script that checks the current status and writes in the same step,
 * so two replicas racing on one task cannot both win (the loser gets InvalidTransition).
 *
 * The client is the official `redis` package (v4 or later), created and connected by you:
 *
 *     const client = await createClient({ url: process.env.REDIS_URL }).connect();
 *     const store = new RedisTaskStore(client);
 */

import { createHash } from "node:crypto";

import {
  ALLOWED,
  InvalidTransition,
  Task,
  TaskNotFound,
  isTaskStatus,
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

/** The two commands the store needs; a client from `createClient()` (redis v4+) has both. */
export interface RedisScriptClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

export interface RedisTaskStoreOptions {
  /** Key prefix; keep the braces (a Cluster hash tag) when you change it. */
  prefix?: string;
  log?: TransitionLog;
}

// The transition table, rendered from ALLOWED so TypeScript and Lua cannot disagree.
const LUA_ALLOWED = `{${Object.entries(ALLOWED)
  .filter(([, targets]) => targets.length > 0)
  .map(([from, targets]) => `${from} = {${targets.map((to) => `${to} = true`).join(", ")}}`)
  .join(", ")}}`;

const CREATE = `
-- KEYS: task, working index. ARGV: id, ttlMs or '', now, field, value, ...
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`;

const GET = `return redis.call('HGETALL', KEYS[1])`;

const TRANSITION = `
-- KEYS: task, working index.
-- ARGV: id, principal, now, mode, wanted status, stale-before ms ('' = any),
--       n, n field/value pairs to set, then fields to delete.
-- mode: 'to' (any allowed transition), 'cancel' (the owner only; a final task is returned
--       unchanged), 'input' (the owner only, from input_required), 'heartbeat' and 'reap'
--       (only from working).
local allowed = ${LUA_ALLOWED}
local key, index, id = KEYS[1], KEYS[2], ARGV[1]
local status = redis.call('HGET', key, 'status')
if not status then
  redis.call('ZREM', index, id) -- expired: drop its index entry too
  return {'not_found'}
end
local mode, wanted = ARGV[4], ARGV[5]
if (mode == 'cancel' or mode == 'input') and redis.call('HGET', key, 'principal') ~= ARGV[2] then
  return {'not_found'}
end
if mode == 'cancel' and not allowed[status] then
  return {'unchanged', status, unpack(redis.call('HGETALL', key))}
end
local needed = ({heartbeat = 'working', reap = 'working', input = 'input_required'})[mode]
if (needed and status ~= needed) or not (mode == 'heartbeat' or (allowed[status] and allowed[status][wanted])) then
  if mode == 'reap' then redis.call('ZREM', index, id) end
  return {'invalid', status}
end
if mode == 'reap' and tonumber(redis.call('HGET', key, 'updatedMs')) > tonumber(ARGV[6]) then
  return {'fresh', status} -- a heartbeat landed since the reaper looked
end
local n = tonumber(ARGV[7])
local set = {'status', wanted, 'updatedMs', ARGV[3]}
for i = 8, 7 + 2 * n do set[#set + 1] = ARGV[i] end
redis.call('HSET', key, unpack(set))
if #ARGV > 7 + 2 * n then redis.call('HDEL', key, unpack(ARGV, 8 + 2 * n)) end
if wanted == 'working' then redis.call('ZADD', index, ARGV[3], id) else redis.call('ZREM', index, id) end
return {'ok', status, unpack(redis.call('HGETALL', key))}
`;

const CANDIDATES = `return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', ARGV[2], ARGV[3])`;

const REAP_BATCH = 500;

type Mode = "to" | "cancel" | "input" | "heartbeat" | "reap";

interface Change {
  mode: Mode;
  wanted: TaskStatus;
  principal?: string;
  staleBefore?: number;
  set?: Partial<TaskFields>;
  /** Fields to remove (an absent optional field). */
  clear?: (keyof TaskFields)[];
}

type Outcome =
  | { kind: "ok"; from: TaskStatus; task: Task }
  | { kind: "unchanged"; task: Task }
  | { kind: "not_found" }
  | { kind: "invalid"; current: TaskStatus }
  | { kind: "fresh" };

export class RedisTaskStore implements TaskStore {
  readonly #client: RedisScriptClient;
  readonly #prefix: string;
  readonly #log: TransitionLog;
  readonly #sha = new Map<string, string>();

  constructor(client: RedisScriptClient, options: RedisTaskStoreOptions = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? "{mcp-tasks}";
    this.#log = options.log ?? stderrLog;
  }

  async create(options: CreateOptions): Promise<Task> {
    const task = new Task(newTaskFields(options, Date.now()));
    const created = await this.#run(
      CREATE,
      [this.#key(task.taskId), this.#index()],
      [task.taskId, task.ttlMs === null ? "" : String(task.ttlMs), String(task.createdMs), ...encode(task.fields())],
    );
    // 192 random bits make a collision practically impossible; refuse rather than overwrite.
    if (created !== 1) throw new Error(`task id collision on ${task.taskId}`);
    this.#log(transitionLine(null, task));
    return task;
  }

  async get(taskId: string, options: { principal: string }): Promise<Task> {
    const reply = await this.#run(GET, [this.#key(taskId)], []);
    const task = decode(taskId, strings(reply));
    if (task === undefined || task.principal !== options.principal || task.expired()) throw new TaskNotFound(taskId);
    return task;
  }

  async update(taskId: string, options: { statusMessage?: string } = {}): Promise<Task> {
    const set: Partial<TaskFields> =
      options.statusMessage === undefined ? {} : { statusMessage: options.statusMessage };
    return this.#change(taskId, { mode: "heartbeat", wanted: "working", set });
  }

  async requireInput(taskId: string, options: { inputRequests: JsonObject; message?: string }): Promise<Task> {
    return this.#change(taskId, {
      mode: "to",
      wanted: "input_required",
      ...withMessage({ inputRequests: options.inputRequests }, options.message),
    });
  }

  async provideInput(taskId: string, options: { principal: string; inputResponses: JsonObject }): Promise<Task> {
    return this.#change(taskId, {
      mode: "input",
      wanted: "working",
      principal: options.principal,
      set: { inputResponses: options.inputResponses },
      clear: ["statusMessage"],
    });
  }

  async complete(taskId: string, options: { result: JsonObject }): Promise<Task> {
    return this.#change(taskId, { mode: "to", wanted: "completed", set: { result: options.result } });
  }

  async fail(taskId: string, options: { error: TaskError; message?: string }): Promise<Task> {
    return this.#change(taskId, {
      mode: "to",
      wanted: "failed",
      ...withMessage({ error: options.error }, options.message),
    });
  }

  async cancel(taskId: string, options: { principal: string }): Promise<Task> {
    return this.#change(taskId, { mode: "cancel", wanted: "cancelled", principal: options.principal });
  }

  async reap(options: ReapOptions): Promise<Task[]> {
    const now = Date.now();
    const limits = Object.values(options.maxWorkingMs ?? {});
    const perTool = limits.length > 0;
    const shortest = Math.min(options.defaultMaxMs, ...limits);
    const reaped: Task[] = [];
    // Page through the index; only entries still there afterwards ("fresh") shift the offset.
    for (let offset = 0; ;) {
      const reply = await this.#run(
        CANDIDATES,
        [this.#index()],
        [String(now - shortest - 1), String(offset), String(REAP_BATCH)],
      );
      const ids = strings(reply);
      for (const taskId of ids) {
        // The tool never changes, so reading it outside the script is safe.
        const current = perTool ? decode(taskId, strings(await this.#run(GET, [this.#key(taskId)], []))) : undefined;
        const maxMs = maxWorkingFor(current?.tool ?? "", options);
        const error = stuckError(maxMs);
        // The script re-checks status and heartbeat atomically: a racing heartbeat or reaper wins.
        const outcome = await this.#apply(taskId, {
          mode: "reap",
          wanted: "failed",
          staleBefore: now - maxMs - 1,
          set: { error, statusMessage: error.message },
        });
        if (outcome.kind === "ok") {
          this.#log(transitionLine(outcome.from, outcome.task));
          reaped.push(outcome.task);
        } else if (outcome.kind === "fresh") {
          offset += 1;
        }
      }
      if (ids.length < REAP_BATCH) return reaped;
    }
  }

  /** The client is yours: close it yourself (`await client.quit()`). */
  async close(): Promise<void> {}

  #key(taskId: string): string {
    return `${this.#prefix}:task:${taskId}`;
  }

  #index(): string {
    return `${this.#prefix}:working`;
  }

  async #change(taskId: string, change: Change): Promise<Task> {
    const outcome = await this.#apply(taskId, change);
    switch (outcome.kind) {
      case "ok":
        if (change.mode !== "heartbeat") this.#log(transitionLine(outcome.from, outcome.task));
        return outcome.task;
      case "unchanged":
        return outcome.task;
      case "invalid":
        throw new InvalidTransition(taskId, outcome.current, change.wanted);
      default:
        throw new TaskNotFound(taskId);
    }
  }

  async #apply(taskId: string, change: Change): Promise<Outcome> {
    const set = encode(change.set ?? {});
    const reply = strings(
      await this.#run(
        TRANSITION,
        [this.#key(taskId), this.#index()],
        [
          taskId,
          change.principal ?? "",
          String(Date.now()),
          change.mode,
          change.wanted,
          change.staleBefore === undefined ? "" : String(change.staleBefore),
          String(set.length / 2),
          ...set,
          ...(change.clear ?? []),
        ],
      ),
    );
    const [kind, status, ...rest] = reply;
    if (kind === "not_found") return { kind };
    if (kind === "fresh") return { kind };
    if (!isTaskStatus(status)) throw new Error(`unexpected reply from Redis: ${JSON.stringify(reply)}`);
    if (kind === "invalid") return { kind, current: status };
    const task = decode(taskId, rest);
    if (task === undefined) throw new Error(`unexpected reply from Redis: ${JSON.stringify(reply)}`);
    return kind === "ok" ? { kind, from: status, task } : { kind: "unchanged", task };
  }

  /** EVALSHA, falling back to EVAL the first time a server (or a restarted one) sees a script. */
  async #run(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.#sha.get(script);
    if (sha === undefined) {
      sha = createHash("sha1").update(script).digest("hex");
      this.#sha.set(script, sha);
    }
    try {
      return await this.#client.evalSha(sha, { keys, arguments: args });
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return this.#client.eval(script, { keys, arguments: args });
    }
  }
}

// A task's fields as hash fields: strings for text and numbers, JSON for objects; absent
// optional fields are not written at all.
const NUMBERS = ["createdMs", "updatedMs", "ttlMs", "pollIntervalMs"] as const;
const OBJECTS = ["inputRequests", "inputResponses", "result", "error", "arguments"] as const;

function encode(fields: Partial<TaskFields>): string[] {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    flat.push(name, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  return flat;
}

function decode(taskId: string, flat: readonly string[]): Task | undefined {
  if (flat.length === 0) return undefined;
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(flat[i] as string, flat[i + 1] as string);
  const status = hash.get("status");
  const principal = hash.get("principal");
  const tool = hash.get("tool");
  if (!isTaskStatus(status) || principal === undefined || tool === undefined) return undefined;
  const number = (name: (typeof NUMBERS)[number]): number | undefined => {
    const text = hash.get(name);
    return text === undefined ? undefined : Number(text);
  };
  const object = <T>(name: (typeof OBJECTS)[number]): T | undefined => {
    const text = hash.get(name);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  };
  return new Task({
    taskId,
    principal,
    tool,
    status,
    createdMs: number("createdMs") ?? 0,
    updatedMs: number("updatedMs") ?? 0,
    ttlMs: number("ttlMs") ?? null,
    pollIntervalMs: number("pollIntervalMs"),
    statusMessage: hash.get("statusMessage"),
    inputRequests: object<JsonObject>("inputRequests"),
    inputResponses: object<JsonObject>("inputResponses"),
    result: object<JsonObject>("result"),
    error: object<TaskError>("error"),
    arguments: object<JsonObject>("arguments") ?? {},
  });
}

/** A script reply as strings (RESP2 and RESP3 clients both return bulk strings here). */
function strings(reply: unknown): string[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((item) =>
    typeof item === "string" ? item : Buffer.isBuffer(item) ? item.toString("utf8") : String(item),
  );
}

/** A status message to set, or an old one to clear: it described the previous state. */
function withMessage(set: Partial<TaskFields>, message: string | undefined): Pick<Change, "set" | "clear"> {
  return message === undefined ? { set, clear: ["statusMessage"] } : { set: { ...set, statusMessage: message } };
}

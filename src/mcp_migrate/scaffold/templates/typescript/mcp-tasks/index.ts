/**
 * Durable tasks for `@modelcontextprotocol/sdk` servers: the store contract, an in-memory
 * backend (tests), a Redis backend (production), the reaper, and the fallback task tools.
 * See README.md.
 */

export * from "./store.js";
export { MemoryTaskStore, type MemoryTaskStoreOptions } from "./memory.js";
export { RedisTaskStore, type RedisScriptClient, type RedisTaskStoreOptions } from "./redis.js";
export { startReaper, type Reaper, type ReaperOptions } from "./reaper.js";
export {
  registerTaskTools,
  startTask,
  taskToolResult,
  type PrincipalOf,
  type StartTaskOptions,
  type StartedTask,
  type TaskContext,
  type TaskWork,
  type ToolExtra,
} from "./tools.js";

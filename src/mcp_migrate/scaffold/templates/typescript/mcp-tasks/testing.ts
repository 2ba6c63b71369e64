/**
 * Backends for the tests: the in-memory store always, Redis when REDIS_URL is set. A Redis
 * backend uses a key prefix of its own and deletes its keys when closed.
 */

import { randomBytes } from "node:crypto";

import { MemoryTaskStore } from "./memory.js";
import { RedisTaskStore, type RedisScriptClient } from "./redis.js";
import type { TaskStore } from "./store.js";

/** A place where stores share one set of tasks; `open()` gives another client of it. */
export interface Backend {
  name: string;
  /** Every transition line any store of this backend logged. */
  lines: string[];
  open(): Promise<TaskStore>;
  close(): Promise<void>;
}

/** What the tests need of a `redis` client beyond what the store needs. */
interface RedisTestClient extends RedisScriptClient {
  connect(): Promise<unknown>;
  quit(): Promise<unknown>;
  keys(pattern: string): Promise<string[]>;
  del(keys: string[]): Promise<number>;
  scriptFlush(): Promise<unknown>;
}

export function memoryBackend(): Backend {
  const lines: string[] = [];
  const store = new MemoryTaskStore({ log: (line) => lines.push(line) });
  return { name: "memory", lines, open: async () => store, close: () => store.close() };
}

export async function redisBackend(
  url: string,
): Promise<Backend & { client(): Promise<RedisTestClient>; prefix: string }> {
  // A computed specifier keeps this file compiling where the `redis` package is not installed.
  const specifier = "redis";
  const redis = (await import(specifier)) as { createClient(options: { url: string }): RedisTestClient };
  const prefix = `{mcp-tasks-test-${randomBytes(6).toString("hex")}}`;
  const lines: string[] = [];
  const clients: RedisTestClient[] = [];
  const client = async (): Promise<RedisTestClient> => {
    const created = redis.createClient({ url });
    await created.connect();
    clients.push(created);
    return created;
  };
  return {
    name: "redis",
    lines,
    prefix,
    client,
    // Each store gets its own connection, as each replica would.
    open: async () => new RedisTaskStore(await client(), { prefix, log: (line) => lines.push(line) }),
    async close() {
      const [first] = clients;
      if (first !== undefined) {
        const keys = await first.keys(`${prefix}*`);
        if (keys.length > 0) await first.del(keys);
      }
      await Promise.all(clients.map((each) => each.quit()));
    },
  };
}

export async function backends(): Promise<Backend[]> {
  const url = process.env["REDIS_URL"];
  return url ? [memoryBackend(), await redisBackend(url)] : [memoryBackend()];
}

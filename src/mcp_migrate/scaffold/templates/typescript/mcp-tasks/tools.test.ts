/**
 * The task tools end to end through the SDK: a real `Client` talks to a real `McpServer` over
 * the SDK's in-memory transport. Each caller gets its own server (as on a stateless replica)
 * over one shared store; a stand-in for bearer auth stamps every request with its principal.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CallToolResultSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

import { startReaper } from "./reaper.js";
import { InvalidTransition, TaskNotFound, type Task, type TaskStore, type WireTask } from "./store.js";
import { backends } from "./testing.js";
import { registerTaskTools, startTask, type PrincipalOf, type StartTaskOptions, type TaskWork } from "./tools.js";

const principalOf: PrincipalOf = (extra) => {
  const clientId = extra.authInfo?.clientId;
  if (!clientId) throw new Error("not authenticated");
  return clientId;
};

/** A server with the task tools and a few task-returning tools, as a user would write them. */
class Fixture {
  /** The background work of every task started, by task id. */
  readonly settled = new Map<string, Promise<Task | undefined>>();
  /** Why each interrupted piece of work stopped. */
  readonly interrupted = new Map<string, unknown>();
  readonly #closers: (() => Promise<void>)[] = [];

  constructor(
    readonly store: TaskStore,
    readonly taskOptions: Partial<StartTaskOptions> = {},
  ) {}

  server(): McpServer {
    const server = new McpServer({ name: "tasks-test", version: "1.0.0" });
    registerTaskTools(server, this.store, principalOf);
    const start = async (
      tool: string,
      args: Record<string, unknown>,
      principal: string,
      work: TaskWork,
    ): Promise<CallToolResult> => {
      const started = await startTask(
        this.store,
        { pollIntervalMs: 10, ttlMs: 60_000, ...this.taskOptions, principal, tool, arguments: args },
        work,
      );
      this.settled.set(started.task.taskId, started.settled);
      return started.response;
    };
    server.registerTool("slow_add", { inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }, extra) =>
      start("slow_add", { a, b }, principalOf(extra), async (task) => {
        await sleep(30);
        await task.progress("adding");
        return { content: [{ type: "text", text: String(a + b) }] };
      }),
    );
    server.registerTool("greet", {}, async (extra) =>
      start("greet", {}, principalOf(extra), async (task) => {
        const answers = await task.requestInput({ name: { message: "What is your name?" } }, "waiting for a name");
        return { content: [{ type: "text", text: `hello ${String(answers["name"])}` }] };
      }),
    );
    server.registerTool("wait_forever", {}, async (extra) =>
      start("wait_forever", {}, principalOf(extra), async (task) => {
        for (;;) {
          try {
            await sleep(10, undefined, { signal: task.signal });
            await task.progress();
          } catch (error) {
            this.interrupted.set(task.taskId, task.signal.reason);
            throw error;
          }
        }
      }),
    );
    server.registerTool("explode", {}, async (extra) =>
      start("explode", {}, principalOf(extra), async () => {
        throw new Error("boom");
      }),
    );
    server.registerTool("long_job", { inputSchema: { ms: z.number() } }, async ({ ms }, extra) =>
      start("long_job", { ms }, principalOf(extra), async () => {
        await sleep(ms); // heartbeats come from startTask's timer alone
        return { content: [{ type: "text", text: "done" }] };
      }),
    );
    return server;
  }

  /** A client authenticated as `principal`, on a server of its own. */
  async client(principal: string): Promise<Client> {
    const server = this.server();
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const send = clientTransport.send.bind(clientTransport);
    clientTransport.send = (message, options) =>
      send(message, { ...options, authInfo: { token: `token-${principal}`, clientId: principal, scopes: [] } });
    const client = new Client({ name: principal, version: "1.0.0" });
    await server.connect(serverTransport);
    await client.connect(clientTransport);
    this.#closers.push(
      () => client.close(),
      () => server.close(),
    );
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.settled.values()]);
    for (const close of this.#closers.splice(0)) await close();
  }
}

interface Reply {
  isError: boolean;
  text: string;
  task: WireTask | undefined;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Reply> {
  const result = CallToolResultSchema.parse(await client.callTool({ name, arguments: args }));
  const [first] = result.content;
  return {
    isError: result.isError === true,
    text: first?.type === "text" ? first.text : "",
    task: result.isError ? undefined : (result.structuredContent as WireTask | undefined),
  };
}

async function started(client: Client, name: string, args: Record<string, unknown> = {}): Promise<WireTask> {
  const reply = await call(client, name, args);
  assert.equal(reply.isError, false, reply.text);
  assert.ok(reply.task);
  assert.equal(reply.task.status, "working");
  assert.deepEqual(JSON.parse(reply.text), reply.task); // the same task as text, for older clients
  return reply.task;
}

/** Poll get_task_status, as a client would, until `done` holds. */
async function until(
  client: Client,
  taskId: string,
  done: (task: WireTask) => boolean,
  timeoutMs = 5_000,
): Promise<WireTask> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await call(client, "get_task_status", { taskId });
    assert.equal(reply.isError, false, reply.text);
    assert.ok(reply.task);
    if (done(reply.task)) return reply.task;
    assert.ok(Date.now() < deadline, `task ${taskId} still ${reply.task.status}`);
    await sleep(reply.task.pollIntervalMs ?? 10);
  }
}

const final = (task: WireTask): boolean => ["completed", "failed", "cancelled"].includes(task.status);

for (const backend of await backends()) {
  describe(`task tools over the ${backend.name} store`, () => {
    const fixtures: Fixture[] = [];
    const fixture = async (options: Partial<StartTaskOptions> = {}): Promise<Fixture> => {
      const made = new Fixture(await backend.open(), options);
      fixtures.push(made);
      return made;
    };
    after(async () => {
      for (const each of fixtures) await each.close();
      await backend.close();
    });

    it("registers get_task_status, cancel_task and provide_task_input with schemas", async () => {
      const alice = await (await fixture()).client("alice");
      const { tools } = await alice.listTools();
      const byName = new Map(tools.map((tool) => [tool.name, tool]));
      for (const name of ["get_task_status", "cancel_task", "provide_task_input"]) {
        const tool = byName.get(name);
        assert.ok(tool, name);
        assert.deepEqual(tool.inputSchema.required?.includes("taskId"), true);
        assert.ok(tool.outputSchema?.properties?.["status"], `${name} declares its output`);
        assert.ok(tool.description);
      }
      assert.ok(byName.get("provide_task_input")?.inputSchema.properties?.["inputResponses"]);
    });

    it("returns the task id at once and completes the task in the background", async () => {
      const alice = await (await fixture()).client("alice");
      const task = await started(alice, "slow_add", { a: 2, b: 3 });
      assert.match(task.taskId, /^[A-Za-z0-9_-]{32}$/);
      const done = await until(alice, task.taskId, final);
      assert.equal(done.status, "completed");
      assert.deepEqual(done.result, { content: [{ type: "text", text: "5" }] });
      assert.equal(done.statusMessage, "adding");
    });

    it("answers any replica: the task lives in the store, not in a server", async () => {
      const made = await fixture();
      const first = await made.client("alice");
      const second = await made.client("alice"); // another server, as behind a load balancer
      const task = await started(first, "slow_add", { a: 1, b: 1 });
      assert.equal((await until(second, task.taskId, final)).status, "completed");
    });

    it("tells another principal the task does not exist", async () => {
      const made = await fixture();
      const alice = await made.client("alice");
      const bob = await made.client("bob");
      const task = await started(alice, "greet");
      await until(alice, task.taskId, (each) => each.status === "input_required");
      for (const [tool, args] of [
        ["get_task_status", {}],
        ["cancel_task", {}],
        ["provide_task_input", { inputResponses: { name: "Mallory" } }],
      ] as const) {
        const reply = await call(bob, tool, { taskId: task.taskId, ...args });
        assert.equal(reply.isError, true, tool);
        assert.match(reply.text, /not found/);
      }
      assert.equal((await call(alice, "cancel_task", { taskId: task.taskId })).task?.status, "cancelled");
    });

    it("asks for input and resumes with the answer", async () => {
      const alice = await (await fixture()).client("alice");
      const task = await started(alice, "greet");
      const asking = await until(alice, task.taskId, (each) => each.status !== "working");
      assert.equal(asking.status, "input_required");
      assert.deepEqual(asking.inputRequests, { name: { message: "What is your name?" } });
      assert.equal(asking.statusMessage, "waiting for a name");
      const answered = await call(alice, "provide_task_input", {
        taskId: task.taskId,
        inputResponses: { name: "Ada" },
      });
      assert.equal(answered.task?.status, "working");
      const done = await until(alice, task.taskId, final);
      assert.deepEqual(done.result, { content: [{ type: "text", text: "hello Ada" }] });
      const late = await call(alice, "provide_task_input", { taskId: task.taskId, inputResponses: { name: "Bob" } });
      assert.equal(late.isError, true);
      assert.match(late.text, /is completed/);
    });

    it("cancels: the work sees its signal aborted and the task stays cancelled", async () => {
      const made = await fixture({ heartbeatMs: 20 });
      const alice = await made.client("alice");
      const task = await started(alice, "wait_forever");
      await sleep(30);
      const reply = await call(alice, "cancel_task", { taskId: task.taskId });
      assert.equal(reply.task?.status, "cancelled");
      assert.equal(await made.settled.get(task.taskId), undefined); // the worker recorded nothing
      const reason = made.interrupted.get(task.taskId);
      assert.ok(reason instanceof InvalidTransition && reason.current === "cancelled", String(reason));
      assert.equal((await until(alice, task.taskId, final)).status, "cancelled");
      // Cancelling again is harmless and reports the final state.
      assert.equal((await call(alice, "cancel_task", { taskId: task.taskId })).task?.status, "cancelled");
    });

    it("cancel_task on a finished task returns it unchanged", async () => {
      const alice = await (await fixture()).client("alice");
      const task = await started(alice, "slow_add", { a: 1, b: 2 });
      const done = await until(alice, task.taskId, final);
      assert.deepEqual((await call(alice, "cancel_task", { taskId: task.taskId })).task, done);
    });

    it("fails the task with a JSON-RPC error when the work throws", async () => {
      const alice = await (await fixture()).client("alice");
      const task = await started(alice, "explode");
      const done = await until(alice, task.taskId, final);
      assert.equal(done.status, "failed");
      assert.deepEqual(done.error, { code: -32603, message: "boom" });
    });

    it("reports an unknown task id as a tool error", async () => {
      const alice = await (await fixture()).client("alice");
      const reply = await call(alice, "get_task_status", { taskId: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
      assert.equal(reply.isError, true);
      assert.match(reply.text, /not found/);
    });

    it("keeps a live task alive through the reaper and fails a dead worker's task", async () => {
      const made = await fixture({ heartbeatMs: 25 });
      const alice = await made.client("alice");
      // Heartbeats every 25 ms against a 250 ms limit: room for a slow CI machine.
      const reaper = startReaper(made.store, { intervalMs: 20, defaultMaxMs: 250 });
      try {
        // No worker will ever touch this one, as after a crash.
        const orphan = await made.store.create({ principal: "alice", tool: "long_job", ttlMs: 60_000 });
        const live = await started(alice, "long_job", { ms: 600 });
        const done = await until(alice, live.taskId, final);
        assert.equal(done.status, "completed", JSON.stringify(done));
        const dead = await until(alice, orphan.taskId, final);
        assert.equal(dead.status, "failed");
        assert.match(dead.error?.message ?? "", /no progress for 250 ms/);
      } finally {
        await reaper.stop();
      }
    });

    it("stops the work when the task expires", async () => {
      const made = await fixture({ ttlMs: 100, heartbeatMs: 20 });
      const alice = await made.client("alice");
      const task = await started(alice, "wait_forever");
      assert.equal(await made.settled.get(task.taskId), undefined);
      assert.ok(made.interrupted.get(task.taskId) instanceof TaskNotFound);
      assert.equal((await call(alice, "get_task_status", { taskId: task.taskId })).isError, true);
    });
  });
}

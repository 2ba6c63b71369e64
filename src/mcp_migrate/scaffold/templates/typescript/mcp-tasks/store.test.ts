/**
 * The store contract, run over every backend: the in-memory store always, Redis when
 * REDIS_URL is set (`REDIS_URL=redis://localhost:6379 node --import tsx --test mcp-tasks/*.test.ts`).
 * Redis runs get their own key prefix and delete their keys afterwards (see testing.ts).
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { RedisTaskStore } from "./redis.js";
import { InvalidTransition, TaskNotFound, type Task, type TaskStatus } from "./store.js";
import { backends, redisBackend, type Backend } from "./testing.js";

interface Transition {
  event: string;
  taskId: string;
  from: TaskStatus | null;
  to: TaskStatus;
  tool: string;
  duration_ms: number;
}

function transitions(backend: Backend, taskId: string): Transition[] {
  return backend.lines.map((line) => JSON.parse(line) as Transition).filter((line) => line.taskId === taskId);
}

const ALICE = { principal: "alice" };
const BOB = { principal: "bob" };

for (const backend of await backends()) {
  describe(`${backend.name} task store`, () => {
    after(() => backend.close());

    it("creates a durable working task with a 192-bit id", async () => {
      const store = await backend.open();
      const task = await store.create({ ...ALICE, tool: "report", arguments: { year: 2026 } });
      assert.equal(task.status, "working");
      assert.match(task.taskId, /^[A-Za-z0-9_-]{32}$/);
      assert.equal(Buffer.from(task.taskId, "base64url").length, 24);
      // Another client (another replica) sees it at once.
      const other = await backend.open();
      const seen = await other.get(task.taskId, ALICE);
      assert.deepEqual(seen.fields(), task.fields());
      const ids = await Promise.all(Array.from({ length: 50 }, () => store.create({ ...ALICE, tool: "report" })));
      assert.equal(new Set(ids.map((each) => each.taskId)).size, 50);
    });

    it("puts SEP-2663 fields on the wire, and nothing private", async () => {
      const store = await backend.open();
      const task = await store.create({
        ...ALICE,
        tool: "report",
        arguments: { secret: 1 },
        ttlMs: 60_000,
        pollIntervalMs: 500,
      });
      const wire = task.toWire();
      assert.deepEqual(Object.keys(wire).sort(), [
        "createdAt",
        "lastUpdatedAt",
        "pollIntervalMs",
        "status",
        "taskId",
        "ttlMs",
      ]);
      assert.equal(wire.createdAt, new Date(task.createdMs).toISOString());
      assert.match(wire.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(wire.ttlMs, 60_000);
      assert.equal((await store.create({ ...ALICE, tool: "report" })).toWire().ttlMs, null);
    });

    it("hides a task from other principals exactly like a missing one", async () => {
      const store = await backend.open();
      const task = await store.create({ ...ALICE, tool: "report" });
      await assert.rejects(store.get(task.taskId, BOB), TaskNotFound);
      await assert.rejects(store.cancel(task.taskId, BOB), TaskNotFound);
      await assert.rejects(store.cancel(task.taskId, { principal: "" }), TaskNotFound);
      await store.requireInput(task.taskId, { inputRequests: { q: {} } });
      await assert.rejects(store.provideInput(task.taskId, { ...BOB, inputResponses: { q: 1 } }), TaskNotFound);
      await assert.rejects(store.get("no-such-task", ALICE), TaskNotFound);
      assert.equal((await store.get(task.taskId, ALICE)).status, "input_required"); // untouched by bob
    });

    it("walks working -> input_required -> working -> completed", async () => {
      const store = await backend.open();
      const task = await store.create({ ...ALICE, tool: "book" });
      const asking = await store.requireInput(task.taskId, {
        inputRequests: { seat: { message: "Window or aisle?" } },
        message: "need a seat",
      });
      assert.equal(asking.status, "input_required");
      assert.deepEqual(asking.toWire().inputRequests, { seat: { message: "Window or aisle?" } });
      assert.equal(asking.toWire().statusMessage, "need a seat");
      await assert.rejects(store.update(task.taskId), InvalidTransition); // no heartbeat while waiting
      const answered = await store.provideInput(task.taskId, { ...ALICE, inputResponses: { seat: "aisle" } });
      assert.equal(answered.status, "working");
      assert.deepEqual(answered.inputResponses, { seat: "aisle" });
      assert.equal(answered.toWire().inputRequests, undefined);
      assert.equal(answered.statusMessage, undefined);
      const done = await store.complete(task.taskId, { result: { content: [{ type: "text", text: "booked" }] } });
      assert.deepEqual(done.toWire().result, { content: [{ type: "text", text: "booked" }] });
      assert.deepEqual(
        transitions(backend, task.taskId).map((line) => [line.from, line.to]),
        [
          [null, "working"],
          ["working", "input_required"],
          ["input_required", "working"],
          ["working", "completed"],
        ],
      );
    });

    it("accepts input only while input is required", async () => {
      const store = await backend.open();
      const task = await store.create({ ...ALICE, tool: "book" });
      await assert.rejects(store.provideInput(task.taskId, { ...ALICE, inputResponses: { a: 1 } }), InvalidTransition);
      assert.equal((await store.get(task.taskId, ALICE)).inputResponses, undefined);
    });

    it("keeps completed, failed and cancelled final", async () => {
      const store = await backend.open();
      const finish: Record<string, (id: string) => Promise<Task>> = {
        completed: (id) => store.complete(id, { result: { content: [] } }),
        failed: (id) => store.fail(id, { error: { code: -32603, message: "boom" } }),
        cancelled: (id) => store.cancel(id, ALICE),
      };
      for (const [status, end] of Object.entries(finish)) {
        const task = await store.create({ ...ALICE, tool: "report" });
        const ended = await end(task.taskId);
        assert.equal(ended.status, status);
        assert.equal(ended.terminal, true);
        const before = backend.lines.length;
        const wrong = (error: unknown) => error instanceof InvalidTransition && error.current === status;
        await assert.rejects(store.complete(task.taskId, { result: { content: [] } }), wrong);
        await assert.rejects(store.fail(task.taskId, { error: { code: 1, message: "late" } }), wrong);
        await assert.rejects(store.requireInput(task.taskId, { inputRequests: {} }), wrong);
        await assert.rejects(store.provideInput(task.taskId, { ...ALICE, inputResponses: {} }), wrong);
        await assert.rejects(store.update(task.taskId, { statusMessage: "still here" }), wrong);
        // Cancelling a finished task is not an error: the caller learns how it ended.
        assert.deepEqual((await store.cancel(task.taskId, ALICE)).fields(), ended.fields());
        assert.deepEqual((await store.get(task.taskId, ALICE)).fields(), ended.fields());
        assert.equal(backend.lines.length, before, "no transition logged after a final state");
      }
    });

    it("records failures as JSON-RPC errors", async () => {
      const store = await backend.open();
      const task = await store.create({ ...ALICE, tool: "report" });
      const failed = await store.fail(task.taskId, {
        error: { code: -32603, message: "disk full", data: { free: 0 } },
        message: "disk full",
      });
      assert.deepEqual(failed.toWire().error, { code: -32603, message: "disk full", data: { free: 0 } });
      assert.equal(failed.toWire().statusMessage, "disk full");
      assert.equal(failed.toWire().result, undefined);
    });

    it("heartbeats without logging a transition", async () => {
      const store = await backend.open();
      const task = await store.create({ ...ALICE, tool: "report" });
      const before = backend.lines.length;
      await sleep(5);
      const beat = await store.update(task.taskId, { statusMessage: "50%" });
      assert.equal(beat.status, "working");
      assert.equal(beat.statusMessage, "50%");
      assert.ok(beat.updatedMs > task.updatedMs);
      assert.equal((await store.update(task.taskId)).statusMessage, "50%"); // a bare heartbeat keeps it
      assert.equal(backend.lines.length, before);
    });

    it("stores results exactly (empty arrays and objects, unicode, numbers)", async () => {
      const store = await backend.open();
      const result = {
        content: [],
        structuredContent: { empty: {}, list: [[], [{}]], text: "zürich ✓ \u0000", n: 1.5e-7, big: 2 ** 52 },
        isError: true,
      };
      const task = await store.create({ ...ALICE, tool: "report", arguments: { nested: { list: [] } } });
      await store.complete(task.taskId, { result });
      const stored = await (await backend.open()).get(task.taskId, ALICE);
      assert.deepEqual(stored.result, result);
      assert.deepEqual(stored.arguments, { nested: { list: [] } });
      assert.equal(stored.status, "completed"); // isError results still complete
    });

    it("rejects a bad ttlMs or an empty principal", async () => {
      const store = await backend.open();
      await assert.rejects(store.create({ principal: "", tool: "report" }), RangeError);
      await assert.rejects(store.create({ ...ALICE, tool: "report", ttlMs: 0 }), RangeError);
      await assert.rejects(store.create({ ...ALICE, tool: "report", ttlMs: 1.5 }), RangeError);
    });

    it("forgets a task once its ttlMs has passed", async () => {
      const store = await backend.open();
      const task = await store.create({ ...ALICE, tool: "report", ttlMs: 150 });
      assert.equal((await store.get(task.taskId, ALICE)).taskId, task.taskId);
      await sleep(250);
      await assert.rejects(store.get(task.taskId, ALICE), TaskNotFound);
      await assert.rejects(store.complete(task.taskId, { result: {} }), TaskNotFound);
      const reaped = await store.reap({ defaultMaxMs: 1 });
      assert.equal(reaped.filter((each) => each.taskId === task.taskId).length, 0); // and the reaper skips it
    });

    it("reaps tasks stuck in working past their tool's maximum, and only those", async () => {
      const store = await backend.open();
      const stuck = await store.create({ ...ALICE, tool: "quick" });
      const patient = await store.create({ ...ALICE, tool: "slow" });
      const alive = await store.create({ ...ALICE, tool: "quick" });
      const waiting = await store.create({ ...ALICE, tool: "quick" });
      await store.requireInput(waiting.taskId, { inputRequests: { q: {} } });
      await sleep(150);
      await store.update(alive.taskId);
      const limits = { maxWorkingMs: { slow: 60_000 }, defaultMaxMs: 100 };
      const mine = new Set([stuck.taskId, patient.taskId, alive.taskId, waiting.taskId]);
      const reaped = (await store.reap(limits)).filter((task) => mine.has(task.taskId)); // earlier tests left tasks too
      assert.deepEqual(
        reaped.map((task) => task.taskId),
        [stuck.taskId],
      );
      const [failed] = reaped;
      assert.equal(failed?.status, "failed");
      assert.equal(failed?.error?.code, -32603);
      assert.match(failed?.statusMessage ?? "", /no progress for 100 ms/);
      assert.equal((await store.get(patient.taskId, ALICE)).status, "working");
      assert.equal((await store.get(alive.taskId, ALICE)).status, "working");
      assert.equal((await store.get(waiting.taskId, ALICE)).status, "input_required");
      assert.deepEqual(transitions(backend, stuck.taskId).at(-1), {
        event: "task.transition",
        taskId: stuck.taskId,
        from: "working",
        to: "failed",
        tool: "quick",
        duration_ms: failed ? failed.updatedMs - failed.createdMs : -1,
      });
      assert.equal((await store.reap(limits)).filter((task) => task.taskId === stuck.taskId).length, 0);
      // Clean up so later reaps in this suite see only their own tasks.
      await store.cancel(patient.taskId, ALICE);
      await store.cancel(alive.taskId, ALICE);
      await store.cancel(waiting.taskId, ALICE);
    });

    it("reaps each stuck task exactly once when every replica reaps at once", async () => {
      const stores = await Promise.all(Array.from({ length: 4 }, () => backend.open()));
      const [first] = stores;
      assert.ok(first);
      const stuck = await Promise.all(Array.from({ length: 12 }, () => first.create({ ...ALICE, tool: "herd" })));
      await sleep(80);
      const reaped = (await Promise.all(stores.map((store) => store.reap({ defaultMaxMs: 50 })))).flat();
      const herd = reaped.filter((task) => task.tool === "herd");
      assert.deepEqual(herd.map((task) => task.taskId).sort(), stuck.map((task) => task.taskId).sort());
      for (const task of stuck) assert.equal(transitions(backend, task.taskId).length, 2);
    });

    it("lets exactly one of several racing clients finish each task", async () => {
      const clients = await Promise.all(Array.from({ length: 5 }, () => backend.open()));
      const [first] = clients;
      assert.ok(first);
      const tasks = await Promise.all(Array.from({ length: 20 }, () => first.create({ ...ALICE, tool: "race" })));
      const attempts = tasks.flatMap((task) =>
        clients.map((store, index) => {
          const kind = (["complete", "cancel", "fail"] as const)[index % 3] ?? "complete";
          const attempt =
            kind === "complete"
              ? store.complete(task.taskId, { result: { content: [{ type: "text", text: `client ${index}` }] } })
              : kind === "fail"
                ? store.fail(task.taskId, { error: { code: -32603, message: `client ${index}` } })
                : store.cancel(task.taskId, ALICE);
          return attempt.then(
            (after) => ({ taskId: task.taskId, kind, index, after }),
            (error: unknown) => {
              assert.ok(error instanceof InvalidTransition, String(error));
              return { taskId: task.taskId, kind, index, after: undefined };
            },
          );
        }),
      );
      const outcomes = await Promise.all(attempts);
      for (const task of tasks) {
        const finals = transitions(backend, task.taskId).filter((line) => line.from !== null);
        assert.equal(finals.length, 1, `one winner for ${task.taskId}: ${JSON.stringify(finals)}`);
        const stored = await first.get(task.taskId, ALICE);
        assert.equal(stored.status, finals[0]?.to);
        const mine = outcomes.filter((outcome) => outcome.taskId === task.taskId);
        // complete/fail succeed only for the winner; every cancel reports the one final state.
        const writers = mine.filter((outcome) => outcome.kind !== "cancel" && outcome.after !== undefined);
        assert.equal(writers.length, stored.status === "cancelled" ? 0 : 1);
        for (const outcome of mine.filter((each) => each.kind === "cancel"))
          assert.equal(outcome.after?.status, stored.status);
        if (stored.status === "completed") {
          const winner = writers[0];
          assert.deepEqual(stored.result, { content: [{ type: "text", text: `client ${winner?.index}` }] });
        }
      }
    });
  });
}

const url = process.env["REDIS_URL"];
if (url) {
  describe("redis task store specifics", () => {
    it("re-sends its scripts after SCRIPT FLUSH (a restarted Redis)", async () => {
      const backend = await redisBackend(url);
      try {
        const client = await backend.client();
        const store = new RedisTaskStore(client, { prefix: backend.prefix, log: () => undefined });
        const task = await store.create({ ...ALICE, tool: "report" });
        await client.scriptFlush();
        assert.equal((await store.complete(task.taskId, { result: { content: [] } })).status, "completed");
      } finally {
        await backend.close();
      }
    });

    it("lets Redis expire the task hash with its ttlMs", async () => {
      const backend = await redisBackend(url);
      try {
        const client = await backend.client();
        const store = new RedisTaskStore(client, { prefix: backend.prefix, log: () => undefined });
        await store.create({ ...ALICE, tool: "report", ttlMs: 100 });
        assert.equal((await client.keys(`${backend.prefix}:task:*`)).length, 1);
        await sleep(200);
        assert.deepEqual(await client.keys(`${backend.prefix}:task:*`), []);
      } finally {
        await backend.close();
      }
    });
  });
}

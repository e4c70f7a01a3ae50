// Coalescing: a queue batch's D1 batches and Durable Object calls share one round trip
// per step, each caller still gets exactly its own answer, and one caller's failure stays its own.
import { describe, expect, it } from "vitest";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../workers/index";
import { Coalescer } from "../core/coalesce";
import { coalescingD1 } from "../db/coalescing-d1";
import { coalescedDoCalls } from "../workers/do-calls";
import { getWorkspaceLimiter } from "../durable-objects/workspace-limiter";
import { getProviderState } from "../durable-objects/provider-state";
import { breakerConfigSchema } from "../core/routing/breaker";
import { deliveryJob } from "../core/jobs";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

const rule = (max: number) => [{ name: "workspace:day", kind: "window" as const, period: "day" as const, max }];

describe("Coalescer", () => {
  it("sends one call per key per turn, answers each caller in order, and flushes a full group at once", async () => {
    const calls: [string, number[]][] = [];
    const c = new Coalescer<number, number>(async (key, items) => {
      calls.push([key, items]);
      return items.map((i) => i * 10);
    }, { maxItems: 3 });
    const answers = await Promise.all([c.call("a", 1), c.call("b", 2), c.call("a", 3), c.call("a", 4), c.call("a", 5)]);
    expect(answers).toEqual([10, 20, 30, 40, 50]);
    // "a" filled up at 3 items and went at once; its 4th and 5th formed a new group.
    expect(calls).toEqual([
      ["a", [1, 3, 4]],
      ["b", [2]],
      ["a", [5]],
    ]);
  });

  it("a group is sent before an item would take it over its weight", async () => {
    const calls: number[][] = [];
    const c = new Coalescer<number, number>(async (_key, items) => (calls.push(items), items), { maxItems: 10, maxWeight: 5, weigh: (n) => n });
    await Promise.all([c.call("k", 2), c.call("k", 2), c.call("k", 3), c.call("k", 1)]);
    expect(calls).toEqual([
      [2, 2],
      [3, 1],
    ]);
  });

  it("a failed or malformed call rejects every caller in its group, not other groups", async () => {
    const c = new Coalescer<number, number>(async (key, items) => {
      if (key === "boom") throw new Error("boom");
      if (key === "short") return items.slice(1);
      return items;
    }, { maxItems: 10 });
    const results = await Promise.allSettled([c.call("boom", 1), c.call("boom", 2), c.call("short", 3), c.call("short", 4), c.call("ok", 5)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected", "rejected", "fulfilled"]);
    expect((results[2] as PromiseRejectedResult).reason.message).toContain("1 results for 2 items");
  });

  it("a synchronous throw in the call becomes a rejection", async () => {
    const c = new Coalescer<number, number>(() => {
      throw new Error("sync");
    }, { maxItems: 10 });
    await expect(c.call("k", 1)).rejects.toThrow("sync");
  });
});

/** A D1 binding that counts the batches reaching D1 and passes them on. */
function countingD1() {
  const seen: number[] = [];
  const d1 = {
    prepare: (q: string) => env.DB.prepare(q),
    batch: (s: D1PreparedStatement[]) => {
      seen.push(s.length);
      return env.DB.batch(s);
    },
  } as unknown as D1Database;
  return { seen, db: coalescingD1(d1), raw: d1 };
}
const oneOn = (db: D1Database) => (n: number) => db.batch([db.prepare("SELECT ? AS v").bind(n), db.prepare("SELECT ? * 2 AS v").bind(n)]);

describe("coalescing D1", () => {
  it("concurrent batches on a coalescing view reach D1 as one, and each caller gets its own results", async () => {
    const { seen, db, raw } = countingD1();
    const one = oneOn(db);
    const out = await Promise.all([one(1), one(2), one(3)]);
    expect(out.map((r) => r.map((x) => (x.results[0] as { v: number }).v))).toEqual([
      [1, 2],
      [2, 4],
      [3, 6],
    ]);
    expect(seen).toEqual([6]);
    // On the plain binding: straight through, one batch per call.
    await Promise.all([oneOn(raw)(4), oneOn(raw)(5)]);
    expect(seen).toEqual([6, 2, 2]);
  });

  it("a caller whose statements fail gets its error; the others' writes still commit", async () => {
    const { seen, db } = countingD1();
    await env.DB.exec("CREATE TABLE IF NOT EXISTS coalesce_probe (k TEXT PRIMARY KEY)");
    const tag = crypto.randomUUID();
    const write = (k: string) => db.batch([db.prepare("INSERT INTO coalesce_probe (k) VALUES (?)").bind(k)]);
    const results = await Promise.allSettled([write(`${tag}-a`), db.batch([db.prepare("INSERT INTO no_such_table (k) VALUES (1)")]), write(`${tag}-b`)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain("no_such_table");
    // The combined batch failed and rolled back; each caller then ran on its own.
    expect(seen).toEqual([3, 1, 1, 1]);
    const rows = await env.DB.prepare("SELECT k FROM coalesce_probe WHERE k LIKE ? ORDER BY k").bind(`${tag}%`).all<{ k: string }>();
    expect(rows.results.map((r) => r.k)).toEqual([`${tag}-a`, `${tag}-b`]);
  });
});

describe("coalesced Durable Object calls", () => {
  /** The real bindings, with every call to a stub counted by method. */
  function countingEnv() {
    const calls: string[] = [];
    const wrap = <T extends { getByName(n: string): unknown }>(ns: T, label: string) =>
      ({
        getByName: (name: string) => {
          const stub = ns.getByName(name) as Record<string, (...a: unknown[]) => unknown>;
          return new Proxy(stub, {
            get: (t, p) => (...args: unknown[]) => {
              calls.push(`${label}.${String(p)}`);
              return t[p as string]!(...args);
            },
          });
        },
      }) as unknown as T;
    const e = { ...env, WORKSPACE_LIMITER: wrap(env.WORKSPACE_LIMITER, "workspace"), GLOBAL_LIMITER: wrap(env.GLOBAL_LIMITER, "global"), PROVIDER_STATE: wrap(env.PROVIDER_STATE, "provider") } as Env;
    return { calls, e };
  }

  it("one consumeMany per limiter for a turn's calls, decided in order exactly as separate calls would be", async () => {
    const { calls, e } = countingEnv();
    const ws = `ws-${crypto.randomUUID()}`;
    const now = Date.now();
    const item = (key: string, n: number) => ({ key, rules: rule(5), n, tz: "UTC", now });
    const calls1 = coalescedDoCalls(e);
    const decisions = await Promise.all([
      calls1.consumeWorkspace(ws, item("m1", 2)),
      calls1.consumeWorkspace(ws, item("m2", 2)),
      calls1.consumeWorkspace(ws, item("m1", 2)), // the same key again: counted once
      calls1.consumeWorkspace(ws, item("m3", 2)), // 2 + 2 + 2 > 5: refused
      calls1.consumeWorkspace(ws, item("m4", 1)), // still fits
    ]);
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, true]);
    expect(decisions[2]).toMatchObject({ repeated: true });
    expect(calls).toEqual(["workspace.consumeMany"]);
    // The state is the same a direct caller sees: 5 of 5 used.
    expect((await getWorkspaceLimiter(env, ws).consume("m5", rule(5), 1, "UTC", now)).allowed).toBe(false);

    calls.length = 0;
    const calls2 = coalescedDoCalls(e);
    const g = await Promise.all([1, 2, 3].map((i) => calls2.consumeGlobal("same-shard", 4, `g-${ws}-${i}`, rule(1_000_000), 1, now)));
    expect(g.every((d) => d.allowed)).toBe(true);
    expect(calls).toEqual(["global.consumeMany"]);
  });

  it("acquires and releases for one provider are one call each and leave the breaker as separate calls would", async () => {
    const { calls, e } = countingEnv();
    const ws = `ws-${crypto.randomUUID()}`;
    const cfg = breakerConfigSchema.parse({});
    const doCalls = coalescedDoCalls(e);
    const grants = await Promise.all([1, 2, 3].map(() => doCalls.acquirePermit(ws, "prv_x", cfg, null)));
    expect(grants.every((g) => g.allowed)).toBe(true);
    await Promise.all(grants.map((g) => (g.allowed ? doCalls.releasePermit(ws, "prv_x", cfg, g, "failure", 10) : null)));
    expect(calls).toEqual(["provider.acquireMany", "provider.releaseMany"]);
    const snap = await getProviderState(env, ws, "prv_x").snapshot(ws, "prv_x");
    expect(snap).toMatchObject({ consecutiveFailures: 3, inFlight: 0, state: "closed" });
  });
});

describe("a queue batch through the consumer", { timeout: 30_000 }, () => {
  it("ten messages of one workspace in one batch are all sent, each counted once by the workspace limit", async () => {
    const ws = await createWorkspace();
    const res = await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { limits: { daily: 10 } } });
    expect(res.status).toBe(200);
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) {
      const r = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: [`p${i}@example.net`] }) });
      expect(r.status).toBe(202);
      ids.push((await json(r)).id);
    }
    const batch = createMessageBatch(
      "relay-delivery",
      ids.map((id, i) => ({ id: `q${i}`, timestamp: new Date(), attempts: 1, body: deliveryJob(ws.id, id) })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(11);
    // The regular consumer may have taken some of these jobs too (claims keep it to one send each).
    const statuses = (await Promise.all(ids.map((id) => waitForStatus(ws, id, ["sent", "deferred"], 15_000)))).map((m) => m.status);
    // The workspace limit of 10 holds across the coalesced call: ten go out, the eleventh waits.
    expect(statuses.filter((s) => s === "sent")).toHaveLength(10);
    expect(statuses.filter((s) => s === "deferred")).toHaveLength(1);
  });
});

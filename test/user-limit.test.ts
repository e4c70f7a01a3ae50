// The user limit's leases (workers/user-limit.ts): a burst is counted in the isolate after one
// Durable Object call, the limit is never exceeded, and every unit not used goes back.
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { consumeUserLimit } from "../workers/user-limit";
import { getWorkspaceLimiter } from "../durable-objects/workspace-limiter";
import type { LimitRule } from "../core/limits/ledger";

const rules = (max: number): LimitRule[] => [{ name: "user:u1:day", kind: "window", period: "day", max }];

/** The real limiter binding, with its lease calls counted. */
function countingEnv() {
  const calls: { method: string; extraWant?: number }[] = [];
  const e = {
    ...env,
    WORKSPACE_LIMITER: {
      getByName: (name: string) => {
        const stub = env.WORKSPACE_LIMITER.getByName(name) as unknown as Record<string, (...a: unknown[]) => unknown>;
        return new Proxy(stub, {
          get: (t, p) => (...args: unknown[]) => {
            calls.push({ method: String(p), ...(p === "lease" ? { extraWant: args[2] as number } : {}) });
            return t[p as string]!(...args);
          },
        });
      },
    },
  } as unknown as Env;
  return { calls, e };
}

/** Units the object still allows now (asked one by one, exactly, then given back). */
async function roomOf(ws: string, max: number): Promise<number> {
  const limiter = getWorkspaceLimiter(env, ws);
  const taken = [];
  while (taken.length <= max) {
    const a = await limiter.lease(rules(max), 1, 0, "UTC", Date.now());
    if (!a.decision.allowed) break;
    taken.push(...a.items);
  }
  if (taken.length) await limiter.giveBack(taken);
  return taken.length;
}

describe("user limit leases", { timeout: 20_000 }, () => {
  it("a burst of 40 costs a handful of object calls; once the lease ends the unused units are back", async () => {
    const { calls, e } = countingEnv();
    const ws = `ws-${crypto.randomUUID()}`;
    const deferred: Promise<unknown>[] = [];
    const defer = (p: Promise<unknown>) => void deferred.push(p);
    let allowed = 0;
    for (let i = 0; i < 40; i++) {
      const r = await consumeUserLimit(e, ws, "u1", rules(200), 1, "UTC", Date.now(), defer);
      if (r.decision.allowed) allowed++;
    }
    expect(allowed).toBe(40);
    const leases = calls.filter((c) => c.method === "lease");
    expect(leases.length).toBeLessThan(6);
    expect(leases[0]!.extraWant).toBe(0); // the first message after a quiet spell asks for nothing more
    await Promise.all(deferred); // the lease's time runs out: its rest goes back
    expect(await roomOf(ws, 200)).toBe(160);
  });

  it("a refund goes back too, whether its unit came from the object or from a lease", async () => {
    const { e } = countingEnv();
    const ws = `ws-${crypto.randomUUID()}`;
    const deferred: Promise<unknown>[] = [];
    const defer = (p: Promise<unknown>) => void deferred.push(p);
    const first = await consumeUserLimit(e, ws, "u1", rules(50), 2, "UTC", Date.now(), defer); // from the object
    const second = await consumeUserLimit(e, ws, "u1", rules(50), 2, "UTC", Date.now(), defer); // leases more
    const third = await consumeUserLimit(e, ws, "u1", rules(50), 2, "UTC", Date.now(), defer); // from the lease
    expect([first, second, third].every((r) => r.decision.allowed)).toBe(true);
    await first.refund();
    await third.refund();
    await Promise.all(deferred);
    expect(await roomOf(ws, 50)).toBe(48);
  });

  it("near the limit units are asked for one by one, and the limit holds exactly", async () => {
    const { e } = countingEnv();
    const ws = `ws-${crypto.randomUUID()}`;
    const deferred: Promise<unknown>[] = [];
    const defer = (p: Promise<unknown>) => void deferred.push(p);
    const answers = await Promise.all(Array.from({ length: 30 }, () => consumeUserLimit(e, ws, "u1", rules(20), 1, "UTC", Date.now(), defer)));
    expect(answers.filter((a) => a.decision.allowed)).toHaveLength(20);
    await Promise.all(deferred);
    expect(await roomOf(ws, 20)).toBe(0);
  });

  it("without waitUntil every message asks the object and nothing is leased", async () => {
    const { calls, e } = countingEnv();
    const ws = `ws-${crypto.randomUUID()}`;
    for (let i = 0; i < 5; i++) expect((await consumeUserLimit(e, ws, "u1", rules(100), 1, "UTC", Date.now())).decision.allowed).toBe(true);
    expect(calls.filter((c) => c.method === "lease").map((c) => c.extraWant)).toEqual([0, 0, 0, 0, 0]);
    expect(await roomOf(ws, 100)).toBe(95);
  });
});

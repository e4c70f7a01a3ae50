// Provider quotas: an exhausted provider is skipped by routing like an open breaker.
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, waitForStatus } from "./helpers";
import { accept, addProvider, FAST_RETRY, mailgunProvider, setRetryPolicy, sim, uniq } from "./simulators/delivery-fixtures";

describe("provider quotas", { timeout: 30_000 }, () => {
  it("the primary's daily quota used up → the rest go through the secondary", async () => {
    const a = `${uniq("mg")}.example.org`;
    const b = `${uniq("mg")}.example.org`;
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    const primary = await addProvider(ws, { ...mailgunProvider(a, { priority: 1 }), quota: { daily: 2 } });
    const secondary = await addProvider(ws, mailgunProvider(b, { priority: 2 }));
    const used: string[] = [];
    for (let i = 0; i < 4; i++) {
      const acc = await accept(ws);
      used.push((await waitForStatus(ws, acc.id, ["sent"], 10_000)).recipients[0].provider_id);
    }
    expect(used).toEqual([primary, primary, secondary, secondary]);
    expect((await sim().counts(a)).mailgun).toBe(2);
    const listed = (await json(await api("/v1/providers", { key: ws.key }))).data;
    expect(listed.find((p: any) => p.id === primary).quota).toEqual({ daily: 2, per_second: null });
    expect(listed.find((p: any) => p.id === secondary).quota).toEqual({ daily: 100_000, per_second: null });
  });

  it("with the only provider's quota used up, the message waits for the quota's reset", async () => {
    const a = `${uniq("mg")}.example.org`;
    const ws = await createWorkspace({ provider: null });
    // The wait (until midnight UTC) must fit in the maximum age, or the message is failed instead.
    await setRetryPolicy(ws, { ...FAST_RETRY, max_age_seconds: 2 * 86_400 });
    const only = await addProvider(ws, mailgunProvider(a, { priority: 1 }));
    expect((await api(`/v1/providers/${only}`, { method: "PATCH", key: ws.key, json: { quota: { daily: 1 } } })).status).toBe(200);
    await waitForStatus(ws, (await accept(ws)).id, ["sent"], 10_000);
    const held = await waitForStatus(ws, (await accept(ws)).id, ["deferred"], 10_000);
    expect(held.last_error).toContain("quota used up");
    expect(held.attempt_count).toBe(0);
    const midnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1);
    expect(Date.parse(held.attempts.at(-1).started_at)).toBeLessThan(midnight);
    // Removing the quota override restores the type default.
    expect((await api(`/v1/providers/${only}`, { method: "PATCH", key: ws.key, json: { quota: { daily: null } } })).status).toBe(200);
  });
});

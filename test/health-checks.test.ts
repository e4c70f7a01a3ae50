// Provider health checks end to end: the job probes and records (and prunes), routing leaves out a
// provider whose latest check is unhealthy, the API shows the latest check and can probe on demand,
// and cron/alarm share one interval guard.
import { and, desc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../workers/index";
import { getDb } from "../db/client";
import { healthChecks } from "../db/schema";
import { latestHealth } from "../db/health-checks";
import { getSweeper, type Sweeper } from "../durable-objects/sweeper";
import { HEALTH_RETENTION_MS, healthMaxAgeMs, runHealthChecks } from "../workers/health-checks";
import { newId } from "../core/ids";
import { api, createWorkspace, json, waitForStatus, type TestWorkspace } from "./helpers";
import { accept, addProvider, FAST_RETRY, mailgunProvider, setRetryPolicy, sim, uniq } from "./simulators/delivery-fixtures";

const db = () => getDb(env.DB);

const checksOf = (providerId: string) =>
  db().select().from(healthChecks).where(eq(healthChecks.providerId, providerId)).orderBy(desc(healthChecks.checkedAt)).all();

const insertCheck = (ws: TestWorkspace, providerId: string, status: "healthy" | "degraded" | "unhealthy", checkedAt: number) =>
  db().insert(healthChecks).values({ id: newId("hc"), providerId, workspaceId: ws.id, status, latencyMs: 1, detail: "seeded", checkedAt }).run();

/** A workspace with two Mailgun providers (priority 1 and 2) and the fast retry policy. */
async function twoMailguns() {
  const ws = await createWorkspace({ provider: null });
  await setRetryPolicy(ws, FAST_RETRY);
  const d1 = `${uniq("mg1")}.example.org`;
  const d2 = `${uniq("mg2")}.example.org`;
  const first = await addProvider(ws, mailgunProvider(d1, { priority: 1, name: "first" }));
  const second = await addProvider(ws, mailgunProvider(d2, { priority: 2, name: "second" }));
  return { ws, d1, d2, first, second };
}

const sendOne = async (ws: TestWorkspace) => {
  const acc = await accept(ws);
  return waitForStatus(ws, acc.id, ["sent", "failed"], 15_000);
};

describe("health-check job", { timeout: 30_000 }, () => {
  it("probes every enabled provider of every workspace, records the results and prunes checks older than 7 days", async () => {
    const a = await createWorkspace(); // sandbox provider
    const b = await createWorkspace({ provider: null });
    const mgDomain = `${uniq("mg")}.example.org`;
    const good = await addProvider(b, mailgunProvider(mgDomain, { priority: 1 }));
    const badKey = await addProvider(b, { ...mailgunProvider(`${uniq("mg")}.example.org`, { priority: 2 }), credentials: { api_key: "key-wrong-0123456789" } });
    const disabled = await addProvider(b, { ...mailgunProvider(`${uniq("mg")}.example.org`), enabled: false });
    const now = Date.now();
    await insertCheck(b, good, "unhealthy", now - HEALTH_RETENTION_MS - 60_000); // too old: pruned
    await insertCheck(b, good, "degraded", now - HEALTH_RETENTION_MS + 60_000); // kept

    const summary = await runHealthChecks(env, now);
    expect(summary.checked).toBeGreaterThanOrEqual(3);

    expect((await checksOf(a.providerId)).map((c) => c.status)).toEqual(["healthy"]);
    const goodChecks = await checksOf(good);
    expect(goodChecks.map((c) => [c.status, c.checkedAt])).toEqual([
      ["healthy", now],
      ["degraded", now - HEALTH_RETENTION_MS + 60_000],
    ]);
    expect((await sim().counts(mgDomain))["mailgun-domain"]).toBe(1);
    const [bad] = await checksOf(badKey);
    expect(bad).toMatchObject({ status: "unhealthy", workspaceId: b.id, detail: expect.stringMatching(/401.*API key rejected/) });
    expect(await checksOf(disabled)).toEqual([]);

    // latestHealth: newest per provider, scoped to the workspace.
    const latest = await latestHealth(db(), b.id, [good, badKey, disabled]);
    expect([...latest.keys()].sort()).toEqual([badKey, good].sort());
    expect(latest.get(good)?.status).toBe("healthy");
    expect((await latestHealth(db(), a.id, [good])).size).toBe(0);
  });

  it("cron and the Sweeper alarm share one interval guard", async () => {
    const ws = await createWorkspace();
    const sweeper = getSweeper(env);
    await runInDurableObject(sweeper, (_i: Sweeper, state) => state.storage.delete("health_run_at"));
    const cron = async () => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
      await waitOnExecutionContext(ctx);
    };
    await cron();
    expect(await checksOf(ws.providerId)).toHaveLength(1);
    await cron(); // within HEALTH_CHECK_INTERVAL_SECONDS: no second run
    expect(await checksOf(ws.providerId)).toHaveLength(1);

    const interval = Number(env.HEALTH_CHECK_INTERVAL_SECONDS) * 1000;
    const t = await runInDurableObject(sweeper, async (i: Sweeper, state) => (await state.storage.get<number>("health_run_at"))!);
    expect(await runInDurableObject(sweeper, (i: Sweeper) => i.claimHealthRun(t + interval - 1, interval))).toBe(false);
    expect(await runInDurableObject(sweeper, (i: Sweeper) => i.claimHealthRun(t + interval, interval))).toBe(true);
    expect(await runInDurableObject(sweeper, (i: Sweeper) => i.claimHealthRun(t + interval + 1, interval))).toBe(false);
    // The alarm path runs the job when due (and only then).
    await runInDurableObject(sweeper, (_i: Sweeper, state) => state.storage.delete("health_run_at"));
    expect(await runDurableObjectAlarm(sweeper)).toBe(true);
    expect(await checksOf(ws.providerId)).toHaveLength(2);
    await runInDurableObject(sweeper, (_i: Sweeper, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await runDurableObjectAlarm(sweeper)).toBe(true);
    expect(await checksOf(ws.providerId)).toHaveLength(2);
    await runInDurableObject(sweeper, (_i: Sweeper, state) => state.storage.delete("health_run_at"));
  });
});

describe("routing leaves out unhealthy providers", { timeout: 60_000 }, () => {
  it("priority 1 unhealthy → mail goes via priority 2 without an attempt on provider 1; healthy again → back to 1", async () => {
    const { ws, d1, d2, first, second } = await twoMailguns();
    // Provider 1's key cannot read its domain (the probe fails) although sends would work:
    // only the health check can keep mail away from it here.
    await sim().addFault({ target: "mailgun-domain", scope: d1, status: 401, body: "Forbidden" });
    const res = await api(`/v1/providers/${first}/health-check`, { method: "POST", key: ws.key });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: "unhealthy", detail: expect.stringMatching(/401/) });

    const done = await sendOne(ws);
    expect(done.status).toBe("sent");
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]).toMatchObject({ outcome: "sent", provider_id: second });
    expect((await sim().counts(d1)).mailgun).toBeUndefined();
    expect((await sim().counts(d2)).mailgun).toBe(1);
    // The breaker saw nothing: it was never asked.
    const listed = (await json(await api("/v1/providers", { key: ws.key }))).data;
    expect(listed.find((p: any) => p.id === first).breaker.recent_calls).toBe(0);

    await sim().clearFaults(d1);
    expect(await json(await api(`/v1/providers/${first}/health-check`, { method: "POST", key: ws.key }))).toMatchObject({ status: "healthy" });
    const back = await sendOne(ws);
    expect(back.attempts.map((a: any) => a.provider_id)).toEqual([first]);
  });

  it("an unhealthy check older than twice the interval no longer counts; degraded never excludes", async () => {
    const { ws, first } = await twoMailguns();
    await insertCheck(ws, first, "unhealthy", Date.now() - healthMaxAgeMs(env) - 1000);
    expect((await sendOne(ws)).recipients[0].provider_id).toBe(first);
    await insertCheck(ws, first, "degraded", Date.now());
    expect((await sendOne(ws)).recipients[0].provider_id).toBe(first);
  });

  it("every provider unhealthy: the original order is kept (breakers and force-send decide)", async () => {
    const { ws, first, second } = await twoMailguns();
    await insertCheck(ws, first, "unhealthy", Date.now());
    await insertCheck(ws, second, "unhealthy", Date.now());
    const done = await sendOne(ws);
    expect(done.status).toBe("sent");
    expect(done.attempts.map((a: any) => a.provider_id)).toEqual([first]);
  });
});

describe("provider health in the API", { timeout: 30_000 }, () => {
  it("GET /v1/providers shows the latest check (null before the first); the on-demand check records a row", async () => {
    const { ws, first, second } = await twoMailguns();
    const list = async () => Object.fromEntries((await json(await api("/v1/providers", { key: ws.key }))).data.map((p: any) => [p.id, p.health]));
    expect(await list()).toEqual({ [first]: null, [second]: null });

    const res = await api(`/v1/providers/${first}/health-check`, { method: "POST", key: ws.key });
    expect(res.status).toBe(200);
    const check = await json(res);
    expect(check).toEqual({ status: "healthy", latency_ms: expect.any(Number), detail: null, checked_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect((await list())[first]).toEqual(check);
    expect((await list())[second]).toBeNull();
    expect(await db().select().from(healthChecks).where(and(eq(healthChecks.providerId, first), eq(healthChecks.workspaceId, ws.id))).all()).toHaveLength(1);

    // Breaker reset answers with the same shape.
    const reset = await json(await api(`/v1/providers/${first}/breaker/reset`, { method: "POST", key: ws.key }));
    expect(reset.health).toEqual(check);
  });

  it("a disabled provider can be checked; another workspace's provider is 404; admin scope required", async () => {
    const { ws, second } = await twoMailguns();
    await api(`/v1/providers/${second}`, { method: "PATCH", key: ws.key, json: { enabled: false } });
    expect((await api(`/v1/providers/${second}/health-check`, { method: "POST", key: ws.key })).status).toBe(200);
    const other = await createWorkspace();
    expect((await api(`/v1/providers/${second}/health-check`, { method: "POST", key: other.key })).status).toBe(404);
    const sendOnly = await ws.keyWith(["send"]);
    expect((await api(`/v1/providers/${second}/health-check`, { method: "POST", key: sendOnly })).status).toBe(403);
  });
});

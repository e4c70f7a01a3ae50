import { describe, expect, it } from "vitest";
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../workers/index";
import { getSweeper, type JobClaims, type Sweeper } from "../durable-objects/sweeper";
import { PERIODIC_JOBS, RETENTION_INTERVAL_MS, runPeriodicJobs, type PeriodicJob } from "../workers/periodic-jobs";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

const DAY = 86_400_000;

/** Claims kept in memory, as the Sweeper keeps them. */
function memoryClaims(): JobClaims & { last: Map<string, number> } {
  const last = new Map<string, number>();
  return {
    last,
    claimRun: async (job, now, intervalMs) => {
      if (now - (last.get(job) ?? 0) < intervalMs) return false;
      last.set(job, now);
      return true;
    },
    forgetRun: async (job) => void last.delete(job),
  };
}

describe("sweeper", () => {
  it("the cron handler arms the Sweeper's alarm, and the alarm re-arms itself", async () => {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const stub = getSweeper(env);
    const first = await runInDurableObject(stub, (_i: Sweeper, state) => state.storage.getAlarm());
    expect(first).toBeGreaterThan(Date.now());
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const second = await runInDurableObject(stub, (_i: Sweeper, state) => state.storage.getAlarm());
    expect(second).toBeGreaterThan(Date.now());
  });

  it("one list of named jobs, retention among them; one failing job does not stop the others", async () => {
    expect(PERIODIC_JOBS.map((j) => j.name)).toEqual(["outbox", "webhooks", "health", "retention"]);
    const ran: string[] = [];
    const jobs: PeriodicJob[] = [
      { name: "first", run: async () => void ran.push("first") },
      { name: "broken", run: async () => Promise.reject(new Error("D1 unavailable")) },
      { name: "hourly", minIntervalMs: () => 3_600_000, run: async () => void ran.push("hourly") },
      { name: "backlog", minIntervalMs: () => 3_600_000, run: async () => (ran.push("backlog"), true) },
    ];
    const claims = memoryClaims();
    const t = 1_800_000_000_000;
    expect(await runPeriodicJobs(env, t, claims, jobs)).toEqual([
      { job: "first", status: "ran" },
      { job: "broken", status: "failed" },
      { job: "hourly", status: "ran" },
      { job: "backlog", status: "ran", more: true },
    ]);
    // A minute later: the hourly job is not due; the one that left work behind runs again.
    const again = await runPeriodicJobs(env, t + 60_000, claims, jobs);
    expect(again.map((r) => `${r.job}:${r.status}`)).toEqual(["first:ran", "broken:failed", "hourly:not_due", "backlog:ran"]);
    expect(ran).toEqual(["first", "hourly", "backlog", "first", "backlog"]);
  });

  it("the Sweeper's alarm runs retention, at most once per retention interval", async () => {
    const ws = await createWorkspace();
    const sent = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws) }));
    await waitForStatus(ws, sent.id, ["sent"]);
    // Accepted 31 days ago: past the default 30-day retention.
    await env.DB.prepare("UPDATE messages SET queued_at = ? WHERE id = ?").bind(Date.now() - 31 * DAY, sent.id).run();
    const purgedAt = async () => (await env.DB.prepare("SELECT body_purged_at FROM messages WHERE id = ?").bind(sent.id).first<{ body_purged_at: number | null }>())!.body_purged_at;

    const sweeper = getSweeper(env);
    const dueNow = () =>
      runInDurableObject(sweeper, async (_i: Sweeper, state) => {
        await state.storage.delete("full_sweep_at");
        await state.storage.setAlarm(Date.now() + 60_000);
      });
    await runInDurableObject(sweeper, (_i: Sweeper, state) => state.storage.put("retention_run_at", Date.now()));
    await dueNow();
    expect(await runDurableObjectAlarm(sweeper)).toBe(true);
    expect(await purgedAt()).toBeNull(); // ran within the hour: not due

    await runInDurableObject(sweeper, (_i: Sweeper, state) => state.storage.put("retention_run_at", Date.now() - RETENTION_INTERVAL_MS));
    await dueNow();
    expect(await runDurableObjectAlarm(sweeper)).toBe(true);
    expect(await purgedAt()).toBeGreaterThan(0);
    const lastRun = await runInDurableObject(sweeper, (_i: Sweeper, state) => state.storage.get<number>("retention_run_at"));
    expect(lastRun).toBeGreaterThan(Date.now() - 60_000);
  });
});

// Give-up after the retry policy's max age (on a fake clock, calling the pipeline directly),
// and the dead-letter queue's consumer failing whatever lands there.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deliveryJob } from "../core/jobs";
import worker from "../workers/index";
import { runDelivery } from "../workers/dispatcher/pipeline";
import { soloContext } from "../workers/dispatcher/batch-context";
import { api, json, waitForStatus, type TestWorkspace } from "./helpers";
import { accept, mailgunProvider, sim, uniq, workspaceWith } from "./simulators/delivery-fixtures";

const detail = async (ws: TestWorkspace, id: string) => json(await api(`/v1/messages/${id}`, { key: ws.key }));

describe("give-up after the policy's max age", { timeout: 30_000 }, () => {
  it("retries while young, then marks failed with the last reason once the next retry would pass max_age", async () => {
    const domain = `${uniq("mg")}.example.org`;
    // Retry after 60 s, then 120 s, then 240 s…; give up after 5 minutes.
    const ws = await workspaceWith(mailgunProvider(domain), { base_seconds: 60, factor: 2, cap_seconds: 600, max_age_seconds: 300 });
    await sim().addFault({ target: "mailgun", scope: domain, status: 503 });

    // The real consumer makes the first attempt and schedules the next in 60 s.
    const acc = await accept(ws);
    const first = await waitForStatus(ws, acc.id, ["deferred", "sent", "failed"], 10_000);
    expect(first.status).toBe("deferred");
    expect(first.attempts.map((a: any) => a.outcome)).toEqual(["transient"]);
    const queuedAt = Date.parse(first.queued_at);
    const deps = (offsetSeconds: number) => soloContext(env, () => queuedAt + offsetSeconds * 1000);

    // Two minutes in: still young enough (next retry at 4 min < 5 min).
    const young = await runDelivery(deps(120), { workspaceId: ws.id, messageId: acc.id, deliveryId: "dlv_fake_clock_1" });
    expect(young).toMatchObject({ kind: "later", delaySeconds: 120 });
    expect((await detail(ws, acc.id)).status).toBe("deferred");

    // Six and a half minutes in: the attempt fails again and the next retry would pass max age.
    const old = await runDelivery(deps(390), { workspaceId: ws.id, messageId: acc.id, deliveryId: "dlv_fake_clock_2" });
    expect(old).toEqual({ kind: "done", status: "failed" });
    const done = await detail(ws, acc.id);
    expect(done.status).toBe("failed");
    expect(done.attempt_count).toBe(3);
    expect(done.attempts.map((a: any) => a.outcome)).toEqual(["transient", "transient", "transient"]);
    expect(done.last_error).toMatch(/^gave up after 3 attempts: Mailgun 503/);
    expect(done.recipients[0]).toMatchObject({ status: "failed", last_error: expect.stringMatching(/gave up after 3 attempts: Mailgun 503/) });
    expect((await sim().counts(domain)).mailgun).toBe(3);

    // The job the consumer scheduled earlier finds nothing pending and changes nothing.
    expect(await runDelivery(deps(400), { workspaceId: ws.id, messageId: acc.id, deliveryId: "dlv_fake_clock_3" })).toEqual({ kind: "done", status: "failed" });
    expect((await sim().counts(domain)).mailgun).toBe(3);
    await sim().clearFaults(domain);
  });
});

describe("dead-letter queue", { timeout: 30_000 }, () => {
  const dlqBatch = (messages: { id: string; body: unknown }[]) =>
    createMessageBatch("relay-delivery-dlq", messages.map((m) => ({ ...m, timestamp: new Date(), attempts: 11 })));

  it("marks the pending recipients of a dead-lettered job failed, leaves delivered ones alone, acks everything", async () => {
    // A message stuck in retry (sandbox always transient, next retry in 10 minutes)…
    const stuckWs = await workspaceWith({ name: "always busy", type: "sandbox", config: { simulate: "transient" } }, { base_seconds: 600, factor: 2, cap_seconds: 3600, max_age_seconds: 86_400 });
    const stuck = await accept(stuckWs, { to: ["a@example.net", "b@example.net"] });
    expect((await waitForStatus(stuckWs, stuck.id, ["deferred"], 10_000)).status).toBe("deferred");
    // …and one already delivered.
    const okWs = await workspaceWith({ name: "sandbox", type: "sandbox" });
    const ok = await accept(okWs);
    expect((await waitForStatus(okWs, ok.id, ["sent"], 10_000)).status).toBe("sent");

    const batch = dlqBatch([
      { id: "dlq-stuck", body: deliveryJob(stuckWs.id, stuck.id) },
      { id: "dlq-sent", body: deliveryJob(okWs.id, ok.id) },
      { id: "dlq-garbage", body: { not: "a job" } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect([...result.explicitAcks].sort()).toEqual(["dlq-garbage", "dlq-sent", "dlq-stuck"]);
    expect(result.retryMessages).toEqual([]);

    const failed = await detail(stuckWs, stuck.id);
    expect(failed.status).toBe("failed");
    for (const r of failed.recipients) expect(r).toMatchObject({ status: "failed", last_error: expect.stringMatching(/dead-lettered/) });
    const sent = await detail(okWs, ok.id);
    expect(sent.status).toBe("sent");
    expect(sent.recipients[0].status).toBe("sent");
  });
});

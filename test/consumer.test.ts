import { describe, expect, it } from "vitest";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../workers/index";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

async function deliverNow(workspaceId: string, messageId: string, attempts = 1) {
  const batch = createMessageBatch("relay-delivery", [
    { id: `job-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body: { v: 1, workspaceId, messageId } },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

describe("the delivery consumer", async () => {
  const ws = await createWorkspace();

  it("redelivery of an already-sent job does nothing", async () => {
    const sent = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws) }));
    const done = await waitForStatus(ws, sent.id, ["sent"]);
    expect(done.attempts).toHaveLength(1);
    const rendered = await (await api(`/v1/messages/${sent.id}/rendered`, { key: ws.key })).text();

    const result = await deliverNow(ws.id, sent.id, 2);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    const after = await json(await api(`/v1/messages/${sent.id}`, { key: ws.key }));
    expect(after.attempts).toHaveLength(1);
    expect(after.recipients[0].attempts).toBe(1);
    expect(await (await api(`/v1/messages/${sent.id}/rendered`, { key: ws.key })).text()).toBe(rendered);
  });

  it("a job that fails before any provider call hands its claim back: recipients pending again, no attempt counted", async () => {
    const sent = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["x@example.net", "y@example.net"] }) }));
    await waitForStatus(ws, sent.id, ["sent"]);
    // Made pending again with a body that cannot be decrypted: the render step throws.
    await env.DB.batch([
      env.DB.prepare("update message_recipients set status = 'queued', attempts = 0, sent_at = null where message_id = ?").bind(sent.id),
      env.DB.prepare("update messages set status = 'queued', body_enc = 'not-a-ciphertext' where id = ?").bind(sent.id),
    ]);
    const result = await deliverNow(ws.id, sent.id);
    expect(result.retryMessages).toHaveLength(1); // the crash is retried by the queue
    const rows = await env.DB.prepare("select status, attempts from message_recipients where message_id = ? order by email").bind(sent.id).all();
    expect(rows.results).toEqual([
      { status: "queued", attempts: 0 },
      { status: "queued", attempts: 0 },
    ]);
    const msg = await env.DB.prepare("select status from messages where id = ?").bind(sent.id).first<{ status: string }>();
    expect(msg!.status).toBe("queued");
  });

  it("acknowledges a job for a message that does not exist", async () => {
    const result = await deliverNow(ws.id, "msg_doesnotexist");
    expect(result.explicitAcks).toHaveLength(1);
  });

  it("acknowledges an unparseable job instead of retrying it forever", async () => {
    const batch = createMessageBatch("relay-delivery", [{ id: "bad", timestamp: new Date(), attempts: 1, body: { nope: true } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["bad"]);
  });

  it("a transient failure defers with a retry time and the reason; status is derived from recipients", async () => {
    const flaky = await createWorkspace({ provider: { name: "flaky", type: "sandbox", config: { simulate: "transient" } } });
    const sent = await json(await api("/v1/messages", { method: "POST", key: flaky.key, json: message(flaky, { to: ["a@example.net", "b@example.net"] }) }));
    const done = await waitForStatus(flaky, sent.id, ["deferred"]);
    expect(done.recipients.map((r: any) => r.status)).toEqual(["deferred", "deferred"]);
    expect(done.last_error).toContain("simulated temporary failure");
    expect(done.attempts[0].outcome).toBe("transient");
    const row = await env.DB.prepare("select not_before, queued_at from messages where id = ?").bind(sent.id).first<{ not_before: number; queued_at: number }>();
    expect(row!.not_before).toBeGreaterThan(row!.queued_at + 30_000); // default backoff starts at 60 s
    // A job arriving before the retry time waits instead of calling the provider again.
    const early = await deliverNow(flaky.id, sent.id);
    expect(early.explicitAcks).toHaveLength(1);
    expect((await json(await api(`/v1/messages/${sent.id}`, { key: flaky.key }))).attempts).toHaveLength(1);
  });

  it("a permanent failure fails only the refused recipient; the rest are sent", async () => {
    const picky = await createWorkspace({ provider: { name: "picky", type: "sandbox", config: { fail_recipients: ["bad@example.net"] } } });
    const sent = await json(await api("/v1/messages", { method: "POST", key: picky.key, json: message(picky, { to: ["good@example.net", "bad@example.net"] }) }));
    const done = await waitForStatus(picky, sent.id, ["partially_failed"]);
    const byEmail = Object.fromEntries(done.recipients.map((r: any) => [r.email, r]));
    expect(byEmail["good@example.net"].status).toBe("sent");
    expect(byEmail["bad@example.net"].status).toBe("failed");
    expect(byEmail["bad@example.net"].last_error).toContain("5.1.1");
  });

  it("the dead-letter consumer fails whatever is still pending", async () => {
    const flaky = await createWorkspace({ provider: { name: "flaky", type: "sandbox", config: { simulate: "transient" } } });
    const sent = await json(await api("/v1/messages", { method: "POST", key: flaky.key, json: message(flaky) }));
    await waitForStatus(flaky, sent.id, ["deferred"]);
    const batch = createMessageBatch("relay-delivery-dlq", [{ id: "dead", timestamp: new Date(), attempts: 1, body: { v: 1, workspaceId: flaky.id, messageId: sent.id } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["dead"]);
    const after = await json(await api(`/v1/messages/${sent.id}`, { key: flaky.key }));
    expect(after.status).toBe("failed");
    expect(after.recipients[0].last_error).toContain("dead-lettered");
  });

  it("cancel stops recipients not yet handed to a provider", async () => {
    const flaky = await createWorkspace({ provider: { name: "flaky", type: "sandbox", config: { simulate: "transient" } } });
    const sent = await json(await api("/v1/messages", { method: "POST", key: flaky.key, json: message(flaky) }));
    await waitForStatus(flaky, sent.id, ["deferred"]);
    const res = await api(`/v1/messages/${sent.id}/cancel`, { method: "POST", key: flaky.key });
    expect(res.status).toBe(200);
    expect((await json(res)).status).toBe("cancelled");
    const again = await api(`/v1/messages/${sent.id}/cancel`, { method: "POST", key: flaky.key });
    expect(again.status).toBe(409);
    // and the consumer leaves it alone
    await deliverNow(flaky.id, sent.id);
    expect((await json(await api(`/v1/messages/${sent.id}`, { key: flaky.key }))).attempts).toHaveLength(1);
  });
});

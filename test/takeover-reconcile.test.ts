// Duplicates after a crash (README Guarantees), end to end through the real queue against the
// provider simulators. The window checked here: the provider answered, its report reached the
// provider's Durable Object (it is sent as soon as the provider answers, beside the D1 record),
// and the consumer was killed before the D1 record. What a kill leaves is simulated: the
// recipient `sending` under a lapsed claim, the call's report in the object.
//   - a reported 2xx: the takeover records `sent` with that provider and message id, no call;
//   - a reported failure: the resend goes to that same provider, not the priority order;
//   - two calls granted in the same millisecond: one's report does not take the other's lease.
// And the kill with the call in flight (no report reached the object: an orphaned call) on a
// Mailgun provider: Mailgun's Events API is asked by Message-ID before the resend.
//   - Mailgun took it: recorded `sent` from its accepted events, no second messages.mime;
//   - Mailgun never got it: resent once, to that same provider;
//   - the events API errs: resent (nothing lost).
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { breakerConfigSchema } from "../core/routing/breaker";
import { callLeaseMs } from "../core/routing/leases";
import { deliveryJob } from "../core/jobs";
import { getProviderState } from "../durable-objects/provider-state";
import { createWorkspace, waitForStatus } from "./helpers";
import { accept, addProvider, mailgunProvider, setRetryPolicy, sim, sims, uniq } from "./simulators/delivery-fixtures";
import { socketFetch } from "./simulators/workerd-client";

const SLOW_RETRY = { base_seconds: 300, factor: 1, cap_seconds: 300, max_age_seconds: 86_400 };
const cfg = breakerConfigSchema.parse({});
const mailgunCalls = async (domain: string) => (await sim().counts(domain)).mailgun ?? 0;

/** Two Mailgun providers (priority 1 and 2) and a message deferred on both, then both healthy again. */
async function deferredOnBoth() {
  const ws = await createWorkspace({ provider: null });
  await setRetryPolicy(ws, SLOW_RETRY);
  const d1 = `${uniq("mg1")}.example.org`;
  const d2 = `${uniq("mg2")}.example.org`;
  const first = await addProvider(ws, mailgunProvider(d1, { priority: 1, name: "first" }));
  const second = await addProvider(ws, mailgunProvider(d2, { priority: 2, name: "second" }));
  await sim().addFault({ target: "mailgun", scope: d1, status: 503 });
  await sim().addFault({ target: "mailgun", scope: d2, status: 503 });
  const { id } = await accept(ws);
  await waitForStatus(ws, id, ["deferred"], 15_000);
  await sim().clearFaults(d1);
  await sim().clearFaults(d2);
  const rows = await env.DB.prepare(`select id from message_recipients where message_id = ?`).bind(id).all<{ id: string }>();
  return { ws, d1, d2, first, second, id, recipientIds: rows.results.map((r) => r.id) };
}

/**
 * What a kill right after the report leaves: the recipients `sending` under a claim taken 10
 * minutes ago (lapsed), and on `providerId`'s object the call granted then and reported back.
 */
async function killedAfterReport(m: Awaited<ReturnType<typeof deferredOnBoth>>, providerId: string, answer: { sent: true; providerMessageId: string } | { sent: false }) {
  const claimedAt = Date.now() - 600_000;
  await env.DB.batch([
    env.DB.prepare(`update message_recipients set status = 'sending', updated_at = ?, lease_until = ? where message_id = ?`).bind(claimedAt, claimedAt + 40_000, m.id),
    env.DB.prepare(`update messages set status = 'sending', not_before = null, waiting_on = null where id = ?`).bind(m.id),
  ]);
  const stub = getProviderState(env, m.ws.id, providerId);
  const grant = await stub.acquire(m.ws.id, providerId, cfg, null, claimedAt + 100, callLeaseMs("mailgun", {}), m.id);
  if (!grant.allowed) throw new Error("refused");
  const report = { key: m.id, recipients: m.recipientIds, startedAt: claimedAt + 150, ...answer };
  await stub.release(m.ws.id, providerId, cfg, grant, answer.sent ? "success" : "failure", 300, claimedAt + 450, report);
}

/**
 * What a kill with the call in flight leaves: the recipients `sending` under a claim taken 10
 * minutes ago (lapsed), and on `providerId`'s object the call granted then, never reported (its
 * lease ended: an orphan).
 */
async function killedInFlight(m: Awaited<ReturnType<typeof deferredOnBoth>>, providerId: string) {
  const claimedAt = Date.now() - 600_000;
  await env.DB.batch([
    env.DB.prepare(`update message_recipients set status = 'sending', updated_at = ?, lease_until = ? where message_id = ?`).bind(claimedAt, claimedAt + 40_000, m.id),
    env.DB.prepare(`update messages set status = 'sending', not_before = null, waiting_on = null where id = ?`).bind(m.id),
  ]);
  const stub = getProviderState(env, m.ws.id, providerId);
  const grant = await stub.acquire(m.ws.id, providerId, cfg, null, claimedAt + 100, callLeaseMs("mailgun", {}), m.id);
  if (!grant.allowed) throw new Error("refused");
  expect(await stub.inFlightOrOrphaned([m.id])).toEqual([m.id]);
}

/** The message as the dead consumer's call handed it to Mailgun: taken and recorded by the simulator, never answered (accept_then_timeout). */
async function takenByMailgun(m: Awaited<ReturnType<typeof deferredOnBoth>>, domain: string) {
  const row = await env.DB.prepare(`select message_id_header from messages where id = ?`).bind(m.id).first<{ message_id_header: string }>();
  const emails = (await env.DB.prepare(`select email from message_recipients where message_id = ?`).bind(m.id).all<{ email: string }>()).results.map((r) => r.email);
  await sim().addFault({ target: "mailgun", scope: domain, action: "accept_then_timeout", times: 1 });
  const form = new FormData();
  for (const e of emails) form.append("to", e);
  const mime = `Message-ID: ${row!.message_id_header}\r\nFrom: a@example.org\r\nTo: ${emails.join(", ")}\r\nSubject: taken\r\n\r\nbody\r\n`;
  form.append("message", new Blob([mime], { type: "message/rfc822" }), "MimeMessage");
  const auth = `Basic ${btoa(`api:${sims().mailgun.apiKey}`)}`;
  await socketFetch(`${sims().mailgun.baseUrl}/v3/${domain}/messages.mime`, { method: "POST", headers: { authorization: auth }, body: form, signal: AbortSignal.timeout(1000) }).then(
    () => { throw new Error("answered"); },
    (e: unknown) => { if (e instanceof Error && e.message === "answered") throw e; },
  );
  const taken = (await sim().received("mailgun", domain)).filter((r) => r.unanswered);
  expect(taken).toHaveLength(1);
  return { messageIdHeader: row!.message_id_header, emails };
}

const eventsAsked = async (domain: string) => (await sim().counts(domain))["mailgun-events"] ?? 0;
const lastAttempt = (id: string) =>
  env.DB.prepare(`select outcome, provider_id, provider_message_id, detail from delivery_attempts where message_id = ? order by started_at desc, rowid desc limit 1`)
    .bind(id)
    .first<{ outcome: string; provider_id: string; provider_message_id: string; detail: string | null }>();

describe("takeover of a call that died in flight on Mailgun: its Events API is asked before the resend", { timeout: 60_000 }, () => {
  it("Mailgun took it (accepted events for the Message-ID): recorded sent from the events, no second messages.mime", async () => {
    const m = await deferredOnBoth();
    await killedInFlight(m, m.second);
    const { messageIdHeader } = await takenByMailgun(m, m.d2);
    const before = [await mailgunCalls(m.d1), await mailgunCalls(m.d2)];

    await env.DELIVERY_QUEUE.send(deliveryJob(m.ws.id, m.id));
    await waitForStatus(m.ws, m.id, ["sent"], 15_000);
    const bare = messageIdHeader.replace(/^<|>$/g, "");
    const rows = await env.DB.prepare(`select status, provider_id, provider_message_id from message_recipients where message_id = ?`).bind(m.id).all();
    expect(rows.results).toEqual(m.recipientIds.map(() => ({ status: "sent", provider_id: m.second, provider_message_id: bare })));
    expect([await mailgunCalls(m.d1), await mailgunCalls(m.d2)]).toEqual(before); // no second request, to either
    expect(await eventsAsked(m.d2)).toBe(1);
    expect(await eventsAsked(m.d1)).toBe(0);
    const attempt = await lastAttempt(m.id);
    expect(attempt).toMatchObject({ outcome: "sent", provider_id: m.second, provider_message_id: bare });
    expect(attempt?.detail).toMatch(/^reconciled from Mailgun events after a restart/);
  });

  it("Mailgun never got it (no events): resent once, to that same provider, not the priority-1 one", async () => {
    const m = await deferredOnBoth();
    await killedInFlight(m, m.second);
    const before = [await mailgunCalls(m.d1), await mailgunCalls(m.d2)];

    await env.DELIVERY_QUEUE.send(deliveryJob(m.ws.id, m.id));
    const done = await waitForStatus(m.ws, m.id, ["sent"], 15_000);
    expect(done.recipients.map((r: { provider_id: string | null }) => r.provider_id)).toEqual(m.recipientIds.map(() => m.second));
    expect([await mailgunCalls(m.d1), await mailgunCalls(m.d2)]).toEqual([before[0], before[1]! + 1]);
    expect(await eventsAsked(m.d2)).toBe(1);
    expect((await lastAttempt(m.id))?.detail ?? null).toBeNull(); // a real send, not a reconciliation
  });

  it("the events API errs: resent to that same provider (nothing lost)", async () => {
    const m = await deferredOnBoth();
    await killedInFlight(m, m.second);
    await takenByMailgun(m, m.d2); // even when Mailgun has it: an unanswerable question means resend
    await sim().addFault({ target: "mailgun-events", scope: m.d2, status: 500 });
    const before = [await mailgunCalls(m.d1), await mailgunCalls(m.d2)];

    await env.DELIVERY_QUEUE.send(deliveryJob(m.ws.id, m.id));
    const done = await waitForStatus(m.ws, m.id, ["sent"], 15_000);
    expect(done.recipients.map((r: { provider_id: string | null }) => r.provider_id)).toEqual(m.recipientIds.map(() => m.second));
    expect([await mailgunCalls(m.d1), await mailgunCalls(m.d2)]).toEqual([before[0], before[1]! + 1]);
    expect(await eventsAsked(m.d2)).toBe(1);
  });

  it("a reported failure is not asked about: resent without an events request", async () => {
    const m = await deferredOnBoth();
    await killedAfterReport(m, m.second, { sent: false });
    await env.DELIVERY_QUEUE.send(deliveryJob(m.ws.id, m.id));
    await waitForStatus(m.ws, m.id, ["sent"], 15_000);
    expect(await eventsAsked(m.d2)).toBe(0);
  });
});

describe("takeover after a kill between the provider's report and the record", { timeout: 60_000 }, () => {
  it("a reported 2xx is recorded sent with that provider and message id, and the provider is not called again", async () => {
    const m = await deferredOnBoth();
    const pmid = `<${uniq("reported")}@${m.d2}>`;
    await killedAfterReport(m, m.second, { sent: true, providerMessageId: pmid });
    const before = [await mailgunCalls(m.d1), await mailgunCalls(m.d2)];

    await env.DELIVERY_QUEUE.send(deliveryJob(m.ws.id, m.id));
    const done = await waitForStatus(m.ws, m.id, ["sent"], 10_000);
    expect(done.status).toBe("sent");
    const rows = await env.DB.prepare(`select status, provider_id, provider_message_id from message_recipients where message_id = ?`).bind(m.id).all();
    expect(rows.results).toEqual(m.recipientIds.map(() => ({ status: "sent", provider_id: m.second, provider_message_id: pmid })));
    expect([await mailgunCalls(m.d1), await mailgunCalls(m.d2)]).toEqual(before); // no second request, to either
    const attempt = await env.DB.prepare(`select outcome, provider_id, provider_message_id, detail from delivery_attempts where message_id = ? order by started_at desc, rowid desc limit 1`)
      .bind(m.id)
      .first<{ outcome: string; provider_id: string; provider_message_id: string; detail: string }>();
    expect(attempt).toMatchObject({ outcome: "sent", provider_id: m.second, provider_message_id: pmid });
    expect(attempt?.detail).toMatch(/^reconciled after a restart/);
  });

  it("a reported failure is resent to that same provider, not to the priority-1 one", async () => {
    const m = await deferredOnBoth();
    await killedAfterReport(m, m.second, { sent: false });
    const before = [await mailgunCalls(m.d1), await mailgunCalls(m.d2)];

    await env.DELIVERY_QUEUE.send(deliveryJob(m.ws.id, m.id));
    const done = await waitForStatus(m.ws, m.id, ["sent"], 10_000);
    expect(done.recipients.map((r: { provider_id: string | null }) => r.provider_id)).toEqual(m.recipientIds.map(() => m.second));
    expect([await mailgunCalls(m.d1), await mailgunCalls(m.d2)]).toEqual([before[0], before[1]! + 1]);
  });

  it("two calls granted in the same millisecond: reporting one leaves the other's record (it is still remembered as in flight, then orphaned)", async () => {
    const ws = `ws_${crypto.randomUUID()}`;
    const stub = getProviderState(env, ws, "prv_same");
    const t = Date.now() - 600_000;
    const lease = callLeaseMs("mailgun", {});
    const a = await stub.acquire(ws, "prv_same", cfg, null, t, lease, "msg_a");
    const b = await stub.acquire(ws, "prv_same", cfg, null, t, lease, "msg_b");
    if (!a.allowed || !b.allowed) throw new Error("refused");
    expect(a.startedAt).toBe(b.startedAt);
    await stub.release(ws, "prv_same", cfg, b, "success", 10, t + 500);
    // msg_b reported back; msg_a's consumer died: it is msg_a that is an orphan, not msg_b.
    expect(await stub.inFlightOrOrphaned(["msg_a", "msg_b"])).toEqual(["msg_a"]);
  });
});

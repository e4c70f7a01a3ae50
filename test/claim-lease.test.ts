// The claim lease is safe and short (issue 17): every provider call has a hard total deadline,
// the claim on its recipients is renewed right before each call (failover included) to that
// deadline + a margin, and a claim that lapsed (its consumer died) is taken over, and put back on
// the queue by the sweeper, right after it lapses. Checked through the real queue against the
// provider simulators: what counts is what the simulators saw.
import { exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { CLAIM_MARGIN_MS, defaultDeadlineMs } from "../core/deadline";
import { getDb } from "../db/client";
import { loadAndClaim } from "../db/messages/delivery";
import { getSweeper, type Sweeper } from "../durable-objects/sweeper";
import { createWorkspace, waitForStatus } from "./helpers";
import { accept, addProvider, FAST_RETRY, gmailProvider, mailgunProvider, setRetryPolicy, sim, smtpProvider, uniq, workspaceWith } from "./simulators/delivery-fixtures";

const CLAIM_LEASE = { defaultDeadlineMs, marginMs: CLAIM_MARGIN_MS };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Attempt {
  outcome: string;
  provider_id: string | null;
  detail: string | null;
  latency_ms: number;
}

const recipientRow = (messageId: string) =>
  env.DB.prepare("select status, updated_at, lease_until from message_recipients where message_id = ?").bind(messageId).first<{ status: string; updated_at: number; lease_until: number | null }>();

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("provider calls have a hard total deadline", { timeout: 30_000 }, () => {
  it("SMTP: a session whose steps each answer in time but together run past timeout_ms is abandoned at the deadline, reported as a timeout, and retried", async () => {
    const ws = await workspaceWith(smtpProvider({ timeout_ms: 1500 }));
    const sender = `noreply@${ws.domain}`;
    // Every step under the 1.5 s timeout, 3 s in total: per-step timeouts alone let it run on.
    for (const target of ["smtp-mail", "smtp-rcpt", "smtp-data"] as const) await sim().addFault({ target, scope: sender, latencyMs: 1000, times: 1 });
    const { id } = await accept(ws);
    const done = await waitForStatus(ws, id, ["sent", "failed"], 15_000);
    expect(done.status).toBe("sent");
    const attempts = done.attempts as Attempt[];
    expect(attempts.map((a) => a.outcome)).toEqual(["transient", "sent"]);
    expect(attempts[0]!.detail).toMatch(/deadline|timed out/);
    expect(attempts[0]!.latency_ms).toBeLessThan(1500 + 700); // abandoned at the deadline, not after the 3 s session
    // One session per attempt; the abandoned one never reached DATA, so one copy was delivered.
    expect((await sim().counts(sender))["smtp-mail"]).toBe(2);
    expect(await sim().received("smtp", sender)).toHaveLength(1);
  });

  it("Gmail: the token exchange and the send share one deadline (timeout_ms in total, not per step)", async () => {
    const pair = await generateKeyPair("RS256", { extractable: true });
    const clientEmail = `${uniq("relay")}@project.iam.gserviceaccount.com`;
    await sim().registerServiceAccount(clientEmail, await exportSPKI(pair.publicKey));
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    const sender = `clinic@${ws.domain}`;
    const gp = gmailProvider(sender, { client_email: clientEmail, private_key: await exportPKCS8(pair.privateKey) });
    const providerId = await addProvider(ws, { ...gp, config: { ...gp.config, timeout_ms: 1000 } });
    // 700 ms for the token, 700 ms for the send: each within 1 s, together 1.4 s.
    await sim().addFault({ target: "gmail-token", scope: sender, latencyMs: 700, times: 1 });
    await sim().addFault({ target: "gmail-send", scope: sender, latencyMs: 700, times: 1 });
    const { id } = await accept(ws, { from: `Clinic <${sender}>` });
    const done = await waitForStatus(ws, id, ["sent", "failed"], 15_000);
    expect(done.status).toBe("sent");
    const attempts = done.attempts as Attempt[];
    expect(attempts.map((a) => [a.outcome, a.provider_id])).toEqual([
      ["transient", providerId],
      ["sent", providerId],
    ]);
    expect(attempts[0]!.latency_ms).toBeLessThan(1000 + 500);
    // The abandoned send, then the retry. (The test pool's outbound proxy does not pass the abort on
    // to the simulator, so the abandoned request still completes there: received() would say 2.)
    expect((await sim().counts(sender))["gmail-send"]).toBe(2);
  });

  it("Mailgun: a call that never answers is abandoned at its deadline and the recipient is deferred and retried, never left sending", async () => {
    const domain = `${uniq("mg")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain, { timeout_ms: 1000 }));
    await sim().addFault({ target: "mailgun", scope: domain, action: "timeout", times: 1 });
    const { id } = await accept(ws);
    const done = await waitForStatus(ws, id, ["sent", "failed"], 15_000);
    expect(done.status).toBe("sent");
    const attempts = done.attempts as Attempt[];
    expect(attempts.map((a) => a.outcome)).toEqual(["transient", "sent"]);
    expect(attempts[0]!.detail).toMatch(/within 1000 ms|deadline/);
    expect(attempts[0]!.latency_ms).toBeLessThan(1000 + 500);
    expect((await sim().counts(domain)).mailgun).toBe(2);
  });
});

describe("the claim is renewed before each call and lapses soon after a consumer dies", { timeout: 60_000 }, () => {
  it("is renewed before a failover call: a second consumer claiming after the first lease would have ended gets nothing, and no call overlaps", async () => {
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    const d1 = `${uniq("mg1")}.example.org`;
    const d2 = `${uniq("mg2")}.example.org`;
    const first = await addProvider(ws, mailgunProvider(d1, { priority: 1, timeout_ms: 5000 }));
    const second = await addProvider(ws, mailgunProvider(d2, { priority: 2, timeout_ms: 5000 }));
    // The first provider hangs (its call is abandoned at 5 s), the second takes 3 s to answer.
    await sim().addFault({ target: "mailgun", scope: d1, action: "timeout", times: 1 });
    await sim().addFault({ target: "mailgun", scope: d2, latencyMs: 3000, times: 1 });
    const { id } = await accept(ws);

    // The claim's first lease: the longest provider deadline + the margin (covers the first call).
    const claimed = await until("the claim", async () => {
      const r = await recipientRow(id);
      return r?.status === "sending" && r.lease_until !== null ? r : null;
    });
    expect(claimed.lease_until! - claimed.updated_at).toBe(5000 + CLAIM_MARGIN_MS);
    const firstLeaseEnd = claimed.lease_until!;

    // The failover call is in flight: the claim was renewed for it before it started.
    await until("the failover call", async () => ((await sim().counts(d2)).mailgun ?? 0) >= 1);
    const renewed = await recipientRow(id);
    expect(renewed!.status).toBe("sending");
    expect(renewed!.updated_at).toBe(claimed.updated_at); // the same claim
    expect(renewed!.lease_until!).toBeGreaterThanOrEqual(Date.now() + 5000); // outlives the call's deadline
    expect(renewed!.lease_until!).toBeGreaterThan(firstLeaseEnd + 4000);

    // A second consumer, past the first lease's end but within the renewed one, gets nothing.
    const other = await loadAndClaim(getDb(env.DB), ws.id, id, firstLeaseEnd + 1, CLAIM_LEASE, firstLeaseEnd + 1);
    expect(other!.claimed).toHaveLength(0);

    const done = await waitForStatus(ws, id, ["sent", "failed"], 15_000);
    expect(done.status).toBe("sent");
    expect((done.attempts as Attempt[]).map((a) => [a.outcome, a.provider_id])).toEqual([
      ["transient", first],
      ["sent", second],
    ]);
    expect([(await sim().counts(d1)).mailgun, (await sim().counts(d2)).mailgun]).toEqual([1, 1]);
  });

  it("a claim whose consumer died lapses at deadline + margin: another consumer takes it then, and the sweeper puts it back on the queue right after, not after its grace", async () => {
    const domain = `${uniq("mg")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain, { timeout_ms: 2000 }));
    const { id } = await accept(ws);
    await waitForStatus(ws, id, ["sent"], 10_000);
    // Pending again and just enqueued (the outbox's 60 s grace has not passed), then claimed by a
    // consumer that dies at once: nothing will ever report for it.
    const t = Date.now();
    await env.DB.batch([
      env.DB.prepare("update message_recipients set status = 'queued', sent_at = null, lease_until = null where message_id = ?").bind(id),
      env.DB.prepare("update messages set status = 'queued', enqueued_at = ? where id = ?").bind(t, id),
    ]);
    const dead = await loadAndClaim(getDb(env.DB), ws.id, id, t, CLAIM_LEASE, t);
    expect(dead!.claimed).toHaveLength(1);
    const lease = 2000 + CLAIM_MARGIN_MS;
    expect(dead!.claimed[0]!.leaseUntil).toBe(t + lease);

    // Held until the lease ends, free from then on.
    expect((await loadAndClaim(getDb(env.DB), ws.id, id, t + lease - 1, CLAIM_LEASE, t + lease - 1))!.claimed).toHaveLength(0);

    // The sweeper looks again right after the lapse, not a sweep interval (30 s) later.
    const sweeper = getSweeper(env);
    await sweeper.arm();
    expect(await runDurableObjectAlarm(sweeper)).toBe(true);
    const next = await runInDurableObject(sweeper, (_i: Sweeper, state) => state.storage.getAlarm());
    expect(next).not.toBeNull();
    expect(next!).toBeLessThanOrEqual(Math.max(t + lease + 500, Date.now() + 5000) + 50);

    const before = (await sim().counts(domain)).mailgun ?? 0;
    await sleep(t + lease + 100 - Date.now());
    expect(await runDurableObjectAlarm(sweeper)).toBe(true); // enqueues the lapsed claim at once (no grace)
    const row = await env.DB.prepare("select enqueued_at from messages where id = ?").bind(id).first<{ enqueued_at: number }>();
    expect(row!.enqueued_at).toBeGreaterThanOrEqual(t + lease);
    const done = await waitForStatus(ws, id, ["sent", "failed"], 8_000);
    expect(done.status).toBe("sent");
    expect(Date.now() - t).toBeLessThan(lease + 8_000);
    expect((await sim().counts(domain)).mailgun).toBe(before + 1);
  });
});

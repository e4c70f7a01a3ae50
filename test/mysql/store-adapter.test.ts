// The MySQL store adapter (db/mysql/store) writes what the D1 adapter writes: a claim then a
// record leave the statuses, attempt rows, campaign counters and recipient events that
// db/messages/delivery.ts leaves on D1; concurrent claimers and releasers never take one
// recipient or message twice; failPending fails what is pending, counts it and refreshes the
// message. The shared conformance suite (test/store/) covers every operation on both backends.
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it, onTestFinished } from "vitest";
import { CLAIM_MARGIN_MS, defaultDeadlineMs } from "../../core/deadline";
import { newId } from "../../core/ids";
import type { MysqlDb } from "../../db/mysql/connection";
import { campaigns, campaignStats, providers, rateLimits, recipients } from "../../db/mysql/schema";
import { mysqlStore } from "../../db/mysql/store";
import { openRelayStore } from "../../workers/store";
import { createConnection } from "mysql2/promise";
import { transaction } from "../../db/mysql/store/sql";
import type { Store } from "../../db/store/store";
import { connect, connectDb, createWorkspace, queuedMessage, rows, write } from "./helpers";

const LEASE = { defaultDeadlineMs, marginMs: CLAIM_MARGIN_MS };

/** A store on its own connection (as a request would open one), closed when the test ends. */
async function store(): Promise<Store> {
  return mysqlStore(await connect());
}

async function provider(db: MysqlDb, workspaceId: string, type: "sandbox" | "gmail" | "mailgun", config: Record<string, unknown>, priority = 100) {
  const id = newId("prv");
  await db.insert(providers).values({ id, workspaceId, name: `${type} ${id}`, type, config, priority, createdAt: 1_000 + priority, updatedAt: 1_000 });
  return id;
}

async function campaign(db: MysqlDb, workspaceId: string) {
  const id = newId("cmp");
  await db.insert(campaigns).values({ id, workspaceId, name: "reminders" });
  return id;
}

describe("mysqlStore: delivery", { timeout: 30_000 }, () => {
  it("loadWorkspace: settings parsed, enabled providers in priority order with config and booleans, quotas as numbers", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    await write(conn, `UPDATE workspaces SET configuration = ? WHERE id = ?`, [JSON.stringify({ retry_policy: { max_attempts: 3 } }), ws]);
    const second = await provider(db, ws, "mailgun", { domain: "mg.example", timeout_ms: 20_000 }, 20);
    const first = await provider(db, ws, "sandbox", {}, 10);
    const off = await provider(db, ws, "gmail", {}, 5);
    await write(conn, `UPDATE providers SET status = 'disabled', baa_covered = 1 WHERE id = ?`, [off]);
    await write(conn, `UPDATE providers SET baa_covered = 1 WHERE id = ?`, [first]);
    await db.insert(rateLimits).values({ id: newId("rl"), workspaceId: ws, providerId: first, scope: "provider", period: "day", maxCount: 500, burst: null });
    await db.insert(rateLimits).values({ id: newId("rl"), workspaceId: ws, providerId: null, scope: "workspace", period: "day", maxCount: 9 });

    const facts = await (await store()).delivery.loadWorkspace(ws);
    expect(facts.workspaceConfig).toEqual({ retry_policy: { max_attempts: 3 } });
    expect(facts.providers.map((p) => p.id)).toEqual([first, second]);
    expect(facts.providers[0]).toMatchObject({ type: "sandbox", config: {}, baaCovered: true, priority: 10, weight: 1, status: "enabled", credentialsEnc: null, createdAt: 1_010 });
    expect(facts.providers[1]).toMatchObject({ config: { domain: "mg.example", timeout_ms: 20_000 }, baaCovered: false });
    expect(facts.quotas).toEqual([{ providerId: first, period: "day", maxCount: 500, burst: null }]);
    expect(await (await store()).delivery.loadWorkspace(newId("ws"))).toEqual({ workspaceConfig: {}, providers: [], quotas: [] });
  });

  it("claim then record: statuses, attempt rows, campaign counters and recipient events as D1 writes them", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    await provider(db, ws, "mailgun", { timeout_ms: 45_000 });
    const gmail = await provider(db, ws, "gmail", {});
    const cmp = await campaign(db, ws);
    const emails = ["sent@example.net", "failed@example.net", "later@example.net"];
    const { id, recipientIds } = await queuedMessage(db, ws, emails, 5_000);
    const [sentId, failedId, laterId] = recipientIds as [string, string, string];
    await write(conn, `UPDATE messages SET campaign_id = ? WHERE id = ?`, [cmp, id]);
    const rcpt = newId("rcp");
    await db.insert(recipients).values({ id: rcpt, workspaceId: ws, email: "sent@example.net" });

    const s = await store();
    const at = 1_700_000_000_000;
    const loaded = await s.delivery.loadAndClaim(ws, id, at, LEASE, at + 1000);
    expect(loaded).toBeDefined();
    const { message, recipients: before, claimed } = loaded!;
    // The message and its recipients as before the claim, in the D1 row shapes.
    expect(message).toMatchObject({ id, workspaceId: ws, status: "queued", toEmails: emails, tags: [], metadata: {}, forceSend: false, containsPhi: false, sizeBytes: 100, campaignId: cmp, notBefore: null });
    expect(before.map((r) => [r.id, r.status, r.attempts, r.leaseUntil])).toEqual(expect.arrayContaining(recipientIds.map((r) => [r, "queued", 0, null])));
    // The first lease: at + margin + the longest deadline of the enabled providers (gmail's default 60 s > 45 s).
    const leaseUntil = at + CLAIM_MARGIN_MS + defaultDeadlineMs("gmail");
    expect(claimed).toHaveLength(3);
    for (const r of claimed) expect(r).toMatchObject({ status: "sending", updatedAt: at, attempts: 1, leaseUntil });
    const stored = await rows<{ id: string; status: string; attempts: number; updated_at: number; lease_until: number }>(
      conn,
      `SELECT id, status, attempts, updated_at, lease_until FROM message_recipients WHERE message_id = ? ORDER BY id`,
      [id],
    );
    expect(stored).toEqual([...claimed].sort((a, b) => (a.id < b.id ? -1 : 1)).map((r) => ({ id: r.id, status: "sending", attempts: 1, updated_at: at, lease_until: leaseUntil })));
    expect(await rows(conn, `SELECT status, updated_at FROM messages WHERE id = ?`, [id])).toEqual([{ status: "sending", updated_at: at }]);

    // A second consumer finds every recipient held: nothing claimed, the rows as the first claim left them.
    const again = await (await store()).delivery.loadAndClaim(ws, id, at + 10, LEASE, at + 1000);
    expect(again!.claimed).toEqual([]);
    expect(new Set(again!.recipients.map((r) => r.status))).toEqual(new Set(["sending"]));
    expect(again!.message.status).toBe("sending");

    // Renewal by the holder extends (never shortens); by anyone else it holds nothing.
    expect(await s.delivery.renewClaim(ws, id, at, leaseUntil + 5_000)).toEqual(new Set(recipientIds));
    expect(await s.delivery.renewClaim(ws, id, at, at)).toEqual(new Set(recipientIds));
    expect(await s.delivery.renewClaim(ws, id, at + 1, leaseUntil + 9_000)).toEqual(new Set());
    expect(await rows(conn, `SELECT DISTINCT lease_until FROM message_recipients WHERE message_id = ?`, [id])).toEqual([{ lease_until: leaseUntil + 5_000 }]);

    const attempt = {
      id: newId("da"),
      messageId: id,
      workspaceId: ws,
      deliveryId: "dlv-1",
      providerId: gmail,
      recipients: [sentId, failedId],
      outcome: "sent" as const,
      detail: null,
      providerMessageId: "<pm-1@gmail>",
      latencyMs: 42,
      startedAt: at,
      finishedAt: at + 42,
    };
    const recordAt = at + 100;
    const status = await s.delivery.recordDelivery({
      workspaceId: ws,
      messageId: id,
      at: recordAt,
      outcomes: [
        { id: sentId, status: "sent", providerId: gmail, providerMessageId: "<pm-1@gmail>", lastError: null },
        { id: failedId, status: "failed", providerId: gmail, lastError: "550 no such user" },
        { id: laterId, status: "deferred", lastError: "limit", uncountAttempt: true },
      ],
      attempts: [attempt],
      otherStatuses: [],
      notBefore: recordAt + 60_000,
      enqueuedAt: recordAt + 60_000,
      waitingOn: "limit:daily",
      lastError: "limit",
      countAttempt: true,
      campaignId: cmp,
      events: [
        { messageRecipientId: sentId, email: "sent@example.net", type: "delivery.sent", detail: { provider_id: gmail } },
        { messageRecipientId: failedId, email: "failed@example.net", type: "delivery.failed", detail: { reason: "550 no such user" } },
      ],
    });
    expect(status).toBe("deferred");

    const after = await rows(
      conn,
      `SELECT id, status, provider_id, provider_message_id, last_error, attempts, sent_at, updated_at, lease_until FROM message_recipients WHERE message_id = ?`,
      [id],
    );
    const byId = new Map(after.map((r) => [(r as { id: string }).id, r]));
    expect(byId.get(sentId)).toMatchObject({ status: "sent", provider_id: gmail, provider_message_id: "<pm-1@gmail>", last_error: null, attempts: 1, sent_at: recordAt, updated_at: recordAt, lease_until: null });
    expect(byId.get(failedId)).toMatchObject({ status: "failed", provider_id: gmail, provider_message_id: null, last_error: "550 no such user", attempts: 1, sent_at: null, lease_until: null });
    expect(byId.get(laterId)).toMatchObject({ status: "deferred", provider_id: null, last_error: "limit", attempts: 0, sent_at: null, lease_until: null });
    expect(await rows(conn, `SELECT status, attempt_count, not_before, enqueued_at, waiting_on, last_error, processed_at, updated_at FROM messages WHERE id = ?`, [id])).toEqual([
      { status: "deferred", attempt_count: 1, not_before: recordAt + 60_000, enqueued_at: recordAt + 60_000, waiting_on: "limit:daily", last_error: "limit", processed_at: null, updated_at: recordAt },
    ]);
    const [da] = await rows<Record<string, unknown>>(conn, `SELECT * FROM delivery_attempts WHERE message_id = ?`, [id]);
    expect({ ...da, recipients: typeof da!.recipients === "string" ? JSON.parse(da!.recipients) : da!.recipients }).toEqual({
      id: attempt.id,
      message_id: id,
      workspace_id: ws,
      delivery_id: "dlv-1",
      provider_id: gmail,
      recipients: [sentId, failedId],
      outcome: "sent",
      detail: null,
      provider_message_id: "<pm-1@gmail>",
      latency_ms: 42,
      started_at: at,
      finished_at: at + 42,
    });
    const day = new Date(recordAt).toISOString().slice(0, 10);
    const counters = () => rows(conn, `SELECT day, queued, sent, failed, delivered FROM campaign_stats WHERE campaign_id = ?`, [cmp]);
    expect(await counters()).toEqual([{ day, queued: 0, sent: 1, failed: 1, delivered: 0 }]);
    const events = await rows<{ recipient_id: string | null; message_recipient_id: string; type: string; detail: unknown; created_at: number }>(
      conn,
      `SELECT recipient_id, message_recipient_id, message_id, type, detail, created_at FROM recipient_events WHERE message_id = ? ORDER BY type DESC`,
      [id],
    );
    expect(events.map((e) => ({ ...e, detail: typeof e.detail === "string" ? JSON.parse(e.detail) : e.detail }))).toEqual([
      { recipient_id: rcpt, message_recipient_id: sentId, message_id: id, type: "delivery.sent", detail: { provider_id: gmail }, created_at: recordAt },
      { recipient_id: null, message_recipient_id: failedId, message_id: id, type: "delivery.failed", detail: { reason: "550 no such user" }, created_at: recordAt },
    ]);

    // The same record again (a redelivered job) counts nothing more: the recipients are no longer pending.
    await s.delivery.recordDelivery({ workspaceId: ws, messageId: id, at: recordAt, outcomes: [{ id: sentId, status: "sent" }, { id: failedId, status: "failed" }], otherStatuses: ["deferred"], countAttempt: false, campaignId: cmp });
    expect(await counters()).toEqual([{ day, queued: 0, sent: 1, failed: 1, delivered: 0 }]);
    await s.close();
  });

  it("a message not yet due is loaded, nothing claimed; a fixed lease; releaseClaim hands the claim back", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    const { id, recipientIds } = await queuedMessage(db, ws, ["a@example.net", "b@example.net"]);
    const at = Date.now();
    await write(conn, `UPDATE messages SET not_before = ?, status = 'deferred' WHERE id = ?`, [at + 60_000, id]);
    const s = await store();
    const early = await s.delivery.loadAndClaim(ws, id, at, 30_000, at + 1000);
    expect(early!.claimed).toEqual([]);
    expect(await rows(conn, `SELECT DISTINCT status, attempts FROM message_recipients WHERE message_id = ?`, [id])).toEqual([{ status: "queued", attempts: 0 }]);
    expect(await rows(conn, `SELECT status FROM messages WHERE id = ?`, [id])).toEqual([{ status: "deferred" }]);

    const due = await s.delivery.loadAndClaim(ws, id, at, 30_000, at + 61_000);
    expect(due!.claimed.map((r) => r.leaseUntil)).toEqual([at + 30_000, at + 30_000]);
    await s.delivery.releaseClaim(ws, id, recipientIds.map((r, i) => ({ id: r, status: i === 0 ? "queued" : "sending" })), "deferred", at);
    const back = await rows<{ id: string; status: string; attempts: number; lease_until: number | null }>(conn, `SELECT id, status, attempts, lease_until FROM message_recipients WHERE message_id = ?`, [id]);
    expect(new Map(back.map((r) => [r.id, r]))).toEqual(
      new Map([
        [recipientIds[0], { id: recipientIds[0], status: "queued", attempts: 0, lease_until: null }],
        [recipientIds[1], { id: recipientIds[1], status: "deferred", attempts: 0, lease_until: null }],
      ]),
    );
    expect(await rows(conn, `SELECT status FROM messages WHERE id = ?`, [id])).toEqual([{ status: "deferred" }]);
    expect(await (await store()).delivery.loadAndClaim(newId("ws"), id, at, 30_000, at)).toBeUndefined();
  });

  it("ten consumers claim one message at once through the adapter: one gets every recipient", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    const { id } = await queuedMessage(db, ws, ["a", "b", "c", "d"].map((l) => `${l}@example.net`));
    const stores = await Promise.all(Array.from({ length: 10 }, () => store()));
    const at = Date.now();
    const results = await Promise.all(stores.map((s) => s.delivery.loadAndClaim(ws, id, at, LEASE, at)));
    const winners = results.filter((r) => r!.claimed.length > 0);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.claimed).toHaveLength(4);
    for (const r of results) if (r!.claimed.length === 0) expect(new Set(r!.recipients.map((x) => x.status))).toEqual(new Set(["sending"]));
  });

  it("failPending fails every pending recipient, counts them in the campaign and derives the message status", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    const cmp = await campaign(db, ws);
    const { id, recipientIds } = await queuedMessage(db, ws, ["q@example.net", "s@example.net", "d@example.net", "ok@example.net"]);
    await write(conn, `UPDATE messages SET campaign_id = ? WHERE id = ?`, [cmp, id]);
    await write(conn, `UPDATE message_recipients SET status = 'sending' WHERE id = ?`, [recipientIds[1]]);
    await write(conn, `UPDATE message_recipients SET status = 'deferred' WHERE id = ?`, [recipientIds[2]]);
    await write(conn, `UPDATE message_recipients SET status = 'sent' WHERE id = ?`, [recipientIds[3]]);
    const at = Date.now();
    const s = await store();
    expect(await s.delivery.failPending(ws, id, "dead-lettered", at)).toBe(3);
    const after = await rows<{ id: string; status: string; last_error: string | null; updated_at: number }>(conn, `SELECT id, status, last_error, updated_at FROM message_recipients WHERE message_id = ?`, [id]);
    const byId = new Map(after.map((r) => [r.id, r]));
    for (const r of recipientIds.slice(0, 3)) expect(byId.get(r)).toMatchObject({ status: "failed", last_error: "dead-lettered", updated_at: at });
    expect(byId.get(recipientIds[3]!)).toMatchObject({ status: "sent", last_error: null });
    expect(await rows(conn, `SELECT status, updated_at FROM messages WHERE id = ?`, [id])).toEqual([{ status: "partially_failed", updated_at: at }]);
    const [stats] = await db.select().from(campaignStats).where(eq(campaignStats.campaignId, cmp));
    expect(stats).toMatchObject({ day: new Date(at).toISOString().slice(0, 10), failed: 3, sent: 0 });
    // Nothing pending any more: nothing failed, nothing counted, the status left alone.
    expect(await s.delivery.failPending(ws, id, "again", at + 1)).toBe(0);
    expect(await rows(conn, `SELECT failed FROM campaign_stats WHERE campaign_id = ?`, [cmp])).toEqual([{ failed: 3 }]);
    expect(await s.delivery.failPending(newId("ws"), id, "other tenant", at)).toBe(0);
  });
});

describe("mysqlStore: outbox", { timeout: 30_000 }, () => {
  it("releaseDeferredOn under 5 concurrent callers: each waiting message released exactly once, others left alone", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    const prv = newId("prv");
    const now = Date.now();
    const waiting = await Promise.all(Array.from({ length: 24 }, (_, i) => queuedMessage(db, ws, [`w${i}@example.net`])));
    const on = (i: number) => (i % 3 === 0 ? "*" : i % 3 === 1 ? prv : `pin:${prv}`);
    for (const [i, m] of waiting.entries()) {
      await write(conn, `UPDATE messages SET status = 'deferred', not_before = ?, waiting_on = ? WHERE id = ?`, [now + 60_000 + i, on(i), m.id]);
    }
    const elsewhere = await queuedMessage(db, ws, ["other@example.net"]);
    await write(conn, `UPDATE messages SET status = 'deferred', not_before = ?, waiting_on = ? WHERE id = ?`, [now + 60_000, "prv_other", elsewhere.id]);

    // One call each, 5 × 5 places for 24 messages: never one twice, and none left behind (a
    // caller handed fewer than its limit takes it that nothing more waits).
    const stores = await Promise.all(Array.from({ length: 5 }, () => store()));
    const taken = await Promise.all(stores.map((s) => s.outbox.releaseDeferredOn(ws, prv, now, 5)));
    for (const got of taken) for (const g of got) expect(g.sizeBytes).toBe(100);
    const all = taken.flat().map((g) => g.id);
    expect(all).toHaveLength(waiting.length);
    expect(new Set(all)).toEqual(new Set(waiting.map((m) => m.id)));
    // Soonest first within each call.
    const notBefore = new Map(waiting.map((m, i) => [m.id, i]));
    for (const got of taken) expect(got.map((g) => notBefore.get(g.id))).toEqual(got.map((g) => notBefore.get(g.id)).sort((a, b) => a! - b!));
    expect(await stores[0]!.outbox.releaseDeferredOn(ws, prv, now, 5)).toEqual([]);
    const after = await rows<{ id: string; not_before: number; enqueued_at: number; waiting_on: string | null }>(
      conn,
      `SELECT id, not_before, enqueued_at, waiting_on FROM messages WHERE workspace_id = ?`,
      [ws],
    );
    const byId = new Map(after.map((r) => [r.id, r]));
    for (const [i, m] of waiting.entries()) expect(byId.get(m.id)).toEqual({ id: m.id, not_before: now, enqueued_at: now, waiting_on: i % 3 === 2 ? `pin:${prv}` : null });
    expect(byId.get(elsewhere.id)).toMatchObject({ not_before: now + 60_000, waiting_on: "prv_other" });
  });

  it("due, lapsedClaims, nextClaimLapse, markEnqueued", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    const now = Date.now() + 10 * 365 * 86_400_000; // later than every other test's rows
    const owed = await queuedMessage(db, ws, ["owed@example.net"]);
    const lapsed = await queuedMessage(db, ws, ["lapsed@example.net"]);
    await write(conn, `UPDATE messages SET enqueued_at = ? WHERE id = ?`, [now - 1_000, lapsed.id]);
    await write(conn, `UPDATE message_recipients SET status = 'sending', lease_until = ? WHERE message_id = ?`, [now - 10, lapsed.id]);
    const live = await queuedMessage(db, ws, ["live@example.net"]);
    await write(conn, `UPDATE messages SET enqueued_at = ? WHERE id = ?`, [now, live.id]);
    await write(conn, `UPDATE message_recipients SET status = 'sending', lease_until = ? WHERE message_id = ?`, [now + 5_000, live.id]);
    const s = await store();
    expect((await s.outbox.due(now, 30_000, 100_000)).filter((m) => m.workspaceId === ws)).toEqual([{ id: owed.id, workspaceId: ws, sizeBytes: 100 }]);
    expect((await s.outbox.lapsedClaims(now, 100_000)).filter((m) => m.workspaceId === ws)).toEqual([{ id: lapsed.id, workspaceId: ws, sizeBytes: 100 }]);
    expect(await s.outbox.nextClaimLapse(now)).toBe(now + 5_000);
    await s.outbox.markEnqueued([owed.id, lapsed.id], now + 1);
    expect(await rows(conn, `SELECT enqueued_at FROM messages WHERE id IN (?) ORDER BY enqueued_at`, [[owed.id, lapsed.id]])).toEqual([{ enqueued_at: now + 1 }, { enqueued_at: now + 1 }]);
    await s.outbox.markEnqueued([], now);
  });

  it("over the Hyperdrive binding: connects on first use, serializes its operations, close() ends the connection", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    const messages = await Promise.all(Array.from({ length: 4 }, () => queuedMessage(db, ws, ["x@example.net", "y@example.net"])));
    const s = mysqlStore(env.HYPERDRIVE, { driver: async () => ({ createConnection }) });
    onTestFinished(() => s.close());
    const at = Date.now();
    const claims = await Promise.all(messages.map((m) => s.delivery.loadAndClaim(ws, m.id, at, LEASE, at)));
    expect(claims.map((c) => c!.claimed.length)).toEqual([2, 2, 2, 2]);
    await s.close();
    expect((await s.delivery.renewClaim(ws, messages[0]!.id, at, at + 90_000)).size).toBe(2);
    await s.close();
  });

  it("the Worker's store with STORE = mysql is this store, loaded as its own module, over the HYPERDRIVE binding", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    const s = openRelayStore({ ...env, STORE: "mysql" } as Env);
    onTestFinished(() => s.close());
    expect(s.backend).toBe("mysql");
    expect(await s.delivery.loadWorkspace(ws)).toEqual({ workspaceConfig: {}, providers: [], quotas: [] });
  });
});

describe("mysqlStore: transactions", { timeout: 30_000 }, () => {
  it("a transaction InnoDB picks as a deadlock's victim runs again from its first statement", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    const [one, two] = await Promise.all([queuedMessage(db, ws, ["1@example.net"]), queuedMessage(db, ws, ["2@example.net"])]);
    const heavy = await connect();
    const light = await connect();
    // The other transaction has written rows (by primary key: only those are locked), the one
    // under test none, so InnoDB rolls back the one under test.
    await heavy.query("START TRANSACTION");
    await heavy.query(`UPDATE messages SET attempt_count = attempt_count + 1 WHERE id = ?`, [one!.id]);
    await heavy.query(`UPDATE message_recipients SET attempts = attempts + 1 WHERE id = ?`, [one!.recipientIds[0]]);
    let runs = 0;
    let heavyDone: Promise<unknown> | undefined;
    const result = await transaction(light, async (q) => {
      runs++;
      await q.rows(`SELECT id FROM messages WHERE id = ? FOR UPDATE`, [two!.id]);
      if (runs === 1) {
        heavyDone = heavy.query(`SELECT id FROM messages WHERE id = ? FOR UPDATE`, [two!.id]).then(() => heavy.query("COMMIT"));
        await new Promise((r) => setTimeout(r, 200));
      }
      await q.rows(`SELECT id FROM messages WHERE id = ? FOR UPDATE`, [one!.id]);
      return q.exec(`UPDATE messages SET last_error = 'retried' WHERE id IN (?)`, [[one!.id, two!.id]]);
    });
    await heavyDone;
    expect(runs).toBe(2);
    expect(result).toBe(2);
    expect(await rows(light, `SELECT attempt_count, last_error FROM messages WHERE id = ?`, [one!.id])).toEqual([{ attempt_count: 1, last_error: "retried" }]);
  });
});

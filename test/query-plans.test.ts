// Query plans of the per-message statements (issue 8). D1 keeps no statistics, so SQLite picks
// an index by its shape alone: "workspace_id = ? AND message_id = ?" on message_recipients was
// served from the (workspace_id, email) index, and every delivery walked all of its workspace's
// recipient rows. The statements the code really runs are recorded here and each one's plan is
// checked against D1 itself.
import { describe, expect, it, vi } from "vitest";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../workers/index";
import { getDb } from "../db/client";
import { getMessageDetail } from "../db/messages/read";
import { loadAndClaim, recordDelivery, releaseClaim } from "../db/messages/delivery";
import { acceptDirect, capturingQueue } from "./accept-direct";
import { api, createWorkspace, json, message } from "./helpers";

/** A D1 binding that remembers every statement prepared through it. */
function recordingD1(seen: string[]): D1Database {
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => (seen.push(sql), target.prepare(sql));
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function plan(sql: string): Promise<string[]> {
  // D1 wants every parameter bound; the values do not change the plan.
  const params = (sql.match(/\?/g) ?? []).length;
  const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...Array(params).fill(null)).all<{ detail: string }>();
  return rows.results.map((r) => r.detail);
}

// A step that reaches message_recipients through the workspace alone, or reads it all.
const WHOLE_WORKSPACE = /message_recipients USING (COVERING )?INDEX message_recipients_workspace_\w+ \(workspace_id=\?\)$|SCAN message_recipients\b/;
// Tables that grow with the mail sent: no per-message statement may read one whole, or a whole
// workspace's part of it.
const GROWING = /\b(SCAN|SEARCH) (messages|message_recipients|recipients|recipient_events|delivery_attempts|webhook_events)\b(?! USING (COVERING )?INDEX \S+ \((?!workspace_id=\?\))| USING INTEGER PRIMARY KEY)/;

describe("per-message statements use a per-message index", { timeout: 30_000 }, () => {
  it("load and claim, record (grouped and single), hand back, and the message detail", async () => {
    const ws = await createWorkspace();
    // A message the background consumer will not touch: its recipients are claimed below by hand.
    const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["a@example.net", "b@example.net", "c@example.net"] }) });
    expect(res.status).toBe(202);
    const { id } = await json(res);
    const seen: string[] = [];
    const db = getDb(recordingD1(seen));
    const now = Date.now() + 10 * 60_000; // past any claim the background consumer made
    const loaded = await loadAndClaim(db, ws.id, id, now, 1000, now);
    expect(loaded?.recipients).toHaveLength(3);
    const [a, b, c] = loaded!.recipients;
    await recordDelivery(db, {
      workspaceId: ws.id,
      messageId: id,
      at: now,
      outcomes: [
        { id: a!.id, status: "sent", providerId: null, providerMessageId: "p1", lastError: null },
        { id: b!.id, status: "sent", providerId: null, providerMessageId: "p1", lastError: null },
        { id: c!.id, status: "deferred", lastError: "try later" },
      ],
      otherStatuses: [],
      countAttempt: true,
    });
    await releaseClaim(db, ws.id, id, [{ id: c!.id, status: "queued" }], "sending", now);
    await getMessageDetail(db, ws.id, id);

    const touching = [...new Set(seen)].filter((sql) => /message_recipients/.test(sql));
    // load, claim, grouped update, single update, hand back, detail (at least)
    expect(touching.length).toBeGreaterThanOrEqual(6);
    expect(touching.some((sql) => /json_each/.test(sql) && /^UPDATE/.test(sql.trim()))).toBe(true);
    for (const sql of touching) {
      const steps = await plan(sql);
      expect(steps.filter((s) => WHOLE_WORKSPACE.test(s)), `${sql}\n${steps.join("\n")}`).toEqual([]);
    }
  });

  it("accept: every statement of a message's commit uses an index that narrows it to the message", async () => {
    const ws = await createWorkspace();
    const seen: string[] = [];
    await acceptDirect(ws, { to: ["a@example.net", "b@example.net"], headers: { "X-Clinic": "north" } }, { DB: recordingD1(seen) });
    const statements = [...new Set(seen)];
    expect(statements.some((sql) => /INSERT INTO "message_recipients"/.test(sql))).toBe(true);
    for (const sql of statements) {
      const steps = await plan(sql);
      expect(steps.filter((s) => GROWING.test(s)), `${sql}\n${steps.join("\n")}`).toEqual([]);
    }
  });

  it("a whole delivery through the consumer (load, limits, record, events, webhook hook): the same for every statement", async () => {
    const ws = await createWorkspace();
    // A subscribed endpoint, so the after-record webhook hook runs its statements too.
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
    expect((await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url: "https://hooks.test/plans", events: ["message.sent"] } })).status).toBe(201);
    const { queue, jobs } = capturingQueue();
    for (const to of [["a@example.net"], ["b@example.net", "c@example.net", "d@example.net"]]) await acceptDirect(ws, { to }, { DELIVERY_QUEUE: queue });
    const seen: string[] = [];
    const batch = createMessageBatch("relay-delivery", jobs.map((body, i) => ({ id: `plan-${i}`, timestamp: new Date(), attempts: 1, body })));
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, DB: recordingD1(seen) } as unknown as Env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(2);
    const statements = [...new Set(seen)];
    vi.restoreAllMocks();
    expect(statements.some((sql) => /INSERT INTO "recipient_events"/.test(sql))).toBe(true);
    expect(statements.some((sql) => /"webhook_events"/.test(sql))).toBe(true);
    expect(statements.some((sql) => /^\s*UPDATE "message_recipients"/.test(sql))).toBe(true);
    for (const sql of statements) {
      const steps = await plan(sql);
      expect(steps.filter((s) => GROWING.test(s)), `${sql}\n${steps.join("\n")}`).toEqual([]);
    }
    const detail = await json(await api(`/v1/messages/${jobs[1]!.messageId}`, { key: ws.key }));
    expect(detail.status).toBe("sent");
  });

  it("the check can fail: a workspace-only lookup is caught", async () => {
    const steps = await plan(`SELECT "id" FROM "message_recipients" WHERE "workspace_id" = ? AND "email" LIKE ?`);
    expect(steps.some((s) => WHOLE_WORKSPACE.test(s))).toBe(true);
    expect(steps.some((s) => GROWING.test(s))).toBe(true);
    expect((await plan(`SELECT "id" FROM "messages" WHERE "workspace_id" = ? AND "id" = ?`)).some((s) => GROWING.test(s))).toBe(false);
  });
});

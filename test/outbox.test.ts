import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { acceptStructured } from "../workers/accept";
import { sweepOutbox } from "../workers/outbox";
import { normalizeMessage } from "../core/message-input";
import { getDb } from "../db/client";
import { openRelayStore } from "../workers/store";
import { createWorkspace, message, waitForStatus } from "./helpers";

describe("outbox sweep", async () => {
  const ws = await createWorkspace();
  const me = await (await import("./helpers")).api("/v1/me", { key: ws.key }).then((r) => r.json() as Promise<{ key_id: string }>);

  // A crash between the D1 commit and the queue send, made deterministic: the queue refuses.
  async function acceptWithQueueDown(subject: string) {
    const brokenQueue = { send: async () => { throw new Error("queue unavailable"); } } as unknown as Queue;
    const outcome = await acceptStructured(
      { env: { ...env, DELIVERY_QUEUE: brokenQueue }, store: openRelayStore(env, { db: getDb(env.DB) }), principal: { kind: "api_key", workspaceId: ws.id, keyId: me.key_id, userId: null, scopes: ["admin"] }, now: Date.now() },
      normalizeMessage(message(ws, { subject }) as any, 1_000_000),
    );
    return outcome;
  }

  it("a message committed but never enqueued is still answered 202 and stays queued", async () => {
    const outcome = await acceptWithQueueDown("lost job");
    expect(outcome.status).toBe(202);
    const row = await env.DB.prepare("select status from messages where id = ?").bind(outcome.body.id).first<{ status: string }>();
    expect(row!.status).toBe("queued");
  });

  it("is left alone during the grace period, then re-enqueued and delivered", async () => {
    const { body } = await acceptWithQueueDown("recover me");
    const enqueuedAt = async () =>
      (await env.DB.prepare("select enqueued_at from messages where id = ?").bind(body.id).first<{ enqueued_at: number }>())!.enqueued_at;
    const before = await enqueuedAt();
    await sweepOutbox(env, Date.now()); // within the grace period
    expect(await enqueuedAt()).toBe(before);

    const later = Date.now() + 61_000; // past OUTBOX_GRACE_SECONDS (60)
    expect(await sweepOutbox(env, later)).toBeGreaterThanOrEqual(1);
    expect(await enqueuedAt()).toBe(later);
    const done = await waitForStatus(ws, body.id, ["sent"]);
    expect(done.attempts).toHaveLength(1);
  });

  it("a re-enqueued job carries the message's stored size (the consumer's memory budget reads it)", async () => {
    const { body } = await acceptWithQueueDown("sized");
    const sent: { body: { messageId: string; bytes?: number } }[] = [];
    const capture = { sendBatch: async (msgs: typeof sent) => void sent.push(...msgs) } as unknown as Queue;
    await sweepOutbox({ ...env, DELIVERY_QUEUE: capture }, Date.now() + 61_000);
    const job = sent.find((m) => m.body.messageId === body.id);
    const row = await env.DB.prepare("select size_bytes from messages where id = ?").bind(body.id).first<{ size_bytes: number }>();
    expect(job?.body.bytes).toBe(row!.size_bytes);
    expect(row!.size_bytes).toBeGreaterThan(0);
  });

  it("never re-enqueues finished messages", async () => {
    const { body } = await acceptWithQueueDown("finished");
    await sweepOutbox(env, Date.now() + 61_000);
    await waitForStatus(ws, body.id, ["sent"]);
    const at = Date.now() + 10 * 60_000;
    await sweepOutbox(env, at);
    const row = await env.DB.prepare("select enqueued_at from messages where id = ?").bind(body.id).first<{ enqueued_at: number }>();
    expect(row!.enqueued_at).not.toBe(at);
  });
});

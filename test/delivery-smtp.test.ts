// Delivery through the real queue to the local SMTP sink: STARTTLS + AUTH, a partial RCPT
// refusal that fails one recipient and delivers to the other, and a batch sharing sessions.
import { describe, expect, it } from "vitest";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../workers/index";
import { acceptDirect, capturingQueue } from "./accept-direct";
import { waitForStatus } from "./helpers";
import { decodeVerp } from "../core/verp";
import { accept, recipient, sim, sims, smtpProvider, workspaceWith } from "./simulators/delivery-fixtures";

describe("SMTP smarthost through the queue", { timeout: 30_000 }, () => {
  it("delivers to the sink over STARTTLS with AUTH", async () => {
    const ws = await workspaceWith(smtpProvider());
    const from = `noreply@${ws.domain}`;
    const acc = await accept(ws, { to: ["Pat Doe <pat@example.net>"], cc: ["nurse@example.net"], bcc: ["audit@example.net"], html: "<p>See you</p>" });
    const done = await waitForStatus(ws, acc.id, ["sent", "failed", "partially_failed"], 10_000);
    expect(done.status).toBe("sent");
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0].outcome).toBe("sent");
    // The sink's "queued as <id>" is the provider message id.
    expect(done.attempts[0].provider_message_id).toMatch(/^[0-9A-F]{10}$/);

    const [got, ...more] = await sim().received("smtp", from);
    expect(more).toHaveLength(0);
    expect(got).toMatchObject({ mailFrom: from, secure: true, user: sims().smtp.username });
    expect([...got!.rcptTo].sort()).toEqual(["audit@example.net", "nurse@example.net", "pat@example.net"]);
    expect(got?.parsed?.messageId).toBe(acc.message_id);
    expect(got?.parsed?.subject).toBe("Your appointment");
    expect(got?.parsed?.to).toEqual(["pat@example.net"]);
    // Bcc is envelope-only: never in the delivered headers.
    expect(got?.parsed?.headers.some((h) => h.key === "bcc")).toBe(false);
    expect(got?.data).not.toContain("audit@example.net");
  });

  it("a 550 for one of two recipients: that one fails, the other is sent in a second send without it", async () => {
    const ws = await workspaceWith(smtpProvider());
    const from = `noreply@${ws.domain}`;
    await sim().addFault({ target: "smtp-rcpt", scope: from, match: "gone@example.net", status: 550, body: "5.1.1 <gone@example.net>: Recipient address rejected: User unknown" });

    const acc = await accept(ws, { to: ["ok@example.net", "gone@example.net"] });
    const done = await waitForStatus(ws, acc.id, ["sent", "failed", "partially_failed"], 10_000);
    expect(done.status).toBe("partially_failed");
    expect(recipient(done, "gone@example.net")).toMatchObject({ status: "failed", last_error: expect.stringMatching(/550 5\.1\.1.*User unknown/) });
    expect(recipient(done, "ok@example.net")).toMatchObject({ status: "sent" });
    expect(done.attempts.map((a: any) => [a.outcome, [...a.recipients].sort()])).toEqual([
      ["permanent", ["gone@example.net", "ok@example.net"]],
      ["sent", ["ok@example.net"]],
    ]);

    // The refused send was reset before DATA, so exactly one message reached the sink.
    const got = await sim().received("smtp", from);
    expect(got.map((g) => g.rcptTo)).toEqual([["ok@example.net"]]);
    expect(got[0]?.parsed?.messageId).toBe(acc.message_id);
    await sim().clearFaults(from);
  });
  it("with VERP the envelope sender names the delivery, so a bounce can be traced back to it", async () => {
    const ws = await workspaceWith(smtpProvider({ verp: true }));
    const acc = await accept(ws, { to: ["solo@example.net"] });
    const done = await waitForStatus(ws, acc.id, ["sent", "failed"], 10_000);
    expect(done.status).toBe("sent");
    const mr = await (await import("cloudflare:workers")).env.DB.prepare("select id from message_recipients where message_id = ?").bind(acc.id).first<{ id: string }>();
    const verp = `bounces+${mr!.id}@bounces.relay.example`;
    const [got] = await sim().received("smtp", verp);
    expect(got?.mailFrom).toBe(verp);
    expect(decodeVerp(got!.mailFrom, "bounces.relay.example")).toEqual({ kind: "recipient", messageRecipientId: mr!.id });
    expect(got?.parsed?.from).toBe(`noreply@${ws.domain}`);
  });

  it("a batch's messages share sessions to the smarthost: never more than max_connections, each carrying several", async () => {
    const base = smtpProvider();
    const ws = await workspaceWith({ ...base, config: { ...base.config, max_connections: 2 } });
    // Jobs kept out of the background consumer, so this one batch delivers all six.
    const { queue, jobs } = capturingQueue();
    for (let i = 0; i < 6; i++) await acceptDirect(ws, { to: [`p${i}@example.net`] }, { DELIVERY_QUEUE: queue });
    const batch = createMessageBatch("relay-delivery", jobs.map((body, i) => ({ id: `smtp-${i}`, timestamp: new Date(), attempts: 1, body })));
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(6);

    const got = await sim().received("smtp", `noreply@${ws.domain}`);
    expect(got.map((g) => g.rcptTo[0]).sort()).toEqual(["p0@example.net", "p1@example.net", "p2@example.net", "p3@example.net", "p4@example.net", "p5@example.net"]);
    const sessions = new Set(got.map((g) => g.session));
    expect(sessions.size).toBeGreaterThanOrEqual(1);
    expect(sessions.size).toBeLessThanOrEqual(2);
  });
});

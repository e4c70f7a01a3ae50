// Campaigns end to end: messages join a campaign at accept (JSON, batch, MIME, X-Relay-Campaign),
// counters move with recipient statuses through the real queue, the SMTP sink and the bounce
// mailbox, never twice for one transition, and one workspace never sees or uses another's.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../db/client";
import { applyOutcome, findDeliveryById } from "../db/inbound";
import { failPending } from "../db/messages/end-pending";
import { recordDelivery } from "../db/messages/delivery";
import { api, createWorkspace, json, message, waitForStatus, type TestWorkspace } from "./helpers";
import { crlf, deliverEmail } from "./inbound-fixtures";
import { mailgunProvider, recipient, sim, smtpProvider, uniq, workspaceWith } from "./simulators/delivery-fixtures";

const BOUNCE_DOMAIN = "bounces.relay.example";
const ZERO = { queued: 0, sent: 0, delivered: 0, bounced: 0, complained: 0, failed: 0, suppressed: 0 };

async function createCampaign(ws: TestWorkspace, body: Record<string, unknown> = {}): Promise<any> {
  const res = await api("/v1/campaigns", { method: "POST", key: ws.key, json: { name: "Flu shots 2026", ...body } });
  expect(res.status, await res.clone().text()).toBe(201);
  return json(res);
}

const stats = async (ws: TestWorkspace, id: string) => {
  const res = await api(`/v1/campaigns/${id}`, { key: ws.key });
  expect(res.status).toBe(200);
  return json(res);
};

async function suppress(ws: TestWorkspace, email: string, status = "unsubscribed") {
  const r = await json(await api("/v1/recipients", { method: "POST", key: ws.key, json: { email } }));
  expect((await api(`/v1/recipients/${r.id}/suppression`, { method: "PUT", key: ws.key, json: { status } })).status).toBe(200);
}

const dsn = (rcpt: string, originalMessageId: string) =>
  crlf(`From: MAILER-DAEMON@mx.example.net
To: bounces@${BOUNCE_DOMAIN}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Delivery to ${rcpt} failed.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; ${rcpt}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown

--b1
Content-Type: text/rfc822-headers

To: ${rcpt}
Message-ID: ${originalMessageId}

--b1--
`);

describe("campaign stats", { timeout: 30_000 }, () => {
  it("after a mixed outcome: 1 suppressed, 2 sent, 1 permanently failed, then a bounce (reported twice)", async () => {
    const ws = await workspaceWith(smtpProvider());
    const from = `noreply@${ws.domain}`;
    await sim().addFault({ target: "smtp-rcpt", scope: from, match: "gone@example.net", status: 550, body: "5.1.1 <gone@example.net>: User unknown" });
    await suppress(ws, "left@example.net");
    const campaign = await createCampaign(ws);
    expect(campaign).toMatchObject({ status: "active", stats: ZERO });

    const res = await api("/v1/messages", {
      method: "POST",
      key: ws.key,
      json: message(ws, { to: ["ann@example.net", "bob@example.net", "gone@example.net", "left@example.net"], campaign_id: campaign.id }),
    });
    expect(res.status).toBe(202);
    const acc = await json(res);
    // Counted in the accept batch, before any delivery.
    expect((await stats(ws, campaign.id)).stats).toEqual({ ...ZERO, queued: 3, suppressed: 1 });

    const done = await waitForStatus(ws, acc.id, ["partially_failed", "sent", "failed"], 15_000);
    expect(done.status).toBe("partially_failed");
    expect(done.campaign_id).toBe(campaign.id);
    expect(recipient(done, "gone@example.net")!.status).toBe("failed");
    expect(recipient(done, "left@example.net")!.status).toBe("suppressed");
    expect((await stats(ws, campaign.id)).stats).toEqual({ ...ZERO, queued: 3, sent: 2, failed: 1, suppressed: 1 });

    // A bounce for Ann arrives later at the bounce mailbox; a second copy of it changes nothing.
    for (let i = 0; i < 2; i++) {
      const m = await deliverEmail(dsn("ann@example.net", acc.message_id), { from: "", to: `bounces@${BOUNCE_DOMAIN}` });
      expect(m.rejected).toBeNull();
    }
    expect(recipient(await json(await api(`/v1/messages/${acc.id}`, { key: ws.key })), "ann@example.net")!.status).toBe("bounced");

    const read = await stats(ws, campaign.id);
    const expected = { queued: 3, sent: 2, delivered: 0, bounced: 1, complained: 0, failed: 1, suppressed: 1 };
    expect(read.stats).toEqual(expected);
    // Per UTC day; everything happened today (a run across midnight UTC splits it over two rows).
    const summed = { ...ZERO };
    for (const d of read.days) for (const k of Object.keys(ZERO) as (keyof typeof ZERO)[]) summed[k] += d[k];
    expect(summed).toEqual(expected);
    expect(read.days.at(-1).day).toBe(new Date().toISOString().slice(0, 10));
    // The list shows the same totals.
    const list = await json(await api("/v1/campaigns", { key: ws.key }));
    expect(list.data.find((c: any) => c.id === campaign.id).stats).toEqual(expected);
    await sim().clearFaults(from);
  });

  it("counts only transitions: a recorded outcome, a report or a dead-letter seen twice counts once", async () => {
    // Mailgun always 503 with an hour between retries: both recipients stay deferred (pending).
    const domain = `${uniq("mg")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain), { base_seconds: 3600, factor: 1, cap_seconds: 3600, max_age_seconds: 86400 });
    await sim().addFault({ target: "mailgun", scope: domain, status: 503 });
    const campaign = await createCampaign(ws);
    const acc = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["a@example.net", "b@example.net"], campaign_id: campaign.id }) }));
    await waitForStatus(ws, acc.id, ["deferred"], 10_000);
    expect((await stats(ws, campaign.id)).stats).toEqual({ ...ZERO, queued: 2 });

    const db = getDb(env.DB);
    const rows = (await env.DB.prepare("select id, email from message_recipients where message_id = ?").bind(acc.id).all<{ id: string; email: string }>()).results;
    const a = rows.find((r) => r.email === "a@example.net")!;
    // Two consumers recording the same send (a lease taken over mid-call): one transition.
    for (let i = 0; i < 2; i++) {
      await recordDelivery(db, {
        workspaceId: ws.id,
        messageId: acc.id,
        at: Date.now(),
        outcomes: [{ id: a.id, status: "sent", providerMessageId: "x" }],
        otherStatuses: ["deferred"],
        countAttempt: false,
        campaignId: campaign.id,
      });
    }
    expect((await stats(ws, campaign.id)).stats).toEqual({ ...ZERO, queued: 2, sent: 1 });
    // The losing consumer recording a failure afterwards: a is no longer pending, so no count.
    await recordDelivery(db, { workspaceId: ws.id, messageId: acc.id, at: Date.now(), outcomes: [{ id: a.id, status: "failed" }], otherStatuses: ["deferred"], countAttempt: false, campaignId: campaign.id });
    expect((await stats(ws, campaign.id)).stats).toEqual({ ...ZERO, queued: 2, sent: 1 });

    // The dead-letter path fails what is still pending (b), once.
    expect(await failPending(db, ws.id, acc.id, "dead-lettered", Date.now())).toBe(1);
    expect(await failPending(db, ws.id, acc.id, "dead-lettered", Date.now())).toBe(0);
    expect((await stats(ws, campaign.id)).stats).toEqual({ ...ZERO, queued: 2, sent: 1, failed: 1 });

    // A complaint for a (Mailgun webhook, or ARF mail: both end in applyOutcome), reported twice.
    for (let i = 0; i < 2; i++) {
      const ref = (await findDeliveryById(db, a.id))!;
      expect(ref.campaignId).toBe(campaign.id);
      await applyOutcome(db, { ref, status: "complained", suppress: "complained", eventType: "complaint", detail: {}, at: Date.now() });
    }
    expect((await stats(ws, campaign.id)).stats).toEqual({ ...ZERO, queued: 2, sent: 1, failed: 1, complained: 1 });
    await sim().clearFaults(domain);
  });

  it("batch and MIME sends count too; X-Relay-Campaign names the campaign and is not relayed", async () => {
    const ws = await createWorkspace();
    const campaign = await createCampaign(ws);
    const batch = await json(
      await api("/v1/messages/batch", {
        method: "POST",
        key: ws.key,
        json: { messages: [message(ws, { campaign_id: campaign.id }), message(ws, { to: ["x@example.net", "y@example.net"], campaign_id: campaign.id }), message(ws)] },
      }),
    );
    expect(batch.results.map((r: any) => r.status)).toEqual([202, 202, 202]);

    const raw = crlf(`From: noreply@${ws.domain}\nTo: pat@example.net\nSubject: Reminder\nX-Relay-Campaign: ${campaign.id}\n\nSee you.\n`);
    const viaHeader = await api("/v1/messages/mime?mail_from=noreply@" + ws.domain + "&rcpt_to=pat@example.net", {
      method: "POST",
      key: ws.key,
      headers: { "content-type": "message/rfc822" },
      body: raw,
    });
    expect(viaHeader.status, await viaHeader.clone().text()).toBe(202);
    const viaJson = await api("/v1/messages/mime", {
      method: "POST",
      key: ws.key,
      json: { mail_from: `noreply@${ws.domain}`, rcpt_to: ["kim@example.net"], raw: raw.replace(/X-Relay-Campaign: .*\r\n/, ""), campaign_id: campaign.id },
    });
    expect(viaJson.status, await viaJson.clone().text()).toBe(202);

    const id = (await json(viaHeader)).id;
    await waitForStatus(ws, id, ["sent"]);
    const rendered = await (await api(`/v1/messages/${id}/rendered`, { key: ws.key })).text();
    expect(rendered).toMatch(/Subject: Reminder/);
    expect(rendered).not.toMatch(/X-Relay-Campaign/i);
    expect((await json(await api(`/v1/messages/${id}`, { key: ws.key }))).campaign_id).toBe(campaign.id);
    await waitForStatus(ws, (await json(viaJson)).id, ["sent"]);
    for (const r of batch.results.slice(0, 2)) await waitForStatus(ws, r.id, ["sent"]);
    // 1 + 2 (batch, the third item has no campaign) + 1 (header) + 1 (JSON field)
    expect((await stats(ws, campaign.id)).stats).toEqual({ ...ZERO, queued: 5, sent: 5 });
  });

  it("refuses unknown, malformed and inactive campaigns with a code; cancelled is final", async () => {
    const ws = await createWorkspace();
    const send = (campaign_id: string) => api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { campaign_id }) });

    const unknown = await send("cmp_AAAAAAAAAAAAAAAAAAAAAA");
    expect(unknown.status).toBe(422);
    expect((await json(unknown)).error.code).toBe("unknown_campaign");
    expect((await send("not-a-campaign")).status).toBe(400);

    const draft = await createCampaign(ws, { status: "draft" });
    const refused = await send(draft.id);
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.code).toBe("campaign_not_active");
    expect((await stats(ws, draft.id)).stats).toEqual(ZERO);

    const patch = (body: unknown) => api(`/v1/campaigns/${draft.id}`, { method: "PATCH", key: ws.key, json: body });
    expect((await json(await patch({ status: "active", name: "Renamed" })))).toMatchObject({ status: "active", name: "Renamed" });
    expect((await send(draft.id)).status).toBe(202);
    expect((await patch({ status: "completed" })).status).toBe(200);
    expect((await send(draft.id)).status).toBe(409);
    expect((await patch({ status: "cancelled" })).status).toBe(200);
    const reopen = await patch({ status: "active" });
    expect(reopen.status).toBe(409);
    expect((await json(reopen)).error.code).toBe("conflict");
    expect((await patch({})).status).toBe(400);
    // The refused sends were not counted; the accepted one was.
    expect((await stats(ws, draft.id)).stats.queued).toBe(1);

    const listed = await json(await api("/v1/campaigns?status=cancelled", { key: ws.key }));
    expect(listed.data.map((c: any) => c.id)).toEqual([draft.id]);
    // Creating and changing a campaign is audited.
    const audit = await json(await api("/v1/audit-logs?action=campaign.update", { key: ws.key }));
    expect(audit.data.length).toBeGreaterThanOrEqual(3);
  });

  it("list pages with a cursor", async () => {
    const ws = await createWorkspace();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createCampaign(ws, { name: `c${i}` })).id);
    const p1 = await json(await api("/v1/campaigns?limit=2", { key: ws.key }));
    expect(p1.data).toHaveLength(2);
    const p2 = await json(await api(`/v1/campaigns?limit=2&cursor=${p1.next_cursor}`, { key: ws.key }));
    expect(p2.next_cursor).toBeNull();
    expect([...p1.data, ...p2.data].map((c: any) => c.id).sort()).toEqual([...ids].sort());
  });
});

describe("campaign tenant isolation", () => {
  it("workspace B can neither read, change, list nor send with A's campaign", async () => {
    const a = await createWorkspace();
    const b = await createWorkspace();
    const campaign = await createCampaign(a);

    for (const [method, body] of [["GET", undefined], ["PATCH", { status: "cancelled" }]] as const) {
      const res = await api(`/v1/campaigns/${campaign.id}`, { method, key: b.key, ...(body ? { json: body } : {}) });
      expect(res.status, method).toBe(404);
      expect((await json(res)).error.code).toBe("not_found");
    }
    expect((await json(await api("/v1/campaigns", { key: b.key }))).data).toEqual([]);

    // Using A's id is the same answer as an unknown id: nothing about A is revealed.
    const send = await api("/v1/messages", { method: "POST", key: b.key, json: message(b, { campaign_id: campaign.id }) });
    expect(send.status).toBe(422);
    expect((await json(send)).error.code).toBe("unknown_campaign");
    const raw = crlf(`From: noreply@${b.domain}\nTo: pat@example.net\nSubject: x\nX-Relay-Campaign: ${campaign.id}\n\nhi\n`);
    const mime = await api(`/v1/messages/mime?mail_from=noreply@${b.domain}&rcpt_to=pat@example.net`, { method: "POST", key: b.key, headers: { "content-type": "message/rfc822" }, body: raw });
    expect(mime.status).toBe(422);

    const read = await stats(a, campaign.id);
    expect(read.status).toBe("active");
    expect(read.stats).toEqual(ZERO);
  });
});

// Bounces end to end, inbound report → records: a bounce whose reason is the sender's (the sending
// IP on a blocklist) never suppresses the recipient, however often it comes, and counts against
// the provider and the sending domain instead; an unknown user does suppress; an address the
// report names that the delivery was not sent to is flagged, not suppressed. The reason reaches
// the recipient event, the API and the `message.bounced` webhook.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { encodeVerp } from "../core/verp";
import { api, createWorkspace, json, message, waitForStatus, type TestWorkspace } from "./helpers";
import { captureWebhooks, crlf, deliverEmail } from "./inbound-fixtures";

const BOUNCE_DOMAIN = "bounces.relay.example";

async function sentMessage(ws: TestWorkspace, to: string) {
  const acc = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: [to] }) }));
  await waitForStatus(ws, acc.id, ["sent"]);
  const row = await env.DB.prepare("select id from message_recipients where message_id = ?").bind(acc.id).first<{ id: string }>();
  return { id: acc.id as string, mrId: row!.id };
}

/** A Postfix DSN for `recipient` with the remote server's reply. */
function dsn(recipient: string, status: string, reply: string) {
  return crlf(`From: MAILER-DAEMON@mx.provider.example
To: bounces@${BOUNCE_DOMAIN}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.provider.example

Final-Recipient: rfc822; ${recipient}
Action: failed
Status: ${status}
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; ${reply}

--b1--
`);
}

const BLOCKED = "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org";

const recipientRecord = (ws: TestWorkspace, email: string) =>
  env.DB.prepare("select status, bounce_count from recipients where workspace_id = ? and email = ?").bind(ws.id, email).first<{ status: string; bounce_count: number }>();

/** relay_sender_side_bounces for this workspace's provider and domain, reason blocked, from /metrics. */
async function senderSideBounces(ws: TestWorkspace): Promise<number> {
  const text = await (await api("/metrics", { key: "test-metrics-token" })).text();
  let n = 0;
  for (const m of text.matchAll(/^relay_sender_side_bounces\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels["workspace"] === ws.id && labels["provider"] === ws.providerId && labels["sender_domain"] === ws.domain && labels["reason"] === "blocked") n += Number(m[2]);
  }
  return n;
}

describe("bounce reasons end to end", { timeout: 30_000 }, () => {
  it("a blocked bounce (the sending IP on a blocklist) never suppresses: suppression list unchanged, counted against provider and domain", async () => {
    const ws = await createWorkspace();
    const ep = await json(await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url: "https://hooks.test/bounced", events: ["message.bounced", "message.suppressed"] } }));
    const hooks = captureWebhooks("https://hooks.test/");
    try {
      const before = await senderSideBounces(ws);
      // Three times: past HARD_BOUNCE_SUPPRESS_AFTER (2), were it counted.
      for (let i = 0; i < 3; i++) {
        const sent = await sentMessage(ws, "patient@example.net");
        const m = await deliverEmail(dsn("patient@example.net", "5.7.1", BLOCKED), { from: "", to: encodeVerp(sent.mrId, BOUNCE_DOMAIN) });
        expect(m.rejected).toBeNull();
        // The delivery failed (the message is bounced), for a reason that is not the recipient's.
        const detail = await json(await api(`/v1/messages/${sent.id}`, { key: ws.key }));
        expect(detail.recipients[0]).toMatchObject({
          status: "bounced",
          bounce: { type: "soft", reason: "blocked", cause: "sender", status: "5.7.1", status_inferred: false, remote_mta: "mx.example.net", diagnostic: BLOCKED },
        });
        const ev = await env.DB.prepare("select type, detail from recipient_events where message_recipient_id = ? and type like 'bounce%'").bind(sent.mrId).first<{ type: string; detail: string }>();
        expect(ev!.type).toBe("bounce_soft");
        expect(JSON.parse(ev!.detail)).toMatchObject({ reason: "blocked", cause: "sender", suppress: false, final: true });
      }
      expect(await recipientRecord(ws, "patient@example.net")).toEqual({ status: "active", bounce_count: 0 });
      const suppressions = await json(await api("/v1/suppressions", { key: ws.key }));
      expect(suppressions.data.map((r: { email: string }) => r.email)).not.toContain("patient@example.net");
      // The next message to the same patient is accepted and sent, not dropped as suppressed.
      const next = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["patient@example.net"] }) }));
      expect((await waitForStatus(ws, next.id, ["sent", "failed"])).recipients[0].status).toBe("sent");

      // The provider's and the sending domain's counter went up by each bounce.
      expect(await senderSideBounces(ws)).toBe(before + 3);

      // message.bounced carries the reason, status, diagnostic and remote MTA; nothing was suppressed.
      const bodies = hooks.calls.filter((c) => c.url.endsWith("/bounced")).map((c) => JSON.parse(c.body));
      expect(bodies.map((b) => b.type)).toEqual(["message.bounced", "message.bounced", "message.bounced"]);
      expect(bodies[0].data).toMatchObject({
        recipient: "patient@example.net",
        status: "bounced",
        reason: "blocked",
        provider: { id: ws.providerId },
        bounce: { type: "soft", reason: "blocked", cause: "sender", status: "5.7.1", diagnostic: BLOCKED, remote_mta: "mx.example.net", suppress: false },
      });
      expect(ep.id).toBeTruthy();
    } finally {
      hooks.restore();
    }
  });

  it("an unknown user is hard and suppresses after HARD_BOUNCE_SUPPRESS_AFTER; a report naming another address is flagged, not counted", async () => {
    const ws = await createWorkspace();
    const reply = "550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown in local recipient table";
    const first = await sentMessage(ws, "gone@example.net");
    await deliverEmail(dsn("gone@example.net", "5.1.1", reply), { from: "", to: encodeVerp(first.mrId, BOUNCE_DOMAIN) });
    const detail = await json(await api(`/v1/messages/${first.id}`, { key: ws.key }));
    expect(detail.recipients[0]).toMatchObject({ status: "bounced", bounce: { type: "hard", reason: "userunknown", cause: "recipient", status: "5.1.1" } });
    expect(await recipientRecord(ws, "gone@example.net")).toEqual({ status: "active", bounce_count: 1 });

    // The VERP address names this delivery, but the report is about an address it was not sent to.
    const other = await sentMessage(ws, "gone@example.net");
    await deliverEmail(dsn("forwarded@elsewhere.example", "5.1.1", "550 5.1.1 user unknown"), { from: "", to: encodeVerp(other.mrId, BOUNCE_DOMAIN) });
    const ev = await env.DB.prepare("select detail from recipient_events where message_recipient_id = ? and type like 'bounce%'").bind(other.mrId).first<{ detail: string }>();
    expect(JSON.parse(ev!.detail)).toMatchObject({ reason: "userunknown", reported_recipient: "forwarded@elsewhere.example", recipient_matched: false, suppress: false });
    expect(await recipientRecord(ws, "gone@example.net")).toEqual({ status: "active", bounce_count: 1 });

    const third = await sentMessage(ws, "gone@example.net");
    await deliverEmail(dsn("gone@example.net", "5.1.1", reply), { from: "", to: encodeVerp(third.mrId, BOUNCE_DOMAIN) });
    expect(await recipientRecord(ws, "gone@example.net")).toEqual({ status: "bounced", bounce_count: 2 });
  });
});

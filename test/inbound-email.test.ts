// The email() handler in workerd: submission by email end to end, refusals with reasons, and
// bounces/complaints at the VERP bounce address updating recipients and the suppression list.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { encodeVerp } from "../core/verp";
import { api, createWorkspace, json, message, waitForStatus, type TestWorkspace } from "./helpers";
import worker from "../workers/index";
import { crlf, deliverEmail, emailMessage } from "./inbound-fixtures";

const SUBMIT = "send@submit.relay.example";
const BOUNCE_DOMAIN = "bounces.relay.example";

function submission(ws: TestWorkspace, opts: { auth?: string | null; from?: string; to?: string; messageId?: string; extra?: string } = {}) {
  const from = opts.from ?? `reminders@${ws.domain}`;
  const domain = from.split("@")[1];
  const auth =
    opts.auth === null
      ? ""
      : `Authentication-Results: mx.cloudflare.net;\n dkim=pass header.d=${domain} header.s=s1 header.b=abc;\n spf=pass (mx.cloudflare.net: domain of ${from} designates 192.0.2.1 as permitted sender) smtp.mailfrom=${from};\n ${opts.auth ?? `dmarc=pass header.from=${domain}`}\n`;
  return crlf(
    `${auth}From: Clinic <${from}>\nTo: ${opts.to ?? `Patient <patient@example.net>, ${SUBMIT}`}\nSubject: Appointment\nMessage-ID: ${opts.messageId ?? `<${crypto.randomUUID()}@${domain}>`}\nDate: Sat, 28 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n${opts.extra ?? ""}\nSee you Tuesday.\n`,
  );
}

async function emailMessages(ws: TestWorkspace): Promise<any[]> {
  return (await json(await api("/v1/messages?limit=50", { key: ws.key }))).data.filter((m: any) => m.source === "email");
}

describe("submission by email", { timeout: 20_000 }, () => {
  it("an authenticated sender of a workspace: accepted into the accept path and sent", async () => {
    const ws = await createWorkspace();
    const msg = await deliverEmail(submission(ws), { from: `reminders@${ws.domain}`, to: SUBMIT });
    expect(msg.rejected).toBeNull();
    const [m, ...more] = await emailMessages(ws);
    expect(more).toHaveLength(0);
    const done = await waitForStatus(ws, m.id, ["sent", "failed"]);
    expect(done.status).toBe("sent");
    expect(done.recipients.map((r: any) => r.email)).toEqual(["patient@example.net"]);
    // Our own headers and Email Routing's are not relayed.
    const rendered = await (await api(`/v1/messages/${m.id}/rendered`, { key: ws.key })).text();
    expect(rendered).not.toMatch(/Authentication-Results/i);
    expect(rendered).toMatch(/See you Tuesday/);
  });

  it("the same Message-ID twice: one message (idempotent)", async () => {
    const ws = await createWorkspace();
    const id = `<${crypto.randomUUID()}@${ws.domain}>`;
    await deliverEmail(submission(ws, { messageId: id }), { from: `a@${ws.domain}`, to: SUBMIT });
    const second = await deliverEmail(submission(ws, { messageId: id }), { from: `a@${ws.domain}`, to: SUBMIT });
    expect(second.rejected).toBeNull();
    expect(await emailMessages(ws)).toHaveLength(1);
  });

  it("X-Relay-Rcpt-To names the recipients explicitly", async () => {
    const ws = await createWorkspace();
    await deliverEmail(submission(ws, { to: SUBMIT, extra: "X-Relay-Rcpt-To: a@example.net, b@example.net\n" }), { from: `a@${ws.domain}`, to: SUBMIT });
    const [m] = await emailMessages(ws);
    const detail = await json(await api(`/v1/messages/${m.id}`, { key: ws.key }));
    expect(detail.recipients.map((r: any) => r.email).sort()).toEqual(["a@example.net", "b@example.net"]);
  });

  it("refuses an unknown sender domain, failed DMARC, missing authentication, and other addresses", async () => {
    const ws = await createWorkspace();
    const unknown = await deliverEmail(submission(ws, { from: "someone@not-a-customer.example" }), { from: "someone@not-a-customer.example", to: SUBMIT });
    expect(unknown.rejected).toMatch(/^550 5\.7\.1 .*not a verified sender domain/);

    const dmarcFail = await deliverEmail(submission(ws, { auth: `dmarc=fail header.from=${ws.domain}` }), { from: `a@${ws.domain}`, to: SUBMIT });
    expect(dmarcFail.rejected).toMatch(/^550 5\.7\.26 sender not authenticated: DMARC fail/);

    const none = await deliverEmail(submission(ws, { auth: null }), { from: `a@${ws.domain}`, to: SUBMIT });
    expect(none.rejected).toMatch(/no Authentication-Results/);

    // A header forged by the sender (another authserv-id) does not count.
    const forged = await deliverEmail(
      crlf(`Authentication-Results: evil.example; dmarc=pass header.from=${ws.domain}\n`) + submission(ws, { auth: null }),
      { from: `a@${ws.domain}`, to: SUBMIT },
    );
    expect(forged.rejected).toMatch(/no Authentication-Results/);

    const elsewhere = await deliverEmail(submission(ws), { from: `a@${ws.domain}`, to: "info@submit.relay.example" });
    expect(elsewhere.rejected).toMatch(/^550 5\.1\.1 no such mailbox/);
    expect(await emailMessages(ws)).toHaveLength(0);
  });

  it("refuses unparseable and headerless mail with a reason instead of crashing", async () => {
    const ws = await createWorkspace();
    const noFrom = await deliverEmail(crlf("Subject: hi\n\nbody\n"), { from: `a@${ws.domain}`, to: SUBMIT });
    expect(noFrom.rejected).toMatch(/^550 5\.6\.0 .*From/);
    const garbage = await deliverEmail("\u0000\u0001 not mail at all", { from: "x@example.net", to: `bounces@${BOUNCE_DOMAIN}` });
    expect(garbage.rejected).toMatch(/^550 /);
  });

  it("over the sender's limit is a temporary failure (the sender retries), never a bounce", async () => {
    const ws = await createWorkspace();
    expect((await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { limits: { user_daily: 1 } } })).status).toBe(200);
    const first = await deliverEmail(submission(ws), { from: `reminders@${ws.domain}`, to: SUBMIT });
    expect(first.rejected).toBeNull();
    const second = emailMessage(submission(ws), { from: `reminders@${ws.domain}`, to: SUBMIT });
    await expect(worker.email!(second, env, { waitUntil() {}, passThroughOnException() {} } as unknown as ExecutionContext)).rejects.toMatchObject({
      code: "rate_limited",
    });
    expect(second.rejected).toBeNull();
    expect(await emailMessages(ws)).toHaveLength(1);
  });
});

async function sentMessage(ws: TestWorkspace, to = "patient@example.net") {
  const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: [to] }) });
  const acc = await json(res);
  await waitForStatus(ws, acc.id, ["sent"]);
  const row = await env.DB.prepare("select id from message_recipients where message_id = ?").bind(acc.id).first<{ id: string }>();
  return { id: acc.id as string, messageIdHeader: acc.message_id as string, mrId: row!.id };
}

function dsn(recipient: string, action: string, status: string, originalMessageId = "<x@example.org>") {
  return crlf(`From: MAILER-DAEMON@mx.example.net
To: bounces@${BOUNCE_DOMAIN}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Delivery to ${recipient} failed.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; ${recipient}
Action: ${action}
Status: ${status}
Diagnostic-Code: smtp; ${status.startsWith("5") ? "550" : "450"} ${status} mailbox problem

--b1
Content-Type: text/rfc822-headers

From: noreply@example.org
To: ${recipient}
Message-ID: ${originalMessageId}
Subject: Your appointment

--b1--
`);
}

const recipientRecord = (ws: TestWorkspace, email: string) =>
  env.DB.prepare("select status, bounce_count from recipients where workspace_id = ? and email = ?").bind(ws.id, email).first<{ status: string; bounce_count: number }>();
const events = (mrId: string) =>
  env.DB.prepare("select type, detail from recipient_events where message_recipient_id = ? order by created_at").bind(mrId).all<{ type: string; detail: string }>();

describe("bounces at the VERP address", { timeout: 20_000 }, () => {
  it("a hard bounce marks the recipient bounced; the second one suppresses the address", async () => {
    const ws = await createWorkspace();
    const first = await sentMessage(ws, "gone@example.net");
    const m1 = await deliverEmail(dsn("gone@example.net", "failed", "5.1.1"), { from: "", to: encodeVerp(first.mrId, BOUNCE_DOMAIN) });
    expect(m1.rejected).toBeNull();
    const after1 = await json(await api(`/v1/messages/${first.id}`, { key: ws.key }));
    expect(after1.status).toBe("failed");
    expect(after1.recipients[0]).toMatchObject({ status: "bounced", last_error: expect.stringMatching(/5\.1\.1/) });
    expect(await recipientRecord(ws, "gone@example.net")).toEqual({ status: "active", bounce_count: 1 });
    expect((await events(first.mrId)).results.map((e) => e.type)).toEqual(["delivery.sent", "bounce_hard"]); // the delivery, then its bounce

    const second = await sentMessage(ws, "gone@example.net");
    await deliverEmail(dsn("gone@example.net", "failed", "5.1.1"), { from: "", to: encodeVerp(second.mrId, BOUNCE_DOMAIN) });
    expect(await recipientRecord(ws, "gone@example.net")).toEqual({ status: "bounced", bounce_count: 2 });
  });

  it("a soft bounce (delayed, 4.x.x) is recorded but changes neither status nor suppression", async () => {
    const ws = await createWorkspace();
    const sent = await sentMessage(ws, "full@example.net");
    const m = await deliverEmail(dsn("full@example.net", "delayed", "4.2.2"), { from: "", to: encodeVerp(sent.mrId, BOUNCE_DOMAIN) });
    expect(m.rejected).toBeNull();
    const after = await json(await api(`/v1/messages/${sent.id}`, { key: ws.key }));
    expect(after.recipients[0].status).toBe("sent");
    expect(await recipientRecord(ws, "full@example.net")).toEqual({ status: "active", bounce_count: 0 });
    expect((await events(sent.mrId)).results.map((e) => e.type)).toEqual(["delivery.sent", "bounce_soft"]);
  });

  it("a bounce without VERP is matched by the original Message-ID and recipient", async () => {
    const ws = await createWorkspace();
    const sent = await sentMessage(ws, "nobody@example.net");
    const m = await deliverEmail(dsn("nobody@example.net", "failed", "5.1.1", sent.messageIdHeader), { from: "", to: `bounces@${BOUNCE_DOMAIN}` });
    expect(m.rejected).toBeNull();
    const after = await json(await api(`/v1/messages/${sent.id}`, { key: ws.key }));
    expect(after.recipients[0].status).toBe("bounced");
  });

  it("an ARF complaint marks the recipient complained and suppresses at once", async () => {
    const ws = await createWorkspace();
    const sent = await sentMessage(ws, "angry@example.net");
    const arf = crlf(`From: fbl@isp.example
To: bounces@${BOUNCE_DOMAIN}
Subject: FW: abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="f"

--f
Content-Type: text/plain

This is an abuse report.

--f
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: FBL/1.0
Version: 1
Original-Rcpt-To: angry@example.net

--f
Content-Type: text/rfc822-headers

From: noreply@${ws.domain}
To: angry@example.net
Message-ID: ${sent.messageIdHeader}

--f--
`);
    const m = await deliverEmail(arf, { from: "fbl@isp.example", to: encodeVerp(sent.mrId, BOUNCE_DOMAIN) });
    expect(m.rejected).toBeNull();
    const after = await json(await api(`/v1/messages/${sent.id}`, { key: ws.key }));
    expect(after.recipients[0].status).toBe("complained");
    expect(await recipientRecord(ws, "angry@example.net")).toMatchObject({ status: "complained" });
  });

  it("an out-of-office reply is recorded as such, not as a bounce; ordinary mail and unknown ids are refused", async () => {
    const ws = await createWorkspace();
    const sent = await sentMessage(ws, "away@example.net");
    const ooo = crlf(`From: away@example.net\nTo: bounces@${BOUNCE_DOMAIN}\nSubject: Out of Office: Your appointment\nAuto-Submitted: auto-replied\n\nI am away until Monday.\n`);
    const m = await deliverEmail(ooo, { from: "away@example.net", to: encodeVerp(sent.mrId, BOUNCE_DOMAIN) });
    expect(m.rejected).toBeNull();
    expect((await events(sent.mrId)).results.map((e) => e.type)).toEqual(["delivery.sent", "auto_reply"]);
    expect((await json(await api(`/v1/messages/${sent.id}`, { key: ws.key }))).recipients[0].status).toBe("sent");

    const plain = await deliverEmail(crlf("From: someone@example.net\nTo: x@y\nSubject: hello\n\nhi\n"), { from: "someone@example.net", to: encodeVerp(sent.mrId, BOUNCE_DOMAIN) });
    expect(plain.rejected).toMatch(/^550 5\.7\.1 not a delivery status notification/);

    const unknown = await deliverEmail(dsn("x@example.net", "failed", "5.1.1"), { from: "", to: `bounces+mr_AAAAAAAAAAAAAAAAAAAAAA@${BOUNCE_DOMAIN}` });
    expect(unknown.rejected).toMatch(/^550 5\.1\.1 unknown bounce address/);
  });
});

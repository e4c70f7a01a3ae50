// The raw paths check what they deliver: header smuggling with a lone CR or a NUL, and an envelope
// sender in another tenant's domain, found by an outside security review. Judged on what reached
// the SMTP sink's wire, never on /rendered (which showed the raw CR while the wire had two From).
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, waitForStatus, type TestWorkspace } from "./helpers";
import { crlf, deliverEmail } from "./inbound-fixtures";
import { sim, smtpProvider, workspaceWith } from "./simulators/delivery-fixtures";

const SUBMIT = "send@submit.relay.example";

async function submitRaw(ws: TestWorkspace, raw: string, mailFrom: string, form: "json" | "rfc822" = "json") {
  const res =
    form === "json"
      ? await api("/v1/messages/mime", { method: "POST", key: ws.key, json: { mail_from: mailFrom, rcpt_to: ["patient@example.net"], raw } })
      : await api(`/v1/messages/mime?mail_from=${encodeURIComponent(mailFrom)}&rcpt_to=patient%40example.net`, {
          method: "POST",
          key: ws.key,
          headers: { "content-type": "message/rfc822" },
          body: raw,
        });
  return { status: res.status, body: await json(res) };
}

const wire = (ws: TestWorkspace, sender: string) => sim().received("smtp", sender);

describe("raw MIME: what is checked is what is delivered", { timeout: 30_000 }, async () => {
  const a = await createWorkspace();
  const b = await workspaceWith(smtpProvider());
  const bFrom = `noreply@${b.domain}`;

  it("a lone CR cannot smuggle a second From (or Sender, Reply-To) in another tenant's domain", async () => {
    for (const field of ["From", "Sender", "Reply-To"]) {
      for (const form of ["json", "rfc822"] as const) {
        const raw = `From: B <${bFrom}>\r\nTo: patient@example.net\r\nX-A: a\r${field}: Clinic <noreply@${a.domain}>\r\nSubject: s\r\nMessage-ID: <${crypto.randomUUID()}@${b.domain}>\r\n\r\nhello\r\n`;
        const res = await submitRaw(b, raw, bFrom, form);
        expect(res.status, `${field} ${form}`).toBe(400);
        expect(res.body.error).toMatchObject({ code: "invalid_mime", message: expect.stringMatching(/bare CR/) });
      }
    }
    const nul = await submitRaw(b, `From: ${bFrom}\r\nX-A: a\u0000b\r\nTo: patient@example.net\r\n\r\nhello\r\n\u0000.\r\nQUIT\r\n`, bFrom);
    expect(nul.status).toBe(400);
    expect(nul.body.error.message).toMatch(/NUL/);

    // A clean message from the same workspace goes through, and is the only thing on the wire.
    const ok = await submitRaw(b, `From: B <${bFrom}>\r\nTo: patient@example.net\r\nSubject: fine\r\nMessage-ID: <${crypto.randomUUID()}@${b.domain}>\r\n\r\nhello\r\n`, bFrom);
    expect(ok.status).toBe(202);
    expect((await waitForStatus(b, ok.body.id, ["sent", "failed"], 10_000)).status).toBe("sent");
    const got = await wire(b, bFrom);
    expect(got).toHaveLength(1);
    expect(got[0]!.data.match(/^From:/gim)).toHaveLength(1);
    expect(got[0]!.data).not.toContain(a.domain);
  });

  it("the envelope sender must be in one of the workspace's verified domains", async () => {
    const spoof = `noreply@${a.domain}`;
    for (const form of ["json", "rfc822"] as const) {
      const res = await submitRaw(b, `From: B <${bFrom}>\r\nTo: patient@example.net\r\nSubject: s\r\n\r\nhello\r\n`, spoof, form);
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: "sender_domain_not_verified", message: expect.stringContaining("mail_from") });
    }
    expect(await wire(b, spoof)).toHaveLength(0);
    // The null sender (bounces, notifications) stays allowed.
    expect((await submitRaw(b, `From: B <${bFrom}>\r\nTo: patient@example.net\r\nSubject: null sender\r\n\r\nhello\r\n`, "")).status).toBe(202);
  });
});

describe("inbound mail: repaired before any check", { timeout: 30_000 }, () => {
  it("a lone CR in mail from outside becomes a line end first, so a smuggled From is a second From and refused", async () => {
    const ws = await workspaceWith(smtpProvider());
    const other = await createWorkspace();
    const from = `reminders@${ws.domain}`;
    const auth = `Authentication-Results: mx.cloudflare.net; dkim=pass header.d=${ws.domain} header.s=s1; dmarc=pass header.from=${ws.domain}\r\n`;
    const raw = (extra: string) =>
      `${auth}From: Clinic <${from}>\r\nTo: Patient <patient@example.net>, ${SUBMIT}\r\nSubject: Appointment\r\n${extra}Message-ID: <${crypto.randomUUID()}@${ws.domain}>\r\n\r\nSee you.\r\n`;
    const smuggled = await deliverEmail(crlf(raw(`X-A: a\rFrom: Other <noreply@${other.domain}>\r\n`)), { from, to: SUBMIT });
    expect(smuggled.rejected).toMatch(/exactly one From/);
    // A NUL is dropped (it cannot be sent back), and what is delivered holds none.
    const nul = await deliverEmail(crlf(raw(`X-B: a\u0000b\r\n`)), { from, to: SUBMIT });
    expect(nul.rejected).toBeNull();
    const list = (await json(await api("/v1/messages?limit=10", { key: ws.key }))).data;
    expect(list).toHaveLength(1);
    expect((await waitForStatus(ws, list[0].id, ["sent", "failed"], 10_000)).status).toBe("sent");
    const got = await wire(ws, from);
    expect(got).toHaveLength(1);
    expect(got[0]!.data).toContain("X-B: ab\r\n");
    expect(got[0]!.data).not.toContain("\u0000");
  });
});

describe("relay-internal headers are handled the same way on every path", { timeout: 30_000 }, () => {
  it("X-Relay-Campaign in a JSON send's headers names the campaign and never reaches the recipient", async () => {
    const ws = await workspaceWith(smtpProvider());
    const from = `noreply@${ws.domain}`;
    const campaign = await json(await api("/v1/campaigns", { method: "POST", key: ws.key, json: { name: "flu shots" } }));
    const res = await api("/v1/messages", {
      method: "POST",
      key: ws.key,
      json: { from, to: ["patient@example.net"], subject: "Flu shot", text: "Book now", headers: { "X-Relay-Campaign": campaign.id, "X-Clinic": "north" } },
    });
    expect(res.status).toBe(202);
    const accepted = await json(res);
    const done = await waitForStatus(ws, accepted.id, ["sent", "failed"], 10_000);
    expect(done).toMatchObject({ status: "sent", campaign_id: campaign.id });
    const [got] = await wire(ws, from);
    expect(got!.data).toContain("X-Clinic: north");
    expect(got!.data).not.toMatch(/x-relay-campaign/i);
    const bad = await api("/v1/messages", {
      method: "POST",
      key: ws.key,
      json: { from, to: ["patient@example.net"], subject: "s", text: "t", headers: { "X-Relay-Campaign": "not-a-campaign" } },
    });
    expect(bad.status).toBe(400);
  });
});

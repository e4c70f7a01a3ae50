// PII in logs: a full send (API accept, queue, delivery, reads) is captured from the console and
// must hold no address, name, subject or body; addresses appear only as keyed tokens, the same
// address always giving the same token.
import { afterEach, describe, expect, it, vi } from "vitest";
import { log, piiToken, scrub } from "../workers/log";
import { api, createWorkspace, json, waitForStatus } from "./helpers";

function capture() {
  const lines: string[] = [];
  const grab = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  vi.spyOn(console, "log").mockImplementation(grab);
  vi.spyOn(console, "warn").mockImplementation(grab);
  vi.spyOn(console, "error").mockImplementation(grab);
  vi.spyOn(console, "info").mockImplementation(grab);
  vi.spyOn(console, "debug").mockImplementation(grab);
  return lines;
}

describe("logs carry no personal data", async () => {
  const ws = await createWorkspace();
  afterEach(() => vi.restoreAllMocks());

  const secrets = {
    recipient: "jane.patientname@example.net",
    recipientName: "Janeth Patientname",
    cc: "guardian.person@example.org",
    senderName: "Doctor Alicewonder",
    subject: "MRN-884422 results",
    body: "HbA1c 7.2 body-marker-zx81",
  };

  it("a full send through the API and the queue logs no address, name or body", async () => {
    const lines = capture();
    const res = await api("/v1/messages?to=" + encodeURIComponent(secrets.recipient), {
      method: "POST",
      key: ws.key,
      json: {
        from: `${secrets.senderName} <noreply@${ws.domain}>`,
        to: [{ email: secrets.recipient, name: secrets.recipientName }],
        cc: [secrets.cc],
        subject: secrets.subject,
        text: secrets.body,
        html: `<p>${secrets.body}</p>`,
      },
    });
    expect(res.status).toBe(202);
    const requestId = res.headers.get("x-request-id")!;
    const sent = await json(res);
    await waitForStatus(ws, sent.id, ["sent"]);
    await api(`/v1/messages/${sent.id}/rendered`, { key: ws.key });
    // a refusal that echoes nothing back into logs either
    await api("/v1/messages", { method: "POST", key: ws.key, json: { from: `x@unverified.example`, to: [secrets.recipient], subject: secrets.subject, text: secrets.body } });
    vi.restoreAllMocks();

    const all = lines.join("\n");
    expect(lines.length).toBeGreaterThan(3);
    for (const value of [...Object.values(secrets), "Janeth", "Patientname", "Alicewonder", `noreply@${ws.domain}`, ws.key]) {
      expect(all, value).not.toContain(value);
    }
    expect(all).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/);
    // The request id follows the message from accept into the delivery log, with a token for
    // the recipient (the same token every time).
    const delivery = lines.filter((l) => l.includes('"delivery_recorded"') && l.includes(sent.id));
    expect(delivery.length).toBeGreaterThanOrEqual(2);
    expect(delivery.every((l) => JSON.parse(l).request_id === requestId)).toBe(true);
    expect(delivery.map((l) => JSON.parse(l).recipient)).toContain(piiToken(secrets.recipient));
    expect(piiToken(secrets.recipient.toUpperCase())).toBe(piiToken(secrets.recipient));
  });

  it("log.ts enforces it whatever callers pass", () => {
    const lines = capture();
    log.warn("provider_transient", {
      reason: `550 5.1.1 <${secrets.recipient}>: user unknown; "${secrets.recipientName}" <${secrets.cc}>`,
      to: secrets.recipient,
      display_name: secrets.recipientName,
      subject: secrets.subject,
      body: secrets.body,
      text: secrets.body,
      error: `Authorization: Bearer rk_abcdefghijklmnop failed, token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl`,
      message_id: "msg_abc",
      attempt: 2,
      from: "closed",
    });
    vi.restoreAllMocks();
    const out = JSON.parse(lines[0]!);
    expect(out.message_id).toBe("msg_abc");
    expect(out.attempt).toBe(2);
    expect(out.from).toBe("closed");
    expect(out.subject).toBe("[redacted]");
    expect(out.body).toBe("[redacted]");
    expect(out.text).toBe("[redacted]");
    expect(out.to).toBe(piiToken(secrets.recipient));
    expect(out.display_name).toMatch(/^pii_/);
    expect(out.reason).toContain(piiToken(secrets.recipient));
    expect(out.reason).toContain("user unknown");
    expect(lines[0]).not.toContain("@");
    expect(lines[0]).not.toContain("Patientname");
    expect(out.error).not.toContain("rk_abcdefghijklmnop");
    expect(out.error).not.toContain("eyJhbGci");
  });

  it("tokens are keyed: not a plain hash of the address", async () => {
    const plain = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secrets.recipient))))
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    expect(piiToken(secrets.recipient)).not.toContain(plain.slice(0, 10));
    expect(scrub(`see ${secrets.cc} and ${secrets.cc}`)).toBe(`see ${piiToken(secrets.cc)} and ${piiToken(secrets.cc)}`);
  });
});

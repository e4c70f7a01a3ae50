// Pure pieces of inbound handling: VERP, Authentication-Results, Mailgun and Standard Webhooks signatures.
// (The bounce reader's pieces: test/bounce-reader.test.ts.)
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeVerp, encodeVerp } from "../core/verp";
import { checkMailgunSignature, signStandardWebhook, verifyStandardWebhook } from "../core/webhook-signature";
import { authorizeSender, parseAuthResults } from "../workers/email-ingest/auth-results";

describe("VERP", () => {
  it("round-trips message recipient and message ids; the domain is case-insensitive, the id is not", () => {
    const mr = "mr_AbCdEfGhIjKlMnOpQrStUv";
    const addr = encodeVerp(mr, "Bounces.Relay.Example");
    expect(addr).toBe(`bounces+${mr}@bounces.relay.example`);
    expect(decodeVerp(addr, "bounces.relay.example")).toEqual({ kind: "recipient", messageRecipientId: mr });
    expect(decodeVerp(`BOUNCES+${mr}@BOUNCES.RELAY.EXAMPLE`, "bounces.relay.example")).toEqual({ kind: "recipient", messageRecipientId: mr });
    expect(decodeVerp(encodeVerp("msg_AbCdEfGhIjKlMnOpQrStUv", "b.example"), "b.example")).toEqual({ kind: "message", messageId: "msg_AbCdEfGhIjKlMnOpQrStUv" });
    expect(decodeVerp("bounces@b.example", "b.example")).toEqual({ kind: "plain" });
    expect(decodeVerp("bounces+junk@b.example", "b.example")).toEqual({ kind: "plain" });
    expect(decodeVerp(`bounces+${mr}@other.example`, "b.example")).toBeNull();
    expect(() => encodeVerp("x@y", "b.example")).toThrow();
  });
});

describe("Authentication-Results", () => {
  const header = "mx.cloudflare.net;\r\n dkim=pass header.d=clinic.example header.s=s1;\r\n spf=fail (sender not allowed) smtp.mailfrom=bounce@other.example;\r\n dmarc=pass header.from=clinic.example policy.dmarc=reject";
  it("reads only the trusted authserv-id", () => {
    expect(parseAuthResults(["evil.example; dmarc=pass header.from=clinic.example"], "mx.cloudflare.net")).toBeNull();
    const r = parseAuthResults(["evil.example; dmarc=pass", header], "mx.cloudflare.net")!;
    expect(r.dmarc).toEqual({ result: "pass", domain: "clinic.example" });
    expect(r.dkim).toEqual([{ result: "pass", domain: "clinic.example" }]);
    expect(r.spf).toEqual({ result: "fail", domain: "other.example" });
  });
  it("DMARC pass, or aligned DKIM/SPF without a DMARC verdict; DMARC fail is final", () => {
    expect(authorizeSender(parseAuthResults([header], "mx.cloudflare.net"), "clinic.example")).toEqual({ ok: true, by: "dmarc" });
    expect(authorizeSender(parseAuthResults(["mx.cloudflare.net; dkim=pass header.d=mail.clinic.example"], "mx.cloudflare.net"), "clinic.example")).toEqual({ ok: true, by: "dkim" });
    expect(authorizeSender(parseAuthResults(["mx.cloudflare.net; spf=pass smtp.mailfrom=a@clinic.example"], "mx.cloudflare.net"), "clinic.example")).toEqual({ ok: true, by: "spf" });
    expect(authorizeSender(parseAuthResults(["mx.cloudflare.net; dkim=pass header.d=other.example; spf=pass smtp.mailfrom=a@other.example"], "mx.cloudflare.net"), "clinic.example").ok).toBe(false);
    expect(authorizeSender(parseAuthResults(["mx.cloudflare.net; dkim=pass header.d=clinic.example; dmarc=fail header.from=clinic.example"], "mx.cloudflare.net"), "clinic.example")).toEqual({ ok: false, reason: "DMARC fail" });
  });
});

describe("signatures", () => {
  it("Mailgun: good, forged, stale (±5 minutes)", async () => {
    const key = "signing-key-123";
    const now = Date.now();
    const ts = String(Math.floor(now / 1000));
    const sig = createHmac("sha256", key).update(ts + "tok").digest("hex");
    expect(await checkMailgunSignature(key, { timestamp: ts, token: "tok", signature: sig }, now)).toBe("ok");
    expect(await checkMailgunSignature(key, { timestamp: ts, token: "tok2", signature: sig }, now)).toBe("forged");
    expect(await checkMailgunSignature(key, { timestamp: ts, token: "tok", signature: sig }, now + 301_000)).toBe("stale");
  });
  it("Standard Webhooks: the test vector from the specification verifies", async () => {
    // From the Standard Webhooks reference libraries' tests.
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const body = '{"test": 2432232314}';
    const h = await signStandardWebhook(secret, id, 1614265330, body);
    expect(h["webhook-signature"]).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    expect(await verifyStandardWebhook(secret, { id, timestamp: "1614265330", signature: h["webhook-signature"] }, body, 1614265330)).toBe(true);
    expect(await verifyStandardWebhook(secret, { id, timestamp: "1614265330", signature: h["webhook-signature"] }, body, 1614265330 + 3600)).toBe(false);
  });
});

import { describe, expect, inject, it } from "vitest";
import { simulatorClient } from "../../../test/simulators/workerd-client";
import { createSmtpProvider, smtpConfigSchema, smtpCredentialsSchema, type SmtpConfigInput } from "./smtp";
import { encodeDataPayload } from "./smtp-client";
import { makeCtx, makeMessage, uniq } from "./test-fixtures";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe("smtp config", () => {
  it("rejects port 25 with the reason", () => {
    const r = smtpConfigSchema.safeParse({ host: "smtp.example.org", port: 25, security: "starttls" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/port 25 is blocked .* Cloudflare/);
  });
  it("accepts submission ports and refuses AUTH in clear unless allowed", () => {
    expect(smtpConfigSchema.parse({ host: "smtp.example.org", port: 587, security: "starttls", username: "u" })).toMatchObject({ timeout_ms: 30000, allow_plaintext_auth: false });
    expect(smtpConfigSchema.safeParse({ host: "smtp.example.org", port: 465, security: "tls" }).success).toBe(true);
    expect(smtpConfigSchema.safeParse({ host: "smtp.example.org", port: 2525, security: "none", username: "u" }).success).toBe(false);
    expect(smtpConfigSchema.safeParse({ host: "127.0.0.1", port: 2525, security: "none", username: "u", allow_plaintext_auth: true }).success).toBe(true);
    expect(smtpConfigSchema.safeParse({ host: "bad host\r\n", port: 587, security: "tls" }).success).toBe(false);
    expect(smtpConfigSchema.safeParse({ host: "smtp.example.org", port: 587, security: "ssl" }).success).toBe(false);
    expect(() => createSmtpProvider({ host: "smtp.example.org", port: 587, security: "starttls", username: "u" }, {})).toThrow(/password/);
    // snake_case only: an unknown (camelCase) field is refused rather than ignored.
    expect(smtpConfigSchema.parse({ host: "smtp.example.org", port: 587, security: "starttls", helo_name: "relay.example.org", timeout_ms: 5000 })).toMatchObject({ helo_name: "relay.example.org", timeout_ms: 5000 });
    expect(smtpConfigSchema.safeParse({ host: "smtp.example.org", port: 587, security: "starttls", heloName: "relay.example.org" }).success).toBe(false);
    expect(smtpCredentialsSchema.safeParse({ password: "p", user: "u" }).success).toBe(false);
  });
});

describe("DATA encoding", () => {
  const payload = (raw: Uint8Array) => {
    const r = encodeDataPayload(raw);
    if (!("payload" in r)) throw new Error(`refused: ${JSON.stringify(r.unsafe)}`);
    return r.payload;
  };
  it("dot-stuffs and terminates", () => {
    expect(dec(payload(enc("a\r\n.b\r\n..c\r\n")))).toBe("a\r\n..b\r\n...c\r\n.\r\n");
    expect(dec(payload(enc("x\r\n.\r\ny")))).toBe("x\r\n..\r\ny\r\n.\r\n");
    expect(dec(payload(enc("")))).toBe(".\r\n");
    expect(dec(payload(enc(".")))).toBe("..\r\n.\r\n");
    expect(dec(payload(enc(".\r\n".repeat(1000))))).toBe("..\r\n".repeat(1000) + ".\r\n");
    expect(payload(new Uint8Array([0xc3, 0xa9, 13, 10]))).toEqual(new Uint8Array([0xc3, 0xa9, 13, 10, 46, 13, 10]));
  });
  it("refuses a NUL, a bare CR or a bare LF instead of writing or rewriting it", () => {
    expect(encodeDataPayload(enc("a\r\n\u0000.\r\nb\r\n"))).toEqual({ unsafe: { problem: "nul", offset: 3 } });
    expect(encodeDataPayload(enc("a\r\n.\nb\r\n"))).toEqual({ unsafe: { problem: "bare_lf", offset: 4 } });
    expect(encodeDataPayload(enc("a\r.\rb\r\n"))).toEqual({ unsafe: { problem: "bare_cr", offset: 1 } });
    expect(encodeDataPayload(enc("a\r\nb\r"))).toEqual({ unsafe: { problem: "bare_cr", offset: 4 } });
  });
});

describe("smtp against the SMTP sink", () => {
  const sims = inject("simulators");
  const sim = simulatorClient(sims.httpUrl);
  const base = { host: "localhost", timeout_ms: 5000 } as const;
  const auth = { username: sims.smtp.username };
  const pw = { password: sims.smtp.password };
  const send = (config: SmtpConfigInput, from: string, o: Parameters<typeof makeMessage>[0] = {}, credentials = pw) =>
    createSmtpProvider(config, config.username ? credentials : {}).send(makeMessage({ from, ...o }), makeCtx());
  const sender = () => `${uniq("sender")}@clinic.example.org`;

  it("delivers over STARTTLS with AUTH, byte for byte (dot-stuffing undone by the server)", async () => {
    const from = sender();
    const msg = makeMessage({ from, to: ["a@example.com"], cc: ["b@example.com"] });
    const res = await createSmtpProvider({ ...base, port: sims.smtp.port, security: "starttls", ...auth }, pw).send(msg, makeCtx());
    expect(res.status).toBe("sent");
    expect(res.status === "sent" && res.providerMessageId).toMatch(/^[0-9A-F]{10}$/);
    const [got] = await sim.received("smtp", from);
    expect(got).toMatchObject({ mailFrom: from, rcptTo: ["a@example.com", "b@example.com"], user: sims.smtp.username, secure: true });
    expect(got?.data).toBe(dec(msg.raw));
    expect(got?.parsed?.attachments).toEqual([{ filename: "letter.pdf", mimeType: "application/pdf", size: 15 }]);
  });

  it("delivers over implicit TLS with AUTH", async () => {
    if (sims.smtp.tlsPort === undefined) return expect.fail("no implicit-TLS port: openssl missing for the test CA");
    const from = sender();
    expect((await send({ ...base, port: sims.smtp.tlsPort, security: "tls", ...auth }, from)).status).toBe("sent");
    expect((await sim.received("smtp", from))[0]).toMatchObject({ secure: true, user: sims.smtp.username });
  });

  it("delivers in plain without AUTH, and with AUTH LOGIN/PLAIN when allowed in clear", async () => {
    const from = sender();
    expect((await send({ ...base, host: "127.0.0.1", port: sims.smtp.port, security: "none" }, from)).status).toBe("sent");
    expect((await send({ ...base, host: "127.0.0.1", port: sims.smtp.port, security: "none", ...auth, allow_plaintext_auth: true }, from)).status).toBe("sent");
    const got = await sim.received("smtp", from);
    expect(got.map((g) => [g.secure, g.user ?? null])).toEqual([
      [false, null],
      [false, sims.smtp.username],
    ]);
  });

  it("wrong password is a configuration error", async () => {
    const res = await send({ ...base, port: sims.smtp.port, security: "starttls", ...auth }, sender(), {}, { password: "wrong" });
    expect(res).toMatchObject({ status: "permanent", configuration: true });
    expect(res.status === "permanent" && res.reason).toMatch(/535/);
  });

  it("a 550 for one recipient fails that recipient only and sends nothing", async () => {
    const from = sender();
    await sim.addFault({ target: "smtp-rcpt", scope: from, match: "gone@example.com", status: 550, body: "5.1.1 User unknown" });
    const res = await send({ ...base, port: sims.smtp.port, security: "starttls", ...auth }, from, { to: ["ok@example.com", "gone@example.com"] });
    expect(res).toMatchObject({ status: "permanent", recipients: [{ email: "gone@example.com" }] });
    expect(res.status === "permanent" && res.recipients?.[0]?.reason).toMatch(/550 5\.1\.1 User unknown/);
    expect(await sim.received("smtp", from)).toHaveLength(0);
    // The pipeline then sends to the rest.
    expect((await send({ ...base, port: sims.smtp.port, security: "starttls", ...auth }, from, { to: ["ok@example.com", "gone@example.com"], recipients: ["ok@example.com"] })).status).toBe("sent");
  });

  it("classifies the sink's answers", async () => {
    const cfg = { ...base, port: sims.smtp.port, security: "starttls" as const, ...auth };
    const table: [Parameters<typeof sim.addFault>[0] extends infer R ? Omit<R & object, "scope"> : never, Record<string, unknown>][] = [
      [{ target: "smtp-rcpt", status: 450, body: "4.2.1 Mailbox busy" }, { status: "transient" }],
      [{ target: "smtp-rcpt", status: 550, body: "5.1.1 no" }, { status: "permanent", reason: expect.stringMatching(/rejected every recipient/) }],
      [{ target: "smtp-mail", status: 451, body: "4.7.1 Greylisted" }, { status: "transient" }],
      [{ target: "smtp-mail", status: 553, body: "5.7.1 Sender not allowed" }, { status: "permanent" }],
      [{ target: "smtp-mail", status: 530, body: "5.7.0 Authentication required" }, { status: "permanent", configuration: true }],
      [{ target: "smtp-data", status: 554, body: "5.6.0 Content rejected" }, { status: "permanent" }],
      [{ target: "smtp-data", status: 452, body: "4.3.1 Insufficient storage" }, { status: "transient" }],
      [{ target: "smtp-data", action: "drop" }, { status: "transient" }],
      [{ target: "smtp-mail", action: "drop" }, { status: "transient" }],
    ];
    for (const [rule, expected] of table) {
      const from = sender();
      await sim.addFault({ ...rule, scope: from } as Parameters<typeof sim.addFault>[0]);
      const res = await send(cfg, from);
      expect(res, JSON.stringify(rule)).toMatchObject(expected);
      if (expected.configuration === undefined && res.status === "permanent") expect(res.configuration).toBeUndefined();
    }
  });

  // What would reach the server's DATA stream: `CRLF NUL . CRLF` (end-of-data to a server that
  // strips NULs), `LF . LF`, `CR . CR`; each followed by a second, smuggled transaction.
  const smuggled = "MAIL FROM:<ceo@clinic.example.org>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n";
  for (const [fake, reason] of [
    ["\r\n\u0000.\r\n", /contains a NUL octet at octet \d+; it is refused rather than written to the SMTP wire/],
    ["\n.\n", /contains an LF not preceded by CR at octet \d+/],
    ["\r.\r", /contains a CR not followed by LF at octet \d+/],
  ] as const) {
    it(`never writes ${JSON.stringify(fake)} to the server: permanent failure with the reason, nothing sent`, async () => {
      const from = sender();
      const res = await send({ ...base, port: sims.smtp.port, security: "starttls", ...auth }, from, { extraText: `before${fake}${smuggled}after\r\n` });
      expect(res).toMatchObject({ status: "permanent", reason: expect.stringMatching(reason) });
      expect(res.status === "permanent" && res.configuration).toBeFalsy();
      expect(await sim.received("smtp", from)).toHaveLength(0);
      expect(await sim.received("smtp", "ceo@clinic.example.org")).toHaveLength(0);
    });
  }

  it("refuses a NUL or other control in an envelope address before connecting", async () => {
    const res = await send({ ...base, port: sims.smtp.port, security: "starttls", ...auth }, "a\u0000b@clinic.example.org");
    expect(res).toMatchObject({ status: "permanent", reason: "invalid envelope address" });
  });

  it("a server that stops answering is transient after timeout_ms", async () => {
    const from = sender();
    await sim.addFault({ target: "smtp-data", scope: from, action: "timeout" });
    const started = Date.now();
    const res = await send({ ...base, port: sims.smtp.port, security: "starttls", ...auth, timeout_ms: 1000 }, from);
    expect(res).toMatchObject({ status: "transient", reason: expect.stringMatching(/timed out/) });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("connection refused and a TLS mismatch are transient", async () => {
    // Port 9 (discard) is closed on loopback here.
    expect((await send({ ...base, host: "127.0.0.1", port: 9, security: "starttls" }, sender())).status).toBe("transient");
    // Implicit TLS against the plain port: the handshake fails.
    expect((await send({ ...base, port: sims.smtp.port, security: "tls", timeout_ms: 2000 }, sender())).status).toBe("transient");
  });
});

// The bridge end to end on loopback, authentication: AUTH only inside TLS, key checks against
// a fake relay, failure limits per source and per username.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestBridge, type TestBridge } from "./helpers/bridge.ts";
import { KEY, READ_ONLY_KEY, clearRelay, message, resetRelay, startSharedBridge, stopSharedBridge } from "./helpers/shared-bridge.ts";
import { RawSmtp, expectCode } from "./helpers/smtp-client.ts";
import type { FakeRelay } from "./helpers/fake-relay.ts";

let relay: FakeRelay;
let bridge: TestBridge;
beforeAll(async () => void ({ relay, bridge } = await startSharedBridge()));
afterAll(() => stopSharedBridge(relay, bridge));
afterEach(() => resetRelay(relay));
const fresh = () => clearRelay(relay);

describe("authentication", () => {
  it("offers AUTH only after STARTTLS and refuses it before", async () => {
    const meCalls = relay.meCalls;
    const client = await RawSmtp.connect(bridge.smtpPort);
    expectCode(await client.greeting(), 220);
    const plainEhlo = expectCode(await client.cmd("EHLO client.test"), 250);
    expect(plainEhlo.text).toContain("STARTTLS");
    expect(plainEhlo.text).not.toContain("AUTH");
    const auth = await client.authPlain("apikey", KEY);
    expect(auth.code).toBeGreaterThanOrEqual(500);
    // LOGIN too, and without leaking into a later state
    expect((await client.cmd("AUTH LOGIN")).code).toBeGreaterThanOrEqual(500);
    expect(relay.meCalls).toBe(meCalls);
    await client.starttls();
    const secureEhlo = expectCode(await client.cmd("EHLO client.test"), 250);
    expect(secureEhlo.lines).toContain("250-AUTH PLAIN LOGIN");
    expect(secureEhlo.text).not.toContain("STARTTLS");
    expectCode(await client.authPlain("apikey", KEY), 235);
    client.close();
  });

  it("refuses MAIL and RCPT without AUTH (530), before and after TLS: never an open relay", async () => {
    fresh();
    const client = await RawSmtp.connect(bridge.smtpPort);
    expectCode(await client.greeting(), 220);
    expectCode(await client.cmd("EHLO client.test"), 250);
    const plainMail = expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 530);
    expect(plainMail.text).toContain("STARTTLS");
    expect((await client.cmd("RCPT TO:<doc@hospital.example>")).code).toBeGreaterThanOrEqual(500);
    await client.starttls();
    expectCode(await client.cmd("EHLO client.test"), 250);
    expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 530);
    expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 530);
    expect((await client.cmd("DATA")).code).toBeGreaterThanOrEqual(500);
    expect(relay.posts).toHaveLength(0);
    client.close();
  });

  it("answers 535 for a wrong key and for a key without the send scope", async () => {
    const client = await RawSmtp.connect(bridge.smtpPort);
    expectCode(await client.greeting(), 220);
    expectCode(await client.cmd("EHLO client.test"), 250);
    await client.starttls();
    expectCode(await client.cmd("EHLO client.test"), 250);
    const wrong = expectCode(await client.authPlain("apikey", "rk_wrong"), 535);
    expect(wrong.text).toContain("5.7.8");
    const readOnly = expectCode(await client.authPlain("apikey", READ_ONLY_KEY), 535);
    expect(readOnly.text).toContain("send scope");
    expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 530);
    client.close();
  });

  it("closes the session after three failed attempts", async () => {
    const client = await RawSmtp.connect(bridge.smtpPort);
    expectCode(await client.greeting(), 220);
    expectCode(await client.cmd("EHLO client.test"), 250);
    await client.starttls();
    expectCode(await client.cmd("EHLO client.test"), 250);
    expectCode(await client.authPlain("someone", "bad-1"), 535);
    expectCode(await client.authPlain("someone", "bad-2"), 535);
    expectCode(await client.authPlain("someone", "bad-3"), 421);
    await client.waitClosed();
  });

  it("caches key checks: many sessions with one key ask the relay once", async () => {
    const cached = await startTestBridge(relay.url);
    try {
      const key = "rk_cache_check_key";
      relay.addKey(key);
      const before = relay.meCalls;
      const clients = await Promise.all(Array.from({ length: 8 }, () => RawSmtp.session(cached.smtpPort, key)));
      expect(relay.meCalls - before).toBe(1);
      for (const client of clients) client.close();
    } finally {
      await cached.drain();
    }
  });

  it("limits failed attempts per client IP", async () => {
    const limited = await startTestBridge(relay.url, { authMaxFailuresPerIp: 3, authMaxFailuresPerUser: 100 });
    try {
      const attempt = async (user: string, key: string) => {
        const client = await RawSmtp.connect(limited.smtpPort);
        await client.greeting();
        await client.cmd("EHLO client.test");
        await client.starttls();
        await client.cmd("EHLO client.test");
        const reply = await client.authPlain(user, key);
        client.close();
        return reply;
      };
      for (let i = 0; i < 3; i++) expectCode(await attempt(`user${i}`, `wrong-${i}`), 535);
      const meCalls = relay.meCalls;
      // even the right key is refused from this address now, without asking the relay
      const blocked = expectCode(await attempt("apikey", KEY), 454);
      expect(blocked.text).toContain("4.7.0");
      expect(relay.meCalls).toBe(meCalls);
    } finally {
      await limited.drain();
    }
  });

  it("limits failed attempts per username from one source; that source only", async () => {
    const limited = await startTestBridge(relay.url, { authMaxFailuresPerIp: 100, authMaxFailuresPerUser: 2 });
    try {
      const attempt = async (user: string, key: string, from = "127.0.0.1") => {
        const c = await RawSmtp.tlsSession(limited.smtpPort, from);
        const reply = await c.authPlain(user, key);
        c.close();
        return reply;
      };
      expectCode(await attempt("apikey", "guess-1"), 535);
      expectCode(await attempt("apikey", "guess-2"), 535);
      const meCalls = relay.meCalls;
      expectCode(await attempt("apikey", "guess-3"), 454);
      expectCode(await attempt("APIKEY", "guess-4"), 454);
      // the failing source is refused under that username, even with the right key, unasked
      expectCode(await attempt("apikey", KEY), 454);
      expect(relay.meCalls).toBe(meCalls);
      // another username from the same source, and the same username from another source, are unaffected
      expectCode(await attempt("other", "guess-5"), 535);
      expectCode(await attempt("apikey", KEY, "127.0.0.2"), 235);
    } finally {
      await limited.drain();
    }
  });

  it("allows AUTH without TLS from loopback only with the development flag", async () => {
    const dev = await startTestBridge(relay.url, { devInsecureAuth: true });
    try {
      const client = await RawSmtp.connect(dev.smtpPort);
      await client.greeting();
      const ehlo = expectCode(await client.cmd("EHLO client.test"), 250);
      expect(ehlo.lines).toContain("250-AUTH PLAIN LOGIN");
      expectCode(await client.authPlain("apikey", KEY), 235);
      expectCode(await client.send("app@clinic.example", ["doc@hospital.example"], message("dev-1@clinic.example")), 250);
      client.close();
    } finally {
      await dev.drain();
    }
  });
});

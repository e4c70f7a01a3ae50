// SMTP smuggling (CVE-2023-51764 class): end-of-data sequences with a bare CR or LF inside DATA
// must never become a second message, here or at any later hop. The bridge refuses the message.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeRelay } from "./helpers/fake-relay.ts";
import { startTestBridge, type TestBridge } from "./helpers/bridge.ts";
import { RawSmtp, expectCode } from "./helpers/smtp-client.ts";

const KEY = "rk_smuggling_test_key";
let relay: FakeRelay;
let bridge: TestBridge;

beforeAll(async () => {
  relay = await new FakeRelay().start();
  relay.addKey(KEY);
  bridge = await startTestBridge(relay.url);
});

afterAll(async () => {
  await bridge.drain();
  await relay.close();
});

const first = "Message-ID: <first@clinic.example>\r\nFrom: app@clinic.example\r\nTo: doc@hospital.example\r\nSubject: first\r\n\r\nhello";
const smuggled =
  "MAIL FROM:<ceo@clinic.example>\r\n" +
  "RCPT TO:<victim@hospital.example>\r\n" +
  "DATA\r\n" +
  "Message-ID: <smuggled@attacker.example>\r\nFrom: ceo@clinic.example\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n";

// The first three are the payloads; the rest are the same idea with other mixes.
const terminators = ["\n.\r\n", "\r.\r", "\r\n.\n", "\n.\n", "\r.\r\n", "\r\n.\r", "\n\n.\r\n"];

// A NUL (or another control character) between a line start and a dot: a later hop that strips
// it sees CRLF.CRLF, and what follows as a second message.
const controlTerminators = ["\r\n\x00.\r\n", "\r\n.\x00\r\n", "\r\n\x01.\r\n", "\r\n\x7f.\r\n", "\r\n\x0b\x0c.\r\n"];

describe("control characters in end-of-data sequences", () => {
  for (const fake of controlTerminators) {
    it(`refuses ${JSON.stringify(fake)} with 550 5.6.0 and forwards neither message`, async () => {
      const posts = relay.posts.length;
      const client = await RawSmtp.session(bridge.smtpPort, KEY);
      expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 250);
      expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 250);
      expectCode(await client.cmd("DATA"), 354);
      client.write(first + fake + smuggled + ".\r\n");
      const reply = await client.read();
      expect(reply.code).toBe(550);
      expect(reply.text).toMatch(/^5\.6\.0 Message contains (a NUL octet|a line of control characters before a dot)/);
      expectCode(await client.cmd("NOOP"), 250);
      expect(client.pending()).toEqual([]);
      expect(relay.posts.length).toBe(posts);
      client.close();
    });
  }

  it("passes a form feed at a line start (a page break in a printed report)", async () => {
    const client = await RawSmtp.session(bridge.smtpPort, KEY);
    const report = first.replace("first@", "report@") + "\r\n\x0cPage 2\r\n";
    expectCode(await client.send("app@clinic.example", ["doc@hospital.example"], report), 250);
    expect(relay.posts.at(-1)!.body.toString("latin1")).toBe(report);
    client.close();
  });
});

describe("bare CR / bare LF end-of-data sequences", () => {
  for (const fake of terminators) {
    it(`refuses ${JSON.stringify(fake)} and forwards neither message`, async () => {
      const posts = relay.posts.length;
      const client = await RawSmtp.session(bridge.smtpPort, KEY);
      expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 250);
      expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 250);
      expectCode(await client.cmd("DATA"), 354);
      client.write(first + fake + smuggled + ".\r\n");
      const reply = await client.read();
      expect(reply.code).toBe(550);
      expect(reply.text).toMatch(/^5\.6\.0 Message contains a bare (CR|LF)/);
      // nothing the attacker placed after the fake terminator ran as a command
      expectCode(await client.cmd("NOOP"), 250);
      expect(client.pending()).toEqual([]);
      expect(relay.posts.length).toBe(posts);
      // the session is still usable for a clean message
      const clean = first.replace("first@", `clean-${terminators.indexOf(fake)}@`) + "\r\n";
      expectCode(await client.send("app@clinic.example", ["doc@hospital.example"], clean), 250);
      expect(relay.posts.length).toBe(posts + 1);
      expect(relay.posts.at(-1)!.body.toString("latin1")).toBe(clean);
      expect(relay.messages.some((m) => m.body.includes("smuggled"))).toBe(false);
      client.close();
    });
  }

  it("refuses a bare LF even when it arrives one byte per packet", async () => {
    const posts = relay.posts.length;
    const client = await RawSmtp.session(bridge.smtpPort, KEY);
    expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 250);
    expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 250);
    expectCode(await client.cmd("DATA"), 354);
    const payload = first + "\n.\r\n" + smuggled + ".\r\n";
    for (const ch of payload) {
      client.write(ch);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expectCode(await client.read(), 550);
    expect(relay.posts.length).toBe(posts);
    client.close();
  });

  it("gives a client that only ever sends bare LF (and so never ends DATA) a permanent error", async () => {
    const posts = relay.posts.length;
    const client = await RawSmtp.session(bridge.smtpPort, KEY);
    expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 250);
    expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 250);
    expectCode(await client.cmd("DATA"), 354);
    client.write("Subject: unix\n\nline one\nline two\n.\n");
    const reply = await client.read(5000);
    expect(reply.code).toBe(550);
    expect(reply.text).toContain("bare LF");
    await client.waitClosed();
    expect(relay.posts.length).toBe(posts);
  });

  // smtp-server holds back the last four octets of DATA until more arrive; a client that ended
  // with one of these sends nothing more, so only those held-back octets show the problem.
  for (const [name, tail, reason] of [
    ["a final bare-LF terminator after CRLF lines", "Subject: x\r\n\r\nhello\r\nworld\n.\n", "bare LF"],
    ["an empty bare-LF line and dot after CRLF lines", "Subject: x\r\n\r\nhello\r\n\n.\n", "bare LF"],
    ["CRLF NUL . CRLF as the last thing sent", "Subject: x\r\n\r\nhello\r\n\x00.\r\n", "NUL"],
  ] as const) {
    it(`answers ${name} with 550 at once, not after the idle timeout`, async () => {
      const posts = relay.posts.length;
      const client = await RawSmtp.session(bridge.smtpPort, KEY);
      expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 250);
      expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 250);
      expectCode(await client.cmd("DATA"), 354);
      const started = Date.now();
      client.write(tail);
      const reply = await client.read(5000);
      expect(reply.code).toBe(550);
      expect(reply.text).toMatch(new RegExp(`^5\\.6\\.0 Message contains a ${reason}`));
      expect(Date.now() - started).toBeLessThan(3000);
      await client.waitClosed();
      expect(relay.posts.length).toBe(posts);
    });
  }

  it("a genuine CRLF.CRLF ends the message: what follows is the next command, not content", async () => {
    const client = await RawSmtp.session(bridge.smtpPort, KEY);
    expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 250);
    expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 250);
    expectCode(await client.cmd("DATA"), 354);
    const before = relay.messages.length;
    client.write(first.replace("first@", "genuine@") + "\r\n.\r\nNOOP\r\n");
    expectCode(await client.read(), 250);
    expectCode(await client.read(), 250);
    expect(relay.messages.length).toBe(before + 1);
    expect(relay.messages.at(-1)!.body.toString("latin1")).toBe(first.replace("first@", "genuine@") + "\r\n");
    client.close();
  });
});

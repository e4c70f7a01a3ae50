// The bridge end to end on loopback, the protocol: size, recipient, line and time limits;
// pipelining, and the plaintext pipelined after STARTTLS.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestBridge, type TestBridge } from "./helpers/bridge.ts";
import { KEY, clearRelay, message, messageOfSize, resetRelay, startSharedBridge, stopSharedBridge } from "./helpers/shared-bridge.ts";
import { RawSmtp, expectCode } from "./helpers/smtp-client.ts";
import type { FakeRelay } from "./helpers/fake-relay.ts";

let relay: FakeRelay;
let bridge: TestBridge;
beforeAll(async () => void ({ relay, bridge } = await startSharedBridge()));
afterAll(() => stopSharedBridge(relay, bridge));
afterEach(() => resetRelay(relay));
const fresh = () => clearRelay(relay);

describe("protocol limits", () => {
  it("announces the size limit and refuses one byte more with 552, forwarding nothing", async () => {
    fresh();
    const client = await RawSmtp.connect(bridge.smtpPort);
    await client.greeting();
    await client.cmd("EHLO client.test");
    await client.starttls();
    const ehlo = await client.cmd("EHLO client.test");
    expect(ehlo.lines.some((line) => /^250[- ]SIZE 4096$/.test(line))).toBe(true);
    expectCode(await client.authPlain("apikey", KEY), 235);

    const exact = (extra: number) => messageOfSize(4096 + extra, "size-" + extra);
    const over = exact(1);
    expect(over.length).toBe(4097);
    const tooBig = await client.send("app@clinic.example", ["doc@hospital.example"], over);
    expect(tooBig.code).toBe(552);
    expect(tooBig.text).toContain("5.3.4");
    expect(relay.messages).toHaveLength(0);
    expect(relay.posts).toHaveLength(0);

    const fits = exact(0);
    expect(fits.length).toBe(4096);
    expectCode(await client.send("app@clinic.example", ["doc@hospital.example"], fits), 250);
    expect(relay.messages).toHaveLength(1);

    // SIZE= in MAIL FROM above the limit is refused up front
    expectCode(await client.cmd("MAIL FROM:<app@clinic.example> SIZE=5000"), 552);
    client.close();
  });

  it("SIZE counts what the client sends: a message of exactly SIZE without a Message-ID fits the relay's equal limit", async () => {
    fresh();
    // the relay refuses anything over the same 4096 bytes the bridge announces
    relay.maxBodyBytes = 4096;
    const client = await RawSmtp.session(bridge.smtpPort, KEY);
    const exact = messageOfSize(4096, "unused").replace(/^Message-ID: .*\r\n/, "X-Pad: " + "p".repeat(28) + "\r\n");
    expect(exact.length).toBe(4096);
    expect(exact).not.toMatch(/^message-id:/im);
    expectCode(await client.send("app@clinic.example", ["doc@hospital.example"], exact), 250);
    expect(relay.messages).toHaveLength(1);
    expect(relay.messages[0]!.body.toString("latin1")).toBe(exact);
    client.close();
  });

  it("limits the number of recipients", async () => {
    const client = await RawSmtp.session(bridge.smtpPort, KEY);
    expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 250);
    for (let i = 0; i < 3; i++) expectCode(await client.cmd(`RCPT TO:<r${i}@hospital.example>`), 250);
    expectCode(await client.cmd("RCPT TO:<r3@hospital.example>"), 452);
    client.close();
  });

  it("refuses a message with a line over 998 octets", async () => {
    fresh();
    const client = await RawSmtp.session(bridge.smtpPort, KEY);
    const reply = await client.send("app@clinic.example", ["doc@hospital.example"], message("long@clinic.example", "z".repeat(999) + "\r\n"));
    expect(reply.code).toBe(550);
    expect(reply.text).toContain("998");
    expect(relay.messages).toHaveLength(0);
    // a line of exactly 998 is fine
    expectCode(await client.send("app@clinic.example", ["doc@hospital.example"], message("long-ok@clinic.example", "z".repeat(998) + "\r\n")), 250);
    client.close();
  });

  it("refuses over-long command lines", async () => {
    const client = await RawSmtp.connect(bridge.smtpPort);
    await client.greeting();
    client.write("EHLO " + "a".repeat(10_000) + "\r\n");
    const reply = await client.read();
    expect(reply.code).toBeGreaterThanOrEqual(400);
    client.close();
  });

  it("closes idle connections", async () => {
    const idle = await startTestBridge(relay.url, { idleTimeoutMs: 300 });
    try {
      const client = await RawSmtp.connect(idle.smtpPort);
      await client.greeting();
      const reply = await client.read(3000);
      expect(reply.code).toBe(421);
      await client.waitClosed();
    } finally {
      await idle.drain();
    }
  });

  it("closes a session that trickles DATA past the data deadline", async () => {
    fresh();
    const slow = await startTestBridge(relay.url, { dataTimeoutMs: 500 });
    try {
      const client = await RawSmtp.session(slow.smtpPort, KEY);
      expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 250);
      expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 250);
      expectCode(await client.cmd("DATA"), 354);
      client.write("Subject: slow\r\n\r\n");
      const timer = setInterval(() => client.write("x"), 100);
      const reply = await client.read(3000);
      clearInterval(timer);
      expect(reply.code).toBe(421);
      await client.waitClosed();
      expect(relay.messages).toHaveLength(0);
    } finally {
      await slow.drain();
    }
  });
});

describe("pipelining and STARTTLS", () => {
  it("discards plaintext pipelined after STARTTLS (no command injection)", async () => {
    const meCalls = relay.meCalls;
    const posts = relay.posts.length;
    const client = await RawSmtp.connect(bridge.smtpPort);
    expectCode(await client.greeting(), 220);
    expectCode(await client.cmd("EHLO client.test"), 250);
    // The attacker's plaintext rides in the same packet as STARTTLS.
    const injected = Buffer.from(`\0apikey\0${KEY}`).toString("base64");
    client.write(`STARTTLS\r\nAUTH PLAIN ${injected}\r\nMAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@hospital.example>\r\n`);
    expectCode(await client.read(), 220);
    await client.upgrade();
    // The first reply inside TLS must answer our EHLO, not an injected command.
    const ehlo = expectCode(await client.cmd("EHLO client.test"), 250);
    expect(ehlo.lines[0]).toMatch(/^250-bridge\.test/);
    expect(client.pending()).toEqual([]);
    expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 530);
    expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 530);
    expect(relay.meCalls).toBe(meCalls);
    expect(relay.posts.length).toBe(posts);
    client.close();
  });

  it("handles pipelined transactions inside TLS", async () => {
    fresh();
    const client = await RawSmtp.session(bridge.smtpPort, KEY);
    // Five transactions in one write: smtp-server hangs on the third one if MAIL/RCPT handlers
    // answer synchronously (see onMailFrom in src/bridge.ts).
    const batch = ["pipe-1", "pipe-2", "pipe-3", "pipe-4", "pipe-5"]
      .map((id) => `MAIL FROM:<app@clinic.example>\r\nRCPT TO:<doc@hospital.example>\r\nDATA\r\n${message(id + "@clinic.example")}.\r\n`)
      .join("");
    client.write(batch);
    const codes: number[] = [];
    for (let i = 0; i < 20; i++) codes.push((await client.read()).code);
    expect(codes).toEqual(Array.from({ length: 5 }, () => [250, 250, 354, 250]).flat());
    expect(relay.messages).toHaveLength(5);
    client.close();
  });
});

// The outside trial's lockout: wrong keys under the shared username "apikey" from several client
// hosts (loopback 127.0.0.2-8, each under the per-address limit) must not lock out a correct key
// that never logged in before, from another host, on a freshly started bridge; and the per-source
// limit still stops each guessing host.
import { afterAll, beforeAll, expect, it } from "vitest";
import { FakeRelay } from "./helpers/fake-relay.ts";
import { startTestBridge, type TestBridge } from "./helpers/bridge.ts";
import { RawSmtp, expectCode } from "./helpers/smtp-client.ts";

const KEY = "rk_live_never_logged_in_0123456789";
let relay: FakeRelay;
let bridge: TestBridge;

beforeAll(async () => {
  relay = await new FakeRelay().start();
  relay.addKey(KEY);
});

afterAll(async () => {
  await bridge?.drain();
  await relay.close();
});

async function attempt(from: string, user: string, key: string) {
  const client = await RawSmtp.tlsSession(bridge.smtpPort, from);
  const reply = await client.authPlain(user, key);
  client.close();
  return reply;
}

for (const [name, limits] of [
  ["the trial's limits (10 per address, 50 per username)", { authMaxFailuresPerIp: 10, authMaxFailuresPerUser: 50 }],
  ["the defaults", {}],
] as const) {
  it(`56 wrong keys under "apikey" from 7 hosts do not lock out a correct key from an 8th: ${name}`, async () => {
    await bridge?.drain();
    bridge = await startTestBridge(relay.url, limits);
    const perIp = bridge.config.authMaxFailuresPerIp;
    const hosts = Array.from({ length: 7 }, (_, i) => `127.0.0.${i + 2}`);
    const codes: number[] = [];
    for (const host of hosts) {
      for (let i = 0; i < 8; i++) codes.push((await attempt(host, "apikey", `rk_guess_${host}_${i}`)).code);
    }
    // every guess failed: 535 while the host was under its limits, 454 once over one
    expect(codes.every((c) => c === 535 || c === 454)).toBe(true);
    expectCode(await attempt("127.0.0.9", "apikey", KEY), 235);
    // the guessing hosts stay limited: over the per-address limit nothing reaches the relay
    for (let i = 0; i < perIp; i++) await attempt("127.0.0.2", `user${i}`, `rk_more_${i}`);
    const meCalls = relay.meCalls;
    expectCode(await attempt("127.0.0.2", "someone", "rk_another_guess"), 454);
    expect(relay.meCalls).toBe(meCalls);
  });
}

// 50 clients in parallel, each sending 20 messages over one reused, authenticated TLS session:
// every message reaches the relay exactly once and every client gets the relay's id back.
import nodemailer from "nodemailer";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FakeRelay } from "./helpers/fake-relay.ts";
import { startTestBridge, type TestBridge } from "./helpers/bridge.ts";

const KEY = "rk_load_test_key";
const SESSIONS = 50;
const PER_SESSION = 20;
let relay: FakeRelay;
let bridge: TestBridge;

beforeAll(async () => {
  relay = await new FakeRelay().start();
  relay.addKey(KEY);
  bridge = await startTestBridge(relay.url, {}, { BRIDGE_LOG_LEVEL: "warn" });
});

afterAll(async () => {
  await bridge.drain();
  await relay.close();
});

it(`${SESSIONS} parallel sessions x ${PER_SESSION} messages: all ${SESSIONS * PER_SESSION} forwarded exactly once`, async () => {
  const started = Date.now();
  const ids = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, session) => {
      const transport = nodemailer.createTransport({
        host: "127.0.0.1",
        port: bridge.smtpPort,
        secure: false,
        requireTLS: true,
        pool: true,
        maxConnections: 1,
        maxMessages: Infinity,
        auth: { user: "apikey", pass: KEY },
        tls: { rejectUnauthorized: false },
      });
      const results: Array<{ messageId: string; relayId: string }> = [];
      try {
        for (let n = 0; n < PER_SESSION; n++) {
          const messageId = `<load-${session}-${n}@clinic.example>`;
          const info = await transport.sendMail({
            from: "app@clinic.example",
            to: `patient-${session}-${n}@hospital.example`,
            subject: `message ${session}/${n}`,
            text: `body of message ${session}/${n}\n`,
            messageId,
          });
          const match = /^250 2\.0\.0 Ok: queued as (msg_\d+)$/.exec(info.response);
          expect(match, info.response).not.toBeNull();
          results.push({ messageId, relayId: match![1]! });
        }
      } finally {
        transport.close();
      }
      return results;
    }),
  );
  const elapsed = Date.now() - started;
  const all = ids.flat();
  expect(all).toHaveLength(SESSIONS * PER_SESSION);
  // exactly once: one stored message per Message-ID, no replays, no aborted uploads
  expect(relay.messages).toHaveLength(SESSIONS * PER_SESSION);
  expect(relay.replays).toBe(0);
  expect(relay.aborted).toBe(0);
  expect(new Set(relay.messages.map((m) => m.id)).size).toBe(SESSIONS * PER_SESSION);
  const storedIds = new Map(
    relay.messages.map((m) => [/^Message-ID: (.*)$/im.exec(m.body.toString("latin1"))![1]!.trim(), m.id]),
  );
  for (const { messageId, relayId } of all) expect(storedIds.get(messageId)).toBe(relayId);
  // one key check for all sessions (cache and coalescing)
  expect(relay.meCalls).toBe(1);
  expect(bridge.stats().accepted).toBe(SESSIONS * PER_SESSION);
  console.log(`load: ${all.length} messages in ${elapsed} ms (${Math.round((all.length / elapsed) * 1000)} msg/s)`);
});

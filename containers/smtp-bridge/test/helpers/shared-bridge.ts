// What the SMTP session tests share: the keys the fake relay knows, a small message, and one
// bridge (4096-byte messages, 3 recipients) in front of one fake relay per test file.
import { FakeRelay } from "./fake-relay.ts";
import { startTestBridge, type TestBridge } from "./bridge.ts";

export const KEY = "rk_live_test_0123456789abcdef";
export const READ_ONLY_KEY = "rk_live_readonly_0123456789";

export const message = (id: string | null, body = "Hello from a legacy system.\r\n") =>
  (id ? `Message-ID: <${id}>\r\n` : "") +
  "From: App <app@clinic.example>\r\n" +
  "To: Doc <doc@hospital.example>\r\n" +
  "Subject: Lab results ready\r\n" +
  "\r\n" +
  body;

/** A message of exactly `total` bytes with CRLF lines of at most 72 octets. */
export function messageOfSize(total: number, id: string): string {
  let text = message(id + "@clinic.example", "");
  let left = total - text.length;
  while (left > 0) {
    const line = left <= 72 ? left : left - 72 === 1 ? 71 : 72;
    text += "x".repeat(line - 2) + "\r\n";
    left -= line;
  }
  return text;
}

/** The fake relay with both keys, and a bridge in front of it (for beforeAll). */
export async function startSharedBridge(): Promise<{ relay: FakeRelay; bridge: TestBridge }> {
  const relay = await new FakeRelay().start();
  relay.addKey(KEY, { key_id: "key_main" });
  relay.addKey(READ_ONLY_KEY, { scopes: ["read"] });
  const bridge = await startTestBridge(relay.url, { maxMessageBytes: 4096, maxRecipients: 3 });
  return { relay, bridge };
}

/** For afterAll. */
export async function stopSharedBridge(relay: FakeRelay, bridge: TestBridge): Promise<void> {
  await bridge.drain();
  await relay.close();
}

/** For afterEach: what a test may have scripted on the relay. */
export function resetRelay(relay: FakeRelay): void {
  relay.script = null;
  relay.acceptDelayMs = 0;
  relay.maxBodyBytes = null;
}

/** Forget what the relay has received, for a test that counts it. */
export function clearRelay(relay: FakeRelay): void {
  relay.messages.length = 0;
  relay.posts.length = 0;
  relay.aborted = 0;
}

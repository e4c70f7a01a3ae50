// Helpers for the inbound tests: a ForwardableEmailMessage-like object for worker.email(), and
// a capture of outgoing webhook requests (fetch spied; other requests pass through).
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import worker from "../workers/index";

export interface FakeEmail extends ForwardableEmailMessage {
  rejected: string | null;
}

export function emailMessage(raw: string, envelope: { from: string; to: string }): FakeEmail {
  const bytes = new TextEncoder().encode(raw);
  const headerText = raw.split(/\r?\n\r?\n/)[0] ?? "";
  const headers = new Headers();
  for (const line of headerText.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    // Headers refuses a value holding CR or NUL; the raw stream still carries it, as Email Routing's would.
    if (i > 0) {
      try {
        headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
      } catch {}
    }
  }
  const msg = {
    from: envelope.from,
    to: envelope.to,
    raw: new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes);
        c.close();
      },
    }),
    headers,
    rawSize: bytes.length,
    canBeForwarded: true,
    rejected: null as string | null,
    setReject: vi.fn((reason: string) => {
      msg.rejected = reason;
    }),
    forward: vi.fn(async () => ({ messageId: "fwd" })),
    reply: vi.fn(async () => ({ messageId: "reply" })),
  };
  return msg as unknown as FakeEmail;
}

export async function deliverEmail(raw: string, envelope: { from: string; to: string }): Promise<FakeEmail> {
  const msg = emailMessage(raw, envelope);
  const ctx = { waitUntil() {}, passThroughOnException() {} } as unknown as ExecutionContext;
  await worker.email!(msg, env, ctx);
  return msg;
}

export const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");

export interface CapturedHook {
  url: string;
  headers: Headers;
  body: string;
}

/** Spies on fetch for URLs under `prefix`; `respond` decides each answer. */
export function captureWebhooks(prefix: string, respond: (n: number, req: CapturedHook) => Response | Promise<Response> = () => new Response("ok")) {
  const calls: CapturedHook[] = [];
  const original = globalThis.fetch;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (!req.url.startsWith(prefix)) return original(input as RequestInfo, init);
    const hook = { url: req.url, headers: req.headers, body: await req.text() };
    calls.push(hook);
    return respond(calls.length, hook);
  });
  return { calls, restore: () => spy.mockRestore() };
}

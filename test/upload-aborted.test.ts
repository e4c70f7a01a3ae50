// A client that goes away mid-upload (the SMTP bridge, when its own client disconnects in DATA)
// is logged as an aborted upload, not as an unhandled server error.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../workers/index";
import { createWorkspace, json } from "./helpers";

afterEach(() => vi.restoreAllMocks());

describe("an aborted raw upload", () => {
  it("is answered 400 and logged as upload_aborted, never as unhandled_error", async () => {
    const ws = await createWorkspace();
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) vi.spyOn(console, level).mockImplementation((l: unknown) => void lines.push(String(l)));
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (!sent) {
          sent = true;
          c.enqueue(new TextEncoder().encode(`From: a@${ws.domain}\r\nSubject: half`));
        } else c.error(new Error("client went away"));
      },
    });
    // Called in this isolate (not through SELF, which turns a failed stream into an early end),
    // so the body read fails as it does when a client's connection drops.
    const req = new Request(`https://relay.test/v1/messages/mime?mail_from=a%40${ws.domain}&rcpt_to=p%40example.net`, {
      method: "POST",
      headers: { authorization: `Bearer ${ws.key}`, "content-type": "message/rfc822" },
      body,
    });
    const ctx = createExecutionContext();
    const res = await worker.fetch!(req as Request<unknown, IncomingRequestCfProperties>, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status, lines.join("\n")).toBe(400);
    expect((await json(res)).error.message).toMatch(/upload aborted/);
    const events = lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as { event: string; level: string }];
      } catch {
        return [];
      }
    });
    expect(events.some((e) => e.event === "upload_aborted")).toBe(true);
    expect(events.filter((e) => e.event === "unhandled_error" || e.level === "error")).toEqual([]);
  });
});

// Optional Sentry reporting: a 5xx is sent as a minimal envelope (type, scrubbed message,
// request id, route) and nothing about the request's content.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseDsn } from "../workers/observability/sentry";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

describe("Sentry reporting", async () => {
  const ws = await createWorkspace();
  afterEach(() => vi.restoreAllMocks());

  it("parses DSNs and ignores bad ones", () => {
    expect(parseDsn("https://abc@o1.ingest.sentry.io/123")).toEqual({ endpoint: "https://o1.ingest.sentry.io/api/123/envelope/", publicKey: "abc" });
    for (const bad of [undefined, "", "http://abc@x/1", "https://x/1", "https://abc@x/notanumber", "nonsense"]) expect(parseDsn(bad)).toBeNull();
  });

  it("an unexpected failure is reported with its request id and without personal data", async () => {
    const sent = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["victim.person@example.net"] }) }));
    await waitForStatus(ws, sent.id, ["sent"]);
    // Corrupt the stored rendered copy: decrypting it fails, an internal error.
    await env.BODIES.put(`rendered/${ws.id}/${sent.id}`, new Uint8Array([1, 2, 9, 9, 9]));

    const bodies: string[] = [];
    const realFetch = globalThis.fetch;
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.startsWith("https://sentry.test/")) {
        bodies.push(String(init?.body));
        return new Response("{}", { status: 200 });
      }
      return realFetch(input, init);
    });
    const res = await api(`/v1/messages/${sent.id}/rendered`, { key: ws.key });
    expect(res.status).toBe(500);
    const requestId = res.headers.get("x-request-id")!;
    for (let i = 0; i < 50 && bodies.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(bodies).toHaveLength(1);
    const call = spy.mock.calls.find(([input]) => String(input instanceof Request ? input.url : input).startsWith("https://sentry.test/"))!;
    expect(String(call[0])).toBe("https://sentry.test/api/42/envelope/");
    expect(new Headers(call[1]!.headers).get("x-sentry-auth")).toContain("sentry_key=publickey");
    const [, itemHeader, event] = bodies[0]!.trim().split("\n").map((l) => JSON.parse(l));
    expect(itemHeader).toEqual({ type: "event" });
    expect(event.tags).toMatchObject({ request_id: requestId, route: "/v1/messages/:id/rendered", code: "internal_error" });
    expect(bodies[0]).not.toContain("victim");
    expect(bodies[0]).not.toContain(ws.key);
  });

  it("expected refusals (4xx) are not reported", async () => {
    const spy = vi.spyOn(globalThis, "fetch");
    expect((await api("/v1/messages/msg_nope", { key: ws.key })).status).toBe(404);
    expect(spy.mock.calls.some(([input]) => String(input instanceof Request ? input.url : input).includes("sentry.test"))).toBe(false);
  });
});

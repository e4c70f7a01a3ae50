// Issue 18 (b): one outbound URL policy (core/url-policy.ts) for webhooks, JWKS URLs, the LLM
// base URL and provider endpoints; IPv6 forms that embed a private IPv4 (NAT64, 6to4, mapped)
// are refused at save, and a stored webhook URL is re-checked before every delivery.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";
import { captureWebhooks } from "./inbound-fixtures";

const REVIEW_URLS = ["https://[64:ff9b::7f00:1]/", "https://[2002:7f00:1::]/", "https://[::ffff:7f00:1]/", "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/"];

const until = async <T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> => {
  const end = Date.now() + ms;
  let v = await fn();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    v = await fn();
  }
  return v;
};

describe("one outbound URL policy", async () => {
  const ws = await createWorkspace();

  async function expect400(path: string, method: string, body: unknown, field: string) {
    const res = await api(path, { method, key: ws.key, json: body });
    expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
    const err = (await json(res)).error;
    expect(err.code).toBe("validation_error");
    expect(err.message).toContain(field);
  }

  it.each(REVIEW_URLS)("webhooks refuse %s", async (url) => {
    await expect400("/v1/webhooks", "POST", { url, events: ["*"] }, "url");
  });

  it.each(REVIEW_URLS)("provider endpoints refuse %s", async (url) => {
    await expect400("/v1/providers", "POST", { name: "mg", type: "mailgun", config: { domain: "mg.example.org", base_url: url }, credentials: { api_key: "key-secret-123" } }, "base_url");
  });

  it.each([...REVIEW_URLS.map((u) => new URL(u).hostname), "10.0.0.5", "169.254.169.254", "[fd00::1]", "smtp.internal"])("an SMTP smarthost refuses the host %s", async (host) => {
    const config = { host, port: 587, security: "starttls", username: "relay", timeout_ms: 5000 };
    await expect400("/v1/providers", "POST", { name: "smtp", type: "smtp", config, credentials: { password: "pw" } }, "host");
  });

  it("provider calls and probes never follow a redirect", async () => {
    const { providerFetch } = await import("../workers/dispatcher/providers/transport");
    const seen: (string | undefined)[] = [];
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (_input, init) => {
      seen.push(init?.redirect);
      return new Response(null, { status: 307, headers: { location: "http://169.254.169.254/" } });
    });
    try {
      const res = await providerFetch("https://api.mailgun.example/v3/x/messages.mime", { method: "POST" });
      expect(res.status).toBe(307);
      expect(seen).toEqual(["manual"]);
    } finally {
      spy.mockRestore();
    }
  });

  it.each(REVIEW_URLS)("the LLM base URL refuses %s", async (url) => {
    await expect400("/v1/workspace/llm", "PUT", { base_url: `${url}v1` }, "base_url");
  });

  it.each([...REVIEW_URLS, "https://10.0.0.5/jwks", "https://[fd00::1]/jwks"])("a JWT issuer's jwks_url refuses %s", async (url) => {
    await expect400("/v1/workspace/jwt", "PUT", { issuer: "https://idp.example/", audience: "relay", jwks_url: url }, "jwks_url");
  });

  it("loopback test servers stay allowed where they were (provider and LLM simulators)", async () => {
    const res = await api("/v1/providers", {
      method: "POST",
      key: ws.key,
      json: { name: "mg-sim", type: "mailgun", config: { domain: "mg.example.org", base_url: "http://127.0.0.1:8787" }, credentials: { api_key: "key-secret-123" } },
    });
    expect(res.status).toBe(201);
    expect((await api("/v1/workspace/llm", { method: "PUT", key: ws.key, json: { base_url: "http://127.0.0.1:8080/v1" } })).status).toBe(200);
  });

  it("a stored webhook URL is re-checked before every delivery, and a redirect is never followed", async () => {
    const other = await createWorkspace();
    const created = await json(await api("/v1/webhooks", { method: "POST", key: other.key, json: { url: "https://hooks.test/ok", events: ["message.sent"] } }));
    // As if saved under the old policy.
    await env.DB.prepare("UPDATE webhook_endpoints SET url = ? WHERE id = ?").bind("https://[64:ff9b::7f00:1]/hook", created.id).run();
    const hooks = captureWebhooks("https://", () => new Response("should not be called"));
    try {
      const acc = await json(await api("/v1/messages", { method: "POST", key: other.key, json: message(other) }));
      await waitForStatus(other, acc.id, ["sent"]);
      const events = await until(
        async () => (await json(await api(`/v1/webhooks/${created.id}/events`, { key: other.key }))).data as any[],
        (e) => (e[0]?.attempts ?? 0) >= 1,
      );
      expect(events[0].last_error).toMatch(/^endpoint URL refused: NAT64/);
      expect(hooks.calls.filter((c) => c.url.includes("64:ff9b"))).toHaveLength(0);
    } finally {
      hooks.restore();
    }

    const third = await createWorkspace();
    const ep = await json(await api("/v1/webhooks", { method: "POST", key: third.key, json: { url: "https://hooks.test/moved", events: ["message.sent"] } }));
    const moved = captureWebhooks("https://hooks.test/", () => new Response(null, { status: 307, headers: { location: "http://127.0.0.1:8080/internal" } }));
    try {
      const acc = await json(await api("/v1/messages", { method: "POST", key: third.key, json: message(third) }));
      await waitForStatus(third, acc.id, ["sent"]);
      const events = await until(
        async () => (await json(await api(`/v1/webhooks/${ep.id}/events`, { key: third.key }))).data as any[],
        (e) => (e[0]?.attempts ?? 0) >= 1,
      );
      expect(events[0]).toMatchObject({ status: "pending", last_status_code: 307, last_error: "endpoint answered 307" });
      expect(moved.calls).toHaveLength(1);
    } finally {
      moved.restore();
    }
  });
});

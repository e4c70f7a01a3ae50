// Transport security: providers are reached over TLS; plain transports only on loopback, and a
// workspace that requires TLS never routes to them.
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json } from "./helpers";
import { accept, addProvider, FAST_RETRY, mailgunProvider, setRetryPolicy, sims, uniq } from "./simulators/delivery-fixtures";
import { waitForStatus } from "./helpers";

describe("transport security", { timeout: 30_000 }, () => {
  it("refuses plain SMTP or http endpoints that are not loopback", async () => {
    const ws = await createWorkspace();
    const smtp = await api("/v1/providers", {
      method: "POST",
      key: ws.key,
      json: { name: "plain", type: "smtp", config: { host: "smtp.example.org", port: 587, security: "none" } },
    });
    expect(smtp.status).toBe(400);
    expect((await json(smtp)).error.message).toContain("loopback");
    const mg = await api("/v1/providers", {
      method: "POST",
      key: ws.key,
      json: { name: "mg", type: "mailgun", config: { domain: "mg.example.org", base_url: "http://api.example.org" }, credentials: { api_key: "k" } },
    });
    expect(mg.status).toBe(400);
    expect((await json(mg)).error.message).toContain("https");
  });

  it("a workspace requiring TLS never routes to a provider reached without TLS", async () => {
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    const plain = await addProvider(ws, {
      name: "plain sink",
      type: "smtp",
      priority: 1,
      config: { host: "127.0.0.1", port: sims().smtp.port, security: "none", verp: false },
    });
    const domain = `${uniq("mg")}.example.org`;
    const tls = await addProvider(ws, mailgunProvider(domain, { priority: 2 }));
    // Both loopback simulators are plain (SMTP without TLS, Mailgun over http): usable until
    // the workspace requires TLS, never after.
    const first = await waitForStatus(ws, (await accept(ws)).id, ["sent"], 10_000);
    expect(first.recipients[0].provider_id).toBe(plain);
    expect((await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { routing: { require_tls: true } } })).status).toBe(200);
    const second = await waitForStatus(ws, (await accept(ws)).id, ["sent", "deferred", "failed"], 10_000);
    expect(second.status).not.toBe("sent");
    expect(second.attempts.every((a: any) => a.provider_id !== plain && a.provider_id !== tls)).toBe(true);
  });
});

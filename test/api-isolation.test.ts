import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

describe("tenant isolation", async () => {
  const a = await createWorkspace();
  const b = await createWorkspace();
  const bMsg = await json(await api("/v1/messages", { method: "POST", key: b.key, json: message(b) }));
  await waitForStatus(b, bMsg.id, ["sent"]);

  it("a key of workspace A gets 404 for B's message on every /v1/messages route", async () => {
    for (const [method, path] of [
      ["GET", `/v1/messages/${bMsg.id}`],
      ["GET", `/v1/messages/${bMsg.id}/rendered`],
      ["POST", `/v1/messages/${bMsg.id}/cancel`],
    ] as const) {
      const res = await api(path, { method, key: a.key });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await json(res)).error.code).toBe("not_found");
    }
    // and B itself sees it
    expect((await api(`/v1/messages/${bMsg.id}`, { key: b.key })).status).toBe(200);
    expect((await api(`/v1/messages/${bMsg.id}/rendered`, { key: b.key })).status).toBe(200);
  });

  it("A's list never contains B's messages", async () => {
    await api("/v1/messages", { method: "POST", key: a.key, json: message(a) });
    const list = await json(await api("/v1/messages?limit=100", { key: a.key }));
    expect(list.data.length).toBeGreaterThan(0);
    expect(list.data.map((m: any) => m.id)).not.toContain(bMsg.id);
  });

  it("A cannot see or change B's providers, domains or keys", async () => {
    expect((await api(`/v1/providers/${b.providerId}`, { method: "PATCH", key: a.key, json: { enabled: false } })).status).toBe(404);
    expect((await api(`/v1/providers/${b.providerId}`, { method: "DELETE", key: a.key })).status).toBe(404);
    const bDomains = await json(await api("/v1/domains", { key: b.key }));
    expect((await api(`/v1/domains/${bDomains.data[0].id}`, { method: "DELETE", key: a.key })).status).toBe(404);
    const bKeys = await json(await api("/v1/api-keys", { key: b.key }));
    expect((await api(`/v1/api-keys/${bKeys.data[0].id}`, { method: "DELETE", key: a.key })).status).toBe(404);
    expect((await api("/v1/me", { key: b.key })).status).toBe(200);
  });

  it("a domain registered by one workspace cannot be registered by another", async () => {
    const res = await api("/v1/domains", { method: "POST", key: a.key, json: { domain: b.domain } });
    expect(res.status).toBe(409);
  });
});

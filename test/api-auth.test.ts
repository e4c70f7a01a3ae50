import { describe, expect, it } from "vitest";
import { ADMIN, api, createWorkspace, json, message } from "./helpers";

describe("authentication and scopes", async () => {
  const ws = await createWorkspace();

  it("401 without a key, with a malformed header, or with an unknown key", async () => {
    for (const res of [
      await api("/v1/messages", { method: "POST", json: message(ws) }),
      await api("/v1/messages", { method: "POST", json: message(ws), headers: { authorization: "Basic abc" } }),
      await api("/v1/messages", { method: "POST", json: message(ws), key: "rk_doesnotexist" }),
      await api("/v1/messages", { method: "GET", key: "wrong-admin-token-xxxxxxxx" }),
    ]) {
      expect(res.status).toBe(401);
      expect((await json(res)).error.code).toBe("unauthorized");
    }
  });

  it("authenticates before validating, so an anonymous bad body is still 401", async () => {
    const res = await api("/v1/messages", { method: "POST", json: { nonsense: true } });
    expect(res.status).toBe(401);
  });

  it("403 when the key lacks the route's scope", async () => {
    const readOnly = await ws.keyWith(["read"]);
    const sendOnly = await ws.keyWith(["send"]);
    const send = await api("/v1/messages", { method: "POST", key: readOnly, json: message(ws) });
    expect(send.status).toBe(403);
    expect((await json(send)).error.message).toContain("send");
    expect((await api("/v1/messages", { key: sendOnly })).status).toBe(403);
    expect((await api("/v1/providers", { key: sendOnly })).status).toBe(403);
    expect((await api("/v1/api-keys", { method: "POST", key: readOnly, json: { name: "x", scopes: ["admin"] } })).status).toBe(403);
    // and the right scope works
    expect((await api("/v1/messages", { method: "POST", key: sendOnly, json: message(ws) })).status).toBe(202);
    expect((await api("/v1/messages", { key: readOnly })).status).toBe(200);
  });

  it("a revoked key stops working at once", async () => {
    const res = await api("/v1/api-keys", { method: "POST", key: ws.key, json: { name: "temp", scopes: ["send"] } });
    expect(res.status).toBe(201);
    const created = await json(res);
    expect(created.key).toMatch(/^rk_/);
    expect((await api("/v1/me", { key: created.key })).status).toBe(200);
    expect((await api(`/v1/api-keys/${created.id}`, { method: "DELETE", key: ws.key })).status).toBe(204);
    expect((await api("/v1/me", { key: created.key })).status).toBe(401);
  });

  it("records when a key was last used (once per cache period, not per request)", async () => {
    const created = await json(await api("/v1/api-keys", { method: "POST", key: ws.key, json: { name: "usage", scopes: ["read"] } }));
    const listed = async () => (await json(await api("/v1/api-keys", { key: ws.key }))).data.find((k: { id: string }) => k.id === created.id);
    expect((await listed()).last_used_at).toBeNull();
    const before = Date.now();
    expect((await api("/v1/me", { key: created.key })).status).toBe(200);
    // The update runs after the response (waitUntil): poll the listing briefly.
    let used: string | null = null;
    for (let i = 0; i < 50 && !used; i++) {
      used = (await listed()).last_used_at;
      if (!used) await new Promise((r) => setTimeout(r, 20));
    }
    expect(used).not.toBeNull();
    expect(Date.parse(used!)).toBeGreaterThanOrEqual(before - 1000);
  });

  it("an expired key is refused", async () => {
    const res = await api("/v1/api-keys", {
      method: "POST",
      key: ws.key,
      json: { name: "old", scopes: ["send"], expires_at: new Date(Date.now() - 1000).toISOString() },
    });
    expect((await api("/v1/me", { key: (await json(res)).key })).status).toBe(401);
  });

  it("key listings never reveal keys or hashes", async () => {
    const list = await json(await api("/v1/api-keys", { key: ws.key }));
    expect(list.data.length).toBeGreaterThan(0);
    for (const k of list.data) {
      expect(k).not.toHaveProperty("key");
      expect(JSON.stringify(k)).not.toMatch(/[0-9a-f]{64}/);
    }
  });

  it("platform routes need the admin token; workspace routes need a workspace key", async () => {
    expect((await api("/v1/workspaces", { key: ws.key })).status).toBe(403);
    expect((await api("/v1/workspaces", { key: ADMIN })).status).toBe(200);
    expect((await api("/v1/messages", { key: ADMIN })).status).toBe(403);
  });

  it("/v1/me describes the credential", async () => {
    const me = await json(await api("/v1/me", { key: ws.key }));
    expect(me).toMatchObject({ workspace_id: ws.id, scopes: ["admin"] });
  });

  it("provider credentials are write-only", async () => {
    const created = await json(
      await api("/v1/providers", {
        method: "POST",
        key: ws.key,
        json: { name: "mg", type: "mailgun", config: { domain: "mg.example.org" }, credentials: { api_key: "key-secret-123" } },
      }),
    );
    const listed = JSON.stringify(await json(await api("/v1/providers", { key: ws.key })));
    expect(listed).toContain(created.id ?? "prv_");
    expect(listed).not.toContain("key-secret-123");
  });
});

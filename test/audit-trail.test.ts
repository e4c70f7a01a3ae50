// Audit trail: reads of message content and recipient data, configuration changes and refusals
// leave append-only rows that workspace admins can page through.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

async function rows(wsKey: string, query = "") {
  return (await json(await api(`/v1/audit-logs${query}`, { key: wsKey }))).data as any[];
}

describe("audit trail", async () => {
  const ws = await createWorkspace();
  const sent = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws) }));
  await waitForStatus(ws, sent.id, ["sent"]);

  it("a read of a message body leaves a row with actor, credential, IP, outcome and request id", async () => {
    const bodyKey = await ws.keyWith(["read_bodies"]);
    const keyId = (await json(await api("/v1/me", { key: bodyKey }))).key_id;
    const res = await api(`/v1/messages/${sent.id}/rendered`, { key: bodyKey, headers: { "cf-connecting-ip": "203.0.113.7" } });
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-request-id");
    const [row] = await rows(ws.key, "?action=message.content.read");
    expect(row).toMatchObject({
      actor: `api_key:${keyId}`,
      credential_id: keyId,
      action: "message.content.read",
      resource: `/v1/messages/${sent.id}/rendered`,
      ip: "203.0.113.7",
      outcome: "success",
      request_id: requestId,
    });
    expect(Date.parse(row.created_at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("reads of recipient data (message detail, listing) are audited", async () => {
    await api(`/v1/messages/${sent.id}`, { key: ws.key });
    await api(`/v1/messages`, { key: ws.key });
    const actions = (await rows(ws.key)).map((r) => r.action);
    expect(actions).toContain("message.read");
    expect(actions).toContain("messages.list");
  });

  it("a refused read is recorded as denied", async () => {
    const readOnly = await ws.keyWith(["read"]);
    expect((await api(`/v1/messages/${sent.id}/rendered`, { key: readOnly })).status).toBe(403);
    const denied = (await rows(ws.key, "?action=message.content.read")).find((r) => r.outcome === "denied");
    expect(denied).toBeTruthy();
    expect(denied.detail).toMatchObject({ status: 403 });
  });

  it("configuration changes are audited, including routes without a name of their own", async () => {
    const created = await json(await api("/v1/api-keys", { method: "POST", key: ws.key, json: { name: "ci", scopes: ["send"] } }));
    await api(`/v1/api-keys/${created.id}`, { method: "DELETE", key: ws.key });
    await api(`/v1/providers/${ws.providerId}`, { method: "PATCH", key: ws.key, json: { priority: 5 } });
    await api("/v1/workspace/retention", { method: "PUT", key: ws.key, json: { body_retention_days: 14 } });
    const got = await rows(ws.key);
    const actions = got.map((r) => r.action);
    for (const a of ["api_key.create", "api_key.revoke", "provider.update", "workspace.retention.set"]) expect(actions).toContain(a);
    expect(got.find((r) => r.action === "api_key.revoke").resource).toBe(`/v1/api-keys/${created.id}`);
  });

  it("platform bootstrap actions are attributed to the workspace they touch", async () => {
    // createWorkspace used the platform token to add a domain and keys to this workspace.
    const actions = (await rows(ws.key)).filter((r) => r.actor === "platform_admin").map((r) => r.action);
    expect(actions).toContain("platform.domain.create");
    expect(actions).toContain("platform.api_key.create");
  });

  it("sends are not audit rows (the message row records who sent it)", async () => {
    expect((await rows(ws.key)).some((r) => r.resource === "/v1/messages" && r.action.startsWith("POST"))).toBe(false);
  });

  it("rows are append-only: the database refuses to change or delete them", async () => {
    await expect(env.DB.prepare("UPDATE audit_logs SET outcome = 'success' WHERE workspace_id = ?").bind(ws.id).run()).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare("DELETE FROM audit_logs WHERE workspace_id = ?").bind(ws.id).run()).rejects.toThrow(/append-only/);
  });

  it("the trail pages with a cursor and is readable by admins only", async () => {
    const first = await json(await api("/v1/audit-logs?limit=2", { key: ws.key }));
    expect(first.data).toHaveLength(2);
    expect(first.next_cursor).toBeTruthy();
    const second = await json(await api(`/v1/audit-logs?limit=2&cursor=${first.next_cursor}`, { key: ws.key }));
    const ids = [...first.data, ...second.data].map((r: any) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Date.parse(second.data[0].created_at)).toBeLessThanOrEqual(Date.parse(first.data[1].created_at));
    expect((await api("/v1/audit-logs", { key: await ws.keyWith(["read", "read_bodies"]) })).status).toBe(403);
    expect((await api("/v1/audit-logs?cursor=bogus", { key: ws.key })).status).toBe(400);
  });

  it("one workspace never sees another's rows", async () => {
    const other = await createWorkspace();
    expect((await rows(other.key)).some((r) => r.resource.includes(sent.id))).toBe(false);
  });
});

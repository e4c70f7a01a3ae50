// Erasure on request: a recipient's address leaves the delivery records (replaced by a token),
// the content sent to them is deleted, other recipients and metadata are untouched.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { piiToken } from "../workers/log";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

describe("recipient erasure", async () => {
  const ws = await createWorkspace();
  const target = "Erase.Me@example.net";
  const a = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: [target, "keep@example.net"] }) }));
  const b = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["keep@example.net"] }) }));
  for (const m of [a, b]) await waitForStatus(ws, m.id, ["sent"]);

  it("replaces the address everywhere it is recorded and deletes the content sent to it", async () => {
    const res = await api("/v1/privacy/erasure", { method: "POST", key: ws.key, json: { email: "erase.me@EXAMPLE.net" } });
    expect(res.status).toBe(200);
    const out = await json(res);
    expect(out).toMatchObject({ erased_as: `erased:${piiToken(target)}`, messages: 1, pending: 0 });

    const dump = JSON.stringify([
      (await env.DB.prepare("SELECT * FROM messages WHERE id = ?").bind(a.id).all()).results,
      (await env.DB.prepare("SELECT * FROM message_recipients WHERE message_id = ?").bind(a.id).all()).results,
      (await env.DB.prepare("SELECT * FROM delivery_attempts WHERE message_id = ?").bind(a.id).all()).results,
    ]).toLowerCase();
    expect(dump).not.toContain("erase.me@example.net");
    expect(dump).toContain("keep@example.net");

    const detail = await json(await api(`/v1/messages/${a.id}`, { key: ws.key }));
    expect(detail.recipients.map((r: any) => r.email).sort()).toEqual([out.erased_as, "keep@example.net"].sort());
    expect(detail.status).toBe("sent");
    expect((await api(`/v1/messages/${a.id}/rendered`, { key: ws.key })).status).toBe(404);
    // The other message (not sent to them) keeps its content.
    expect((await api(`/v1/messages/${b.id}/rendered`, { key: ws.key })).status).toBe(200);
  });

  it("is audited without the address, and needs admin", async () => {
    const rows = (await json(await api("/v1/audit-logs?action=recipient.erase", { key: ws.key }))).data;
    expect(rows[0]).toMatchObject({ outcome: "success", resource: "/v1/privacy/erasure" });
    expect(JSON.stringify(rows).toLowerCase()).not.toContain("erase.me");
    expect((await api("/v1/privacy/erasure", { method: "POST", key: await ws.keyWith(["send", "read", "read_bodies"]), json: { email: target } })).status).toBe(403);
    expect((await api("/v1/privacy/erasure", { method: "POST", key: ws.key, json: { email: "not an address" } })).status).toBe(400);
  });

  it("leaves other workspaces alone", async () => {
    const other = await createWorkspace();
    const m = await json(await api("/v1/messages", { method: "POST", key: other.key, json: message(other, { to: [target] }) }));
    await waitForStatus(other, m.id, ["sent"]);
    await api("/v1/privacy/erasure", { method: "POST", key: ws.key, json: { email: target } });
    expect((await json(await api(`/v1/messages/${m.id}`, { key: other.key }))).recipients[0].email).toBe(target);
  });
});

// Recipients are tracked on every send: a record per address (once), linked from the message's
// recipients, and an event per delivery outcome.
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

describe("recipient tracking", () => {
  it("upserts each address once, links message recipients to it and records delivery events", async () => {
    const ws = await createWorkspace();
    const first = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["a@example.net", "B <b@Example.NET>"] }) }));
    await waitForStatus(ws, first.id, ["sent"]);
    const second = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["a@example.net"] }) }));
    await waitForStatus(ws, second.id, ["sent"]);

    const rows = (await env.DB.prepare("select id, email, status from recipients where workspace_id = ? order by email").bind(ws.id).all<{ id: string; email: string; status: string }>()).results;
    expect(rows.map((r) => [r.email, r.status])).toEqual([["a@example.net", "active"], ["b@example.net", "active"]]);
    const links = (await env.DB.prepare("select email, recipient_id from message_recipients where workspace_id = ?").bind(ws.id).all<{ email: string; recipient_id: string }>()).results;
    expect(links).toHaveLength(3);
    for (const l of links) expect(l.recipient_id).toBe(rows.find((r) => r.email === l.email)!.id);

    const events = (await env.DB.prepare("select recipient_id, type, message_id from recipient_events where workspace_id = ? order by created_at").bind(ws.id).all<{ recipient_id: string; type: string; message_id: string }>()).results;
    const forA = events.filter((e) => e.recipient_id === rows[0]!.id);
    expect(forA.map((e) => [e.type, e.message_id])).toEqual([["delivery.sent", first.id], ["delivery.sent", second.id]]);
    expect(events.filter((e) => e.recipient_id === rows[1]!.id).map((e) => e.type)).toEqual(["delivery.sent"]);

    // Another workspace's record for the same address is its own.
    const other = await createWorkspace();
    const m = await json(await api("/v1/messages", { method: "POST", key: other.key, json: message(other, { to: ["a@example.net"] }) }));
    await waitForStatus(other, m.id, ["sent"]);
    const otherRow = await env.DB.prepare("select id from recipients where workspace_id = ? and email = ?").bind(other.id, "a@example.net").first<{ id: string }>();
    expect(otherRow!.id).not.toBe(rows[0]!.id);
  });
});

// Recipient lists through the API: create/rename/delete, adding members by id or address with
// one result per row (10,000 in a call), paging members, removal, and tenant isolation.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, type TestWorkspace } from "./helpers";

async function createList(ws: TestWorkspace, name = `list ${crypto.randomUUID().slice(0, 6)}`): Promise<any> {
  const res = await api("/v1/lists", { method: "POST", key: ws.key, json: { name } });
  expect(res.status, await res.clone().text()).toBe(201);
  return json(res);
}

const add = (ws: TestWorkspace, listId: string, members: unknown[]) => api(`/v1/lists/${listId}/members`, { method: "POST", key: ws.key, json: { members } });

async function allMembers(ws: TestWorkspace, listId: string, limit = 100): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const res = await api(`/v1/lists/${listId}/members?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { key: ws.key });
    expect(res.status).toBe(200);
    const page = await json(res);
    out.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

describe("recipient lists", { timeout: 60_000 }, () => {
  it("create, list with member counts, rename, delete; names are unique per workspace", async () => {
    const ws = await createWorkspace();
    const a = await createList(ws, "Diabetes clinic");
    expect(a).toMatchObject({ name: "Diabetes clinic", member_count: 0 });
    const dup = await api("/v1/lists", { method: "POST", key: ws.key, json: { name: "Diabetes clinic" } });
    expect(dup.status).toBe(409);
    expect((await json(dup)).error.code).toBe("conflict");
    const b = await createList(ws, "Flu shots");
    expect((await api(`/v1/lists/${b.id}`, { method: "PATCH", key: ws.key, json: { name: "Diabetes clinic" } })).status).toBe(409);
    const renamed = await json(await api(`/v1/lists/${b.id}`, { method: "PATCH", key: ws.key, json: { name: "Flu shots 2026" } }));
    expect(renamed.name).toBe("Flu shots 2026");

    await add(ws, a.id, ["p1@example.net", "p2@example.net"]);
    const page = await json(await api("/v1/lists?limit=1", { key: ws.key }));
    expect(page.data).toHaveLength(1);
    const rest = await json(await api(`/v1/lists?limit=1&cursor=${page.next_cursor}`, { key: ws.key }));
    const byId = new Map([...page.data, ...rest.data].map((l: any) => [l.id, l]));
    expect(byId.get(a.id)).toMatchObject({ member_count: 2 });
    expect(byId.get(b.id)).toMatchObject({ member_count: 0, name: "Flu shots 2026" });

    expect((await api(`/v1/lists/${a.id}`, { method: "DELETE", key: ws.key })).status).toBe(204);
    expect((await api(`/v1/lists/${a.id}`, { key: ws.key })).status).toBe(404);
    expect((await api(`/v1/lists/${a.id}/members`, { key: ws.key })).status).toBe(404);
    // The recipients stay; only the memberships went.
    expect((await json(await api("/v1/recipients?limit=100", { key: ws.key }))).data.map((r: any) => r.email).sort()).toEqual(["p1@example.net", "p2@example.net"]);
    const left = await env.DB.prepare("select count(*) as n from recipient_list_members where list_id = ?").bind(a.id).first<{ n: number }>();
    expect(left!.n).toBe(0);
  });

  it("adds members by id or address with one result per row; re-adding says already_member", async () => {
    const ws = await createWorkspace();
    const other = await createWorkspace();
    const known = await json(await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "Known@Example.net", first_name: "Kim" } }));
    const byId = await json(await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "byid@example.net" } }));
    const foreign = await json(await api("/v1/recipients", { method: "POST", key: other.key, json: { email: "theirs@example.net" } }));
    const list = await createList(ws);

    const res = await add(ws, list.id, [
      { recipient_id: byId.id },
      "known@example.net", // an existing record, other case
      { email: "new@example.net" },
      "not an address",
      { email: "new@example.net" },
      { recipient_id: "rcp_AAAAAAAAAAAAAAAAAAAAAA" },
      { recipient_id: foreign.id },
      { name: "nobody" },
    ]);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ added: 3, already_member: 0, failed: 5, created: 1 });
    const r = body.results;
    expect(r.map((x: any) => x.status)).toEqual(["added", "added", "added", "error", "error", "error", "error", "error"]);
    expect(r[0]).toMatchObject({ recipient_id: byId.id, created: false });
    expect(r[1]).toMatchObject({ recipient_id: known.id, email: known.email, created: false });
    expect(r[2]).toMatchObject({ email: "new@example.net", created: true, recipient_id: expect.stringMatching(/^rcp_/) });
    expect(r[3].error).toMatch(/not a valid address/);
    expect(r[4].error).toMatch(/duplicate of row 2/);
    expect(r[5].error).toMatch(/no such recipient/);
    expect(r[6].error).toMatch(/no such recipient/); // another workspace's recipient is unknown here
    expect(r[7].error).toMatch(/recipient_id/);

    // The new address became a recipient record of this workspace, with the id reported.
    const created = await json(await api(`/v1/recipients/${r[2].recipient_id}`, { key: ws.key }));
    expect(created).toMatchObject({ email: "new@example.net", status: "active" });

    const members = await allMembers(ws, list.id, 2);
    expect(members.map((m) => m.recipient_id).sort()).toEqual([byId.id, known.id, r[2].recipient_id].sort());
    expect(members.find((m) => m.recipient_id === known.id)).toMatchObject({ email: "Known@example.net", status: "active" });

    const again = await json(await add(ws, list.id, [{ recipient_id: known.id }, "new@example.net", "byid@example.net"]));
    expect(again).toMatchObject({ added: 0, already_member: 3, failed: 0, created: 0 });
    expect((await json(await api(`/v1/lists/${list.id}`, { key: ws.key }))).member_count).toBe(3);
  });

  it("removing a member, and deleting a recipient, take it off the list", async () => {
    const ws = await createWorkspace();
    const list = await createList(ws);
    const { results } = await json(await add(ws, list.id, ["a@example.net", "b@example.net", "c@example.net"]));
    const [a, b] = results.map((x: any) => x.recipient_id);

    expect((await api(`/v1/lists/${list.id}/members/${a}`, { method: "DELETE", key: ws.key })).status).toBe(204);
    expect((await api(`/v1/lists/${list.id}/members/${a}`, { method: "DELETE", key: ws.key })).status).toBe(404);
    expect((await api(`/v1/recipients/${a}`, { key: ws.key })).status).toBe(200); // still a recipient

    expect((await api(`/v1/recipients/${b}`, { method: "DELETE", key: ws.key })).status).toBe(204);
    const members = await allMembers(ws, list.id);
    expect(members.map((m) => m.email)).toEqual(["c@example.net"]);
    expect((await json(await api(`/v1/lists/${list.id}`, { key: ws.key }))).member_count).toBe(1);
  });

  it("takes 10,000 members in one call (two round trips), and pages through them", async () => {
    const ws = await createWorkspace();
    const list = await createList(ws);
    // A quarter already exist as recipients.
    const existing = Array.from({ length: 2500 }, (_, i) => ({ email: `patient${i}@example.net` }));
    expect((await api("/v1/recipients/import", { method: "POST", key: ws.key, json: existing })).status).toBe(200);
    const members = Array.from({ length: 10_000 }, (_, i) => `patient${i}@example.net`);

    const started = Date.now();
    const body = await json(await add(ws, list.id, members));
    const ms = Date.now() - started;
    expect(body).toMatchObject({ added: 10_000, already_member: 0, failed: 0, created: 7_500 });
    expect(body.results).toHaveLength(10_000);
    expect(new Set(body.results.map((r: any) => r.recipient_id)).size).toBe(10_000);
    expect((await json(await api(`/v1/lists/${list.id}`, { key: ws.key }))).member_count).toBe(10_000);
    // Generous bound for a shared CI machine; it is about two D1 round trips of work.
    expect(ms).toBeLessThan(20_000);

    const count = await env.DB.prepare("select count(*) as n from recipients where workspace_id = ?").bind(ws.id).first<{ n: number }>();
    expect(count!.n).toBe(10_000);
    const page = await json(await api(`/v1/lists/${list.id}/members?limit=100`, { key: ws.key }));
    const next = await json(await api(`/v1/lists/${list.id}/members?limit=100&cursor=${page.next_cursor}`, { key: ws.key }));
    expect(page.data).toHaveLength(100);
    expect(next.data[0].recipient_id > page.data[99].recipient_id).toBe(true);

    const over = await add(ws, list.id, [...members, "one-more@example.net"]);
    expect(over.status).toBe(400);
  });

  it("reading members is audited; bad cursors are refused", async () => {
    const ws = await createWorkspace();
    const list = await createList(ws);
    await api(`/v1/lists/${list.id}/members`, { key: ws.key });
    const audit = await json(await api("/v1/audit-logs?action=list.members.read", { key: ws.key }));
    expect(audit.data[0]).toMatchObject({ action: "list.members.read", resource: `/v1/lists/${list.id}/members`, outcome: "success" });
    expect((await api(`/v1/lists/${list.id}/members?cursor=garbage`, { key: ws.key })).status).toBe(400);
  });
});

describe("recipient list isolation", () => {
  it("workspace B cannot read, change, fill or empty A's list", async () => {
    const a = await createWorkspace();
    const b = await createWorkspace();
    const list = await createList(a);
    const { results } = await json(await add(a, list.id, ["x@example.net"]));
    const member = results[0].recipient_id;

    for (const [method, path, body] of [
      ["GET", `/v1/lists/${list.id}`, undefined],
      ["PATCH", `/v1/lists/${list.id}`, { name: "mine now" }],
      ["GET", `/v1/lists/${list.id}/members`, undefined],
      ["POST", `/v1/lists/${list.id}/members`, { members: ["b@example.net"] }],
      ["DELETE", `/v1/lists/${list.id}/members/${member}`, undefined],
      ["DELETE", `/v1/lists/${list.id}`, undefined],
    ] as const) {
      const res = await api(path, { method, key: b.key, ...(body ? { json: body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await json(await api("/v1/lists", { key: b.key }))).data).toEqual([]);
    // B adding A's recipient to its own list: unknown id.
    const own = await createList(b);
    const res = await json(await add(b, own.id, [{ recipient_id: member }]));
    expect(res.results[0]).toMatchObject({ status: "error", error: expect.stringMatching(/no such recipient/) });

    const mine = await allMembers(a, list.id);
    expect(mine.map((m) => m.email)).toEqual(["x@example.net"]);
    expect((await json(await api(`/v1/lists/${list.id}`, { key: a.key }))).name).toBe(list.name);
  });
});

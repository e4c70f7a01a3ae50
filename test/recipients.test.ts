// Recipients API: upsert, import (JSON and CSV) with per-row results, read/list/update, real
// deletion, encryption at rest, suppression management (and its effect at accept), auditing.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { csvToRows, parseCsv } from "../workers/api/recipient-csv";
import { api, createWorkspace, json, message } from "./helpers";

describe("recipients API", () => {
  it("creates, then upserts by address (domain lower-cased); names and fields are encrypted at rest", async () => {
    const ws = await createWorkspace();
    const res = await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "Ann@Example.NET", first_name: "Ann", last_name: "Lee", fields: { clinic: "North" } } });
    expect(res.status).toBe(201);
    const created = await json(res);
    expect(created).toMatchObject({ email: "Ann@example.net", status: "active", first_name: "Ann", last_name: "Lee", fields: { clinic: "North" } });
    const again = await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "ann@example.net", first_name: "Anne" } });
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ id: created.id, first_name: "Anne", last_name: "Lee", fields: { clinic: "North" } });
    const row = await env.DB.prepare("select * from recipients where id = ?").bind(created.id).first<any>();
    expect(JSON.stringify(row)).not.toMatch(/Anne|Lee|North/);
    expect(row.first_name_enc).toBeTruthy();
    const read = await json(await api(`/v1/recipients/${created.id}`, { key: await ws.keyWith(["read"]) }));
    expect(read.first_name).toBe("Anne");
  });

  it("rejects an invalid address and unknown properties", async () => {
    const ws = await createWorkspace();
    expect((await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "nope" } })).status).toBe(400);
    expect((await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "a@example.net", status: "active" } })).status).toBe(400);
    expect((await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "a@example.net", first_name: "A\r\nBcc: x" } })).status).toBe(400);
  });

  it("imports a JSON array with one result per row", async () => {
    const ws = await createWorkspace();
    await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "old@example.net" } });
    const res = await api("/v1/recipients/import", {
      method: "POST",
      key: ws.key,
      json: [{ email: "a@example.net", first_name: "A" }, { email: "bad" }, { email: "old@example.net", last_name: "O" }, { email: "A@EXAMPLE.net" }],
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ created: 1, updated: 1, failed: 2 });
    expect(body.results.map((r: any) => r.status)).toEqual(["created", "error", "updated", "error"]);
    expect(body.results[1].error).toMatch(/email/);
    expect(body.results[3].error).toMatch(/duplicate/);
  });

  it("imports CSV with custom fields, and 10,000 rows in one call", async () => {
    const ws = await createWorkspace();
    const csv = 'email,first_name,last_name,clinic\r\nb@example.net,"Bo, Jr.",Smith,"The ""East"""\nc@example.net,,,\n';
    const res = await api("/v1/recipients/import", { method: "POST", key: ws.key, body: csv, headers: { "content-type": "text/csv" } });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ created: 2, failed: 0 });
    const b = await json(await api(`/v1/recipients/${body.results[0].id}`, { key: ws.key }));
    expect(b).toMatchObject({ first_name: "Bo, Jr.", last_name: "Smith", fields: { clinic: 'The "East"' } });

    const big = ["email,first_name", ...Array.from({ length: 10_000 }, (_, i) => `p${i}@example.org,P${i}`)].join("\n");
    const bulk = await json(await api("/v1/recipients/import", { method: "POST", key: ws.key, body: big, headers: { "content-type": "text/csv" } }));
    expect(bulk).toMatchObject({ created: 10_000, failed: 0 });
    const tooMany = await api("/v1/recipients/import", { method: "POST", key: ws.key, json: Array.from({ length: 10_001 }, (_, i) => ({ email: `q${i}@example.org` })) });
    expect(tooMany.status).toBe(400);
  }, 60_000);

  it("parses CSV quoting and builds rows", () => {
    expect(parseCsv('a,"b\nc",d\r\n"x""y",,z')).toEqual([["a", "b\nc", "d"], ['x"y', "", "z"]]);
    expect(csvToRows("email,first_name,plan\nx@example.net,X,gold")).toEqual([{ email: "x@example.net", first_name: "X", fields: { plan: "gold" } }]);
    expect(() => csvToRows("first_name\nX")).toThrow(/email/);
  });

  it("lists with a cursor and a status filter; updates; deletes the row and its events", async () => {
    const ws = await createWorkspace();
    const ids: string[] = [];
    for (const e of ["l1", "l2", "l3"]) ids.push((await json(await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: `${e}@example.net` } }))).id);
    const first = await json(await api("/v1/recipients?limit=2", { key: ws.key }));
    expect(first.data).toHaveLength(2);
    const second = await json(await api(`/v1/recipients?limit=2&cursor=${first.next_cursor}`, { key: ws.key }));
    expect(second.data).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    expect(new Set([...first.data, ...second.data].map((r: any) => r.id))).toEqual(new Set(ids));

    const patched = await json(await api(`/v1/recipients/${ids[0]}`, { method: "PATCH", key: ws.key, json: { first_name: "Lou", fields: { x: "1" } } }));
    expect(patched).toMatchObject({ first_name: "Lou", fields: { x: "1" } });
    expect((await json(await api(`/v1/recipients/${ids[0]}`, { method: "PATCH", key: ws.key, json: { first_name: null } }))).first_name).toBeNull();

    expect((await api(`/v1/recipients/${ids[1]}/suppression`, { method: "PUT", key: ws.key, json: { status: "unsubscribed" } })).status).toBe(200);
    const unsub = await json(await api("/v1/recipients?status=unsubscribed", { key: ws.key }));
    expect(unsub.data.map((r: any) => r.id)).toEqual([ids[1]]);
    expect(await env.DB.prepare("select count(*) n from recipient_events where recipient_id = ?").bind(ids[1]).first("n")).toBe(1);

    expect((await api(`/v1/recipients/${ids[1]}`, { method: "DELETE", key: ws.key })).status).toBe(204);
    expect((await api(`/v1/recipients/${ids[1]}`, { key: ws.key })).status).toBe(404);
    expect(await env.DB.prepare("select count(*) n from recipients where id = ?").bind(ids[1]).first("n")).toBe(0);
    expect(await env.DB.prepare("select count(*) n from recipient_events where recipient_id = ?").bind(ids[1]).first("n")).toBe(0);
    expect((await api(`/v1/recipients/${ids[1]}`, { method: "DELETE", key: ws.key })).status).toBe(404);
  });

  it("suppression: PUT drops the address at accept, DELETE reactivates; GET /v1/suppressions lists them", async () => {
    const ws = await createWorkspace();
    const r = await json(await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "s@example.net" } }));
    expect((await api(`/v1/recipients/${r.id}/suppression`, { method: "PUT", key: ws.key, json: { status: "active" } })).status).toBe(400);
    const sup = await json(await api(`/v1/recipients/${r.id}/suppression`, { method: "PUT", key: ws.key, json: { status: "unsubscribed" } }));
    expect(sup.status).toBe("unsubscribed");
    const list = await json(await api("/v1/suppressions", { key: ws.key }));
    expect(list.data.map((x: any) => x.email)).toEqual(["s@example.net"]);
    const acc = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["s@example.net", "ok@example.net"] }) }));
    expect(acc.recipients).toEqual([
      { email: "s@example.net", status: "suppressed" },
      { email: "ok@example.net", status: "queued" },
    ]);
    const back = await json(await api(`/v1/recipients/${r.id}/suppression`, { method: "DELETE", key: ws.key }));
    expect(back.status).toBe("active");
    expect((await json(await api("/v1/suppressions", { key: ws.key }))).data).toEqual([]);
    const acc2 = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["s@example.net"] }) }));
    expect(acc2.recipients).toEqual([{ email: "s@example.net", status: "queued" }]);
  });

  it("is workspace-isolated, scope-checked and audited", async () => {
    const a = await createWorkspace();
    const b = await createWorkspace();
    const r = await json(await api("/v1/recipients", { method: "POST", key: a.key, json: { email: "iso@example.net", first_name: "Iso" } }));
    expect((await api(`/v1/recipients/${r.id}`, { key: b.key })).status).toBe(404);
    expect((await api(`/v1/recipients/${r.id}`, { method: "DELETE", key: b.key })).status).toBe(404);
    expect((await json(await api("/v1/recipients", { key: b.key }))).data).toEqual([]);
    const readOnly = await a.keyWith(["read"]);
    expect((await api("/v1/recipients", { method: "POST", key: readOnly, json: { email: "x@example.net" } })).status).toBe(403);
    expect((await api(`/v1/recipients/${r.id}`, { key: readOnly })).status).toBe(200);
    const actions = (await json(await api("/v1/audit-logs", { key: a.key }))).data.map((x: any) => x.action);
    expect(actions).toContain("recipient.read");
    expect(actions).toContain("recipient.upsert");
  });
});

import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { api, createWorkspace, json, message } from "./helpers";

const count = async (workspaceId: string) =>
  (await env.DB.prepare("select count(*) as n from messages where workspace_id = ?").bind(workspaceId).first<{ n: number }>())!.n;

describe("Idempotency-Key", async () => {
  const ws = await createWorkspace();

  it("the same key and body return the first answer and create one message", async () => {
    const body = message(ws, { subject: "once" });
    const first = await api("/v1/messages", { method: "POST", key: ws.key, json: body, headers: { "idempotency-key": "k-1" } });
    const again = await api("/v1/messages", { method: "POST", key: ws.key, json: body, headers: { "idempotency-key": "k-1" } });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await json(again)).id).toBe((await json(first)).id);
    const n = await count(ws.id);
    await api("/v1/messages", { method: "POST", key: ws.key, json: body, headers: { "idempotency-key": "k-1" } });
    expect(await count(ws.id)).toBe(n);
  });

  it("the same key with a different body is 409", async () => {
    await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws), headers: { "idempotency-key": "k-2" } });
    const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { subject: "other" }), headers: { "idempotency-key": "k-2" } });
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe("idempotency_conflict");
  });

  it("concurrent requests with one key create exactly one message", async () => {
    const before = await count(ws.id);
    const body = message(ws, { subject: "race" });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => api("/v1/messages", { method: "POST", key: ws.key, json: body, headers: { "idempotency-key": "k-race" } })),
    );
    const ids = new Set(await Promise.all(results.map(async (r) => (expect(r.status).toBe(202), (await json(r)).id))));
    expect(ids.size).toBe(1);
    expect(await count(ws.id)).toBe(before + 1);
  });

  it("keys are per workspace: another tenant's identical key is independent", async () => {
    const other = await createWorkspace();
    const a = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws), headers: { "idempotency-key": "shared" } }));
    const b = await json(await api("/v1/messages", { method: "POST", key: other.key, json: message(other), headers: { "idempotency-key": "shared" } }));
    expect(a.id).not.toBe(b.id);
  });

  it("the MIME path deduplicates by Message-ID (an SMTP client's retry)", async () => {
    const raw = `From: noreply@${ws.domain}\r\nTo: p@example.net\r\nSubject: retry\r\nMessage-ID: <retry-1@${ws.domain}>\r\n\r\nbody\r\n`;
    const post = () =>
      api("/v1/messages/mime?mail_from=" + encodeURIComponent(`noreply@${ws.domain}`) + "&rcpt_to=p@example.net", {
        method: "POST",
        key: ws.key,
        headers: { "content-type": "message/rfc822" },
        body: raw,
      });
    const firstRes = await post();
    const first = await json(firstRes);
    expect(firstRes.status, JSON.stringify(first)).toBe(202);
    const second = await post();
    expect(second.status).toBe(202);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect((await json(second)).id).toBe(first.id);
  });
});

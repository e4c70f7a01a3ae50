// Authorization: every route in the OpenAPI document declares what it needs (read from the auth
// middleware actually mounted on it) and refuses no credential (401) and a credential without
// that scope (403). The list of routes comes from the app itself, so a new route is covered the
// moment it is added; a route outside the document must be on the short public list or refuse
// anonymous callers too. Then mass assignment: bodies cannot set ids, workspace, status or counters.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SCOPES } from "../core/scopes";
import { app } from "../workers/api/app";
import { ADMIN, api, createWorkspace, json, message, waitForStatus } from "./helpers";

type Operation = { security?: Record<string, string[]>[] };
const METHODS = ["get", "post", "put", "patch", "delete"] as const;

// Outside the document and open on purpose: liveness, readiness, the document itself.
const PUBLIC = new Set(["GET /health", "GET /ready", "GET /openapi.json"]);
// The webhook API (DESIGN.md): providers call /webhooks/... and authenticate by signing the
// body, not with a bearer credential. Those routes are checked to refuse an unsigned request;
// the signature schemes themselves are tested with the webhook handlers.
const isProviderWebhook = (path: string) => path.startsWith("/webhooks/");

async function probe(method: string, path: string, key?: string): Promise<number> {
  const concrete = path.replace(/\{[^}]+\}/g, "zz_nonexistent");
  const init: Parameters<typeof api>[1] = { method: method.toUpperCase(), ...(key ? { key } : {}) };
  if (method !== "get" && method !== "delete") init.json = {};
  const res = await api(concrete, init);
  await res.arrayBuffer();
  return res.status;
}

describe("every route declares and enforces its scope", async () => {
  const ws = await createWorkspace();
  const doc = await json<{ paths: Record<string, Record<string, Operation>> }>(await api("/openapi.json"));
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    METHODS.filter((m) => ops[m]).map((m) => ({ method: m, path, security: ops[m]!.security })),
  );
  // Keys holding every workspace scope but one (never admin, which holds them all).
  const without = new Map<string, string>();
  for (const s of SCOPES) without.set(s, await ws.keyWith(SCOPES.filter((x) => x !== s && x !== "admin")));
  const only = new Map<string, string>();
  for (const s of SCOPES) only.set(s, await ws.keyWith([s]));

  it("the document lists the routes (sanity)", () => {
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toContain("get /v1/messages/{id}/rendered");
  });

  it("every operation declares its requirement in `security`", () => {
    const undeclared = operations.filter((o) => !isProviderWebhook(o.path) && (!o.security || o.security.length === 0)).map((o) => `${o.method.toUpperCase()} ${o.path}`);
    expect(undeclared).toEqual([]);
  });

  it("message content needs read_bodies; metadata needs read", () => {
    const req = (m: string, p: string) => operations.find((o) => o.method === m && o.path === p)!.security![0]!["bearer"];
    expect(req("get", "/v1/messages/{id}/rendered")).toEqual(["read_bodies"]);
    expect(req("get", "/v1/messages/{id}")).toEqual(["read"]);
    expect(req("get", "/v1/audit-logs")).toEqual(["admin"]);
  });

  it("every operation refuses no credential (401) and a credential without its scope (403)", async () => {
    const failures: string[] = [];
    for (const op of operations) {
      const name = `${op.method.toUpperCase()} ${op.path}`;
      const need = op.security?.[0]?.["bearer"]?.[0];
      const anon = await probe(op.method, op.path);
      if (isProviderWebhook(op.path)) {
        if (anon < 400 || anon >= 500) failures.push(`${name}: unsigned request got ${anon}`);
        continue;
      }
      if (anon !== 401) failures.push(`${name}: anonymous got ${anon}`);
      if (need === "platform_admin") {
        const s = await probe(op.method, op.path, ws.key);
        if (s !== 403) failures.push(`${name}: workspace admin key got ${s}`);
      } else if (need) {
        const lacking = await probe(op.method, op.path, without.get(need));
        if (lacking !== 403) failures.push(`${name}: key without '${need}' got ${lacking}`);
        // The declared scope is the one enforced, not a stricter one.
        const holding = await probe(op.method, op.path, only.get(need));
        if (holding === 401 || holding === 403) failures.push(`${name}: key with only '${need}' got ${holding}`);
        const platform = await probe(op.method, op.path, ADMIN);
        if (platform !== 403) failures.push(`${name}: platform token got ${platform}`);
      } else {
        // Any workspace credential (e.g. /v1/me): the weakest key gets in.
        const s = await probe(op.method, op.path, only.get("send"));
        if (s === 401 || s === 403) failures.push(`${name}: a send-only key got ${s}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("routes outside the document are public on purpose or refuse anonymous callers", async () => {
    const documented = new Set(operations.map((o) => `${o.method.toUpperCase()} ${o.path.replace(/\{([^}]+)\}/g, ":$1")}`));
    // Wildcard entries are middleware (body limits, audit), not endpoints.
    const routes = new Set(app.routes.filter((r) => r.method !== "ALL" && !r.path.includes("*")).map((r) => `${r.method} ${r.path}`));
    const failures: string[] = [];
    for (const r of routes) {
      if (documented.has(r) || PUBLIC.has(r)) continue;
      const [method, path] = r.split(" ") as [string, string];
      const status = await probe(method.toLowerCase(), path.replace(/:(\w+)/g, "{$1}"));
      if (status !== 401 && status !== 403) failures.push(`${r}: anonymous got ${status}`);
    }
    expect(failures).toEqual([]);
    expect((await api("/health")).status).toBe(200);
  });
});

describe("mass assignment is refused", async () => {
  const ws = await createWorkspace();
  const forged = { id: "msg_forged", workspace_id: "ws_other", status: "sent", attempt_count: 9 };

  it("send bodies cannot set ids, workspace, status or counters", async () => {
    for (const extra of [{ id: "msg_forged" }, { workspace_id: "ws_other" }, { status: "sent" }, { attempt_count: 9 }, { api_key_id: "key_x" }, { queued_at: 0 }]) {
      const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, extra) });
      expect(res.status, JSON.stringify(extra)).toBe(400);
    }
    const batch = await api("/v1/messages/batch", { method: "POST", key: ws.key, json: { messages: [message(ws, { status: "sent" })] } });
    expect(batch.status).toBe(400);
    const mime = await api("/v1/messages/mime", {
      method: "POST",
      key: ws.key,
      json: { mail_from: `a@${ws.domain}`, rcpt_to: ["x@example.net"], raw: "Subject: x\r\n\r\nx", ...forged },
    });
    expect(mime.status).toBe(400);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE id = 'msg_forged' OR workspace_id = 'ws_other'").first<{ n: number }>();
    expect(n!.n).toBe(0);
  });

  it("configuration bodies cannot set ids, workspace or server-kept fields", async () => {
    const cases: [string, string, unknown][] = [
      ["POST", "/v1/providers", { name: "p", type: "sandbox", id: "prv_forged" }],
      ["POST", "/v1/providers", { name: "p", type: "sandbox", workspace_id: "ws_other" }],
      ["PATCH", `/v1/providers/${ws.providerId}`, { workspace_id: "ws_other" }],
      ["PATCH", `/v1/providers/${ws.providerId}`, { id: "prv_forged" }],
      ["PATCH", `/v1/providers/${ws.providerId}`, { created_at: "2020-01-01T00:00:00Z" }],
      ["POST", "/v1/api-keys", { name: "k", scopes: ["send"], workspace_id: "ws_other" }],
      ["POST", "/v1/api-keys", { name: "k", scopes: ["send"], key_hash: "0".repeat(64) }],
      ["POST", "/v1/api-keys", { name: "k", scopes: ["send"], revoked_at: null, last_used_at: "2020-01-01T00:00:00Z" }],
      ["POST", "/v1/domains", { domain: "forged.example", verified: true }],
      ["POST", "/v1/domains", { domain: "forged.example", workspace_id: "ws_other" }],
      ["PATCH", "/v1/workspace", { id: "ws_other" }],
      ["PATCH", "/v1/workspace", { status: "active" }],
      ["PATCH", "/v1/workspace", { slug: "taken" }],
      ["PUT", "/v1/workspace/retention", { body_retention_days: 7, workspace_id: "ws_other" }],
      ["PUT", "/v1/workspace/dlp", { action: "reject", rules: [], workspace_id: "ws_other" }],
    ];
    for (const [method, path, body] of cases) {
      const res = await api(path, { method, key: ws.key, json: body });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
    }
    const prv = await env.DB.prepare("SELECT workspace_id FROM providers WHERE id = ?").bind(ws.providerId).first<{ workspace_id: string }>();
    expect(prv!.workspace_id).toBe(ws.id);
    const dom = await env.DB.prepare("SELECT COUNT(*) AS n FROM sender_domains WHERE domain = 'forged.example'").first<{ n: number }>();
    expect(dom!.n).toBe(0);
  });

  it("a delivered message's status cannot be moved by cancelling it", async () => {
    const sent = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws) }));
    await waitForStatus(ws, sent.id, ["sent"]);
    expect((await api(`/v1/messages/${sent.id}/cancel`, { method: "POST", key: ws.key })).status).toBe(409);
    expect((await json(await api(`/v1/messages/${sent.id}`, { key: ws.key }))).status).toBe("sent");
  });
});

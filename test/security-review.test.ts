// Issue 18 (outside security review), parts c-e: API keys born expired, partial settings
// updates that merge instead of resetting, and sender-domain claims between workspaces.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { randomToken } from "../core/ids";
import { ADMIN, api, createWorkspace, json, type TestWorkspace } from "./helpers";

describe("API keys: expires_at must be in the future (18c)", async () => {
  const ws = await createWorkspace({ provider: null });

  it.each([
    ["/v1/api-keys", () => ws.key],
    [`/v1/workspaces/${ws.id}/api-keys`, () => ADMIN],
  ])("%s refuses a past expires_at with 400 validation_error and issues no key", async (path, key) => {
    const res = await api(path, { method: "POST", key: key(), json: { name: "late", scopes: ["send"], expires_at: "2020-01-01T00:00:00Z" } });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toMatchObject({ code: "validation_error" });
    expect(body.error.message).toMatch(/expires_at: must be in the future/);
    expect(body.key).toBeUndefined();
    const keys = (await json(await api("/v1/api-keys", { key: ws.key }))).data;
    expect(keys.some((k: any) => k.name === "late")).toBe(false);
  });

  it("a future expires_at is still accepted", async () => {
    const res = await api("/v1/api-keys", { method: "POST", key: ws.key, json: { name: "soon", scopes: ["send"], expires_at: new Date(Date.now() + 86_400_000).toISOString() } });
    expect(res.status).toBe(201);
  });
});

describe("PATCH /v1/workspace merges (18d)", async () => {
  const ws = await createWorkspace({ provider: null });
  const patch = (body: unknown) => api("/v1/workspace", { method: "PATCH", key: ws.key, json: body });
  const settings = async () => (await json(await api("/v1/workspace", { key: ws.key }))).settings;

  it("changes only the keys sent, deep inside nested objects", async () => {
    expect((await patch({ limits: { daily: 2000, hourly: 300, user_overrides: { key_a: 10 } }, retry_policy: { base_seconds: 30 } })).status).toBe(200);
    const res = await patch({ limits: { user_daily: 5 } });
    expect(res.status).toBe(200);
    expect((await json(res)).settings.limits).toEqual({ time_zone: "UTC", daily: 2000, hourly: 300, user_daily: 5, user_overrides: { key_a: 10 } });
    expect((await settings()).retry_policy.base_seconds).toBe(30);

    await patch({ routing: { breaker: { open_seconds: 120 } } });
    await patch({ routing: { max_failover: 1 } });
    const routing = (await settings()).routing;
    expect(routing).toMatchObject({ max_failover: 1, strategy: "priority", breaker: { open_seconds: 120, consecutive_failures: 5 } });
  });

  it("records merge key by key, arrays are replaced, null resets to the default", async () => {
    await patch({ variables: { CLINIC: "North", PHONE: "555" }, limits: { user_overrides: { key_b: 20 } } });
    await patch({ variables: { PHONE: null, ROOM: "7" } });
    let s = await settings();
    expect(s.variables).toEqual({ CLINIC: "North", ROOM: "7" });
    expect(s.limits.user_overrides).toEqual({ key_a: 10, key_b: 20 });

    await patch({ trending_questions: { questions: ["a?", "b?"] } });
    await patch({ trending_questions: { questions: ["c?"] } });
    expect((await settings()).trending_questions.questions).toEqual(["c?"]);

    await patch({ limits: { daily: null } });
    s = await settings();
    expect(s.limits).toMatchObject({ daily: 10_000, user_daily: 5, hourly: 300 });
    await patch({ limits: null });
    expect((await settings()).limits).toEqual({ time_zone: "UTC", daily: 10_000, hourly: null, user_daily: 500, user_overrides: {} });
  });

  it("the merged result is validated; a refused patch changes nothing", async () => {
    const before = await settings();
    for (const body of [{ limits: { daily: -1 } }, { limits: { surprise: 1 } }, { retry_policy: { base_seconds: "soon" } }, { nonsense: true }]) {
      const res = await patch(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await json(res)).error.code).toBe("validation_error");
    }
    expect(await settings()).toEqual(before);
  });

  it("a key named __proto__ never becomes a prototype in the merge", async () => {
    // JSON.parse makes "__proto__" an own key, as the API's body parser does.
    const res = await patch(JSON.parse('{"variables":{"__proto__":"x","OK":"1"},"limits":{"user_overrides":{"__proto__":7}}}'));
    expect(res.status).toBe(200);
    const s = await settings();
    expect(s.variables.OK).toBe("1");
    expect(typeof s.variables.hasOwnProperty).toBe("function");
    expect(({} as Record<string, unknown>).OK).toBeUndefined();
  });

  it("says so in the OpenAPI document", async () => {
    const doc = await json(await api("/openapi.json"));
    const op = doc.paths["/v1/workspace"].patch;
    expect(op.description).toMatch(/merge/i);
    expect(op.description).toMatch(/null/);
  });
});

describe("sender domain claims (18e)", async () => {
  const a = await createWorkspace({ provider: null });
  const b = await createWorkspace({ provider: null });
  const base = `claims-${randomToken(6).toLowerCase().replace(/[^a-z0-9]/g, "x")}.example`;
  // DNS over HTTPS, answered from what each test published.
  const txt = new Map<string, string[]>();
  beforeAll(() => {
    const original = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (!url.href.startsWith("https://cloudflare-dns.com/dns-query")) return original(input as RequestInfo, init);
      const name = url.searchParams.get("name")!;
      return Response.json({ Answer: (txt.get(name) ?? []).map((v) => ({ type: 16, data: `"${v}"` })) });
    });
  });
  afterAll(() => vi.restoreAllMocks());

  const register = (ws: TestWorkspace, domain: string) => api("/v1/domains", { method: "POST", key: ws.key, json: { domain } });
  /** Registers (or finds) the claim, publishes its TXT record and asks for verification. */
  async function verify(ws: TestWorkspace, id: string) {
    const list = (await json(await api("/v1/domains", { key: ws.key }))).data as any[];
    const d = list.find((x) => x.id === id)!;
    txt.set(d.verification.name, [...(txt.get(d.verification.name) ?? []), d.verification.value]);
    return api(`/v1/domains/${id}/verify`, { method: "POST", key: ws.key });
  }

  it("an unverified registration does not block the owner; the first verification makes the claim exclusive", async () => {
    const domain = `first.${base}`;
    const squat = await register(b, domain);
    expect(squat.status).toBe(201);
    const own = await register(a, domain);
    expect(own.status).toBe(201);
    expect((await verify(a, (await json(own)).id)).status).toBe(200);
    // B publishes its own TXT record too: the name is taken all the same.
    const late = await verify(b, (await json(squat)).id);
    expect(late.status).toBe(409);
    expect((await json(late)).error.code).toBe("conflict");
    expect((await register(b, domain)).status).toBe(409);
    expect((await register(a, domain)).status).toBe(409); // twice in one workspace
  });

  it("a verified domain reserves the names under it: another workspace can neither register nor verify them", async () => {
    const parent = `clinic.${base}`;
    const early = await register(b, `mail.${parent}`); // before A verified: allowed, but can never verify
    expect(early.status).toBe(201);
    expect((await verify(a, (await json(await register(a, parent))).id)).status).toBe(200);
    expect((await register(b, `mx.${parent}`)).status).toBe(409);
    const v = await verify(b, (await json(early)).id);
    expect(v.status).toBe(409);
    expect((await json(v)).error.message).not.toContain(a.id);
    // The platform bootstrap cannot hand it out either.
    expect((await api(`/v1/workspaces/${b.id}/domains`, { method: "POST", key: ADMIN, json: { domain: `mail2.${parent}`, verified: true } })).status).toBe(409);
    // The owner itself may add its own subdomains.
    expect((await verify(a, (await json(await register(a, `mail.${parent}`))).id)).status).toBe(200);
  });

  it("verifying a parent later does not take a subdomain from the workspace that verified it first", async () => {
    const child = `portal.later.${base}`;
    expect((await verify(b, (await json(await register(b, child))).id)).status).toBe(200);
    expect((await verify(a, (await json(await register(a, `later.${base}`))).id)).status).toBe(200);
    const bs = (await json(await api("/v1/domains", { key: b.key }))).data as any[];
    expect(bs.find((d) => d.domain === child)).toMatchObject({ verified: true });
    expect((await register(a, child)).status).toBe(409);
  });
});

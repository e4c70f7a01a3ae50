// Issue 18 (outside security review), parts c-e: API keys born expired, partial settings
// updates that merge instead of resetting, and sender-domain claims between workspaces.
import { describe, expect, it } from "vitest";
import { ADMIN, api, createWorkspace, json } from "./helpers";

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

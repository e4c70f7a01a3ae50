// Variables at accept: strict mode refuses a structured message using a variable that no
// recipient profile, message or workspace value defines (422 naming it); defaults satisfy it.
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, message } from "./helpers";

describe("strict variables at accept", () => {
  it("the message flag refuses an unknown variable with 422 naming it", async () => {
    const ws = await createWorkspace();
    const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { text: "Hi {{FIRST_NAME}}, ward {{ward}}", strict_variables: true }) });
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.error.code).toBe("unprocessable");
    expect(body.error.message).toContain("FIRST_NAME");
    expect(body.error.message).toContain("ward");
    // Without strict mode the same message is accepted.
    expect((await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { text: "Hi {{FIRST_NAME}}" }) })).status).toBe(202);
  });

  it("message variables, workspace variables, defaults and recipient profiles make a variable known", async () => {
    const ws = await createWorkspace();
    expect((await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { variables: { clinic: "North" } } })).status).toBe(200);
    await api("/v1/recipients", { method: "POST", key: ws.key, json: { email: "named@example.net", first_name: "Ann", fields: { room: "4" } } });
    const send = (extra: Record<string, unknown>) => api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { strict_variables: true, ...extra }) });
    expect((await send({ subject: "{{clinic}}: {{visit}}", variables: { visit: "Tuesday" } })).status).toBe(202);
    expect((await send({ html: "<p>{{FIRST_NAME|there}} {{unknown_thing|}}</p>" })).status).toBe(202);
    expect((await send({ to: ["named@example.net"], text: "Hi {{FIRST_NAME}} in {{room}}" })).status).toBe(202);
    // Known for one recipient, not the other.
    const res = await send({ to: ["named@example.net", "other@example.net"], text: "Hi {{FIRST_NAME}}" });
    expect(res.status).toBe(422);
    expect((await json(res)).error.message).toContain("FIRST_NAME");
  });

  it("the workspace setting turns strict mode on; the message flag overrides it", async () => {
    const ws = await createWorkspace();
    expect((await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { strict_variables: true } })).status).toBe(200);
    const settings = (await json(await api("/v1/workspace", { key: ws.key }))).settings;
    expect(settings).toMatchObject({ strict_variables: true, variables: {} });
    expect((await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { text: "{{nope}}" }) })).status).toBe(422);
    expect((await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { text: "{{nope}}", strict_variables: false }) })).status).toBe(202);
    expect((await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { variables: { "bad name": "x" } } })).status).toBe(400);
  });
});

// POST /v1/providers/{id}/test: one test message through one provider, the answer as data.
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, type TestWorkspace } from "./helpers";
import { addProvider, mailgunProvider, sim, sims, smtpProvider, uniq } from "./simulators/delivery-fixtures";

const testSend = (ws: TestWorkspace, providerId: string, body: unknown, key = ws.key) =>
  api(`/v1/providers/${providerId}/test`, { method: "POST", key, json: body });

describe("POST /v1/providers/{id}/test", { timeout: 30_000 }, () => {
  it("sends through Mailgun from postmaster@<verified domain> and reports sent with the provider's id", async () => {
    const domain = `${uniq("mg")}.example.org`;
    const ws = await createWorkspace({ provider: mailgunProvider(domain) });
    const res = await testSend(ws, ws.providerId, { to: "Ops <ops@example.net>" });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ result: "sent", provider_message_id: expect.stringMatching(/^test\..+@/) });
    expect(body.latency_ms).toBeGreaterThanOrEqual(0);
    expect(Object.keys(body).sort()).toEqual(["latency_ms", "provider_message_id", "result"]);

    const [got, ...more] = await sim().received("mailgun", domain);
    expect(more).toHaveLength(0);
    expect(got?.to).toEqual(["ops@example.net"]);
    expect(got?.parsed?.from).toBe(`postmaster@${ws.domain}`);
    expect(got?.parsed?.subject).toMatch(/^Relay test message/);
    expect(got?.parsed?.messageId).toBe(`<${body.provider_message_id}>`);
    expect(got?.parsed?.headers.find((h) => h.key === "x-relay-test")?.value).toBe(ws.providerId);
    expect(got?.tags).toEqual(["relay-test"]);

    // Nothing is recorded as a message of the workspace.
    const list = await json(await api("/v1/messages", { key: ws.key }));
    expect(list.data).toEqual([]);
  });

  it("reports the provider's refusals as 200 with result and reason", async () => {
    const domain = `${uniq("mg")}.example.org`;
    const ws = await createWorkspace({ provider: { ...mailgunProvider(domain), credentials: { api_key: "key-not-the-right-one" } } });
    const bad = await testSend(ws, ws.providerId, { to: "ops@example.net" });
    expect(bad.status).toBe(200);
    expect(await json(bad)).toMatchObject({ result: "permanent", configuration: true, reason: expect.stringMatching(/Mailgun 401.*API key rejected/) });

    const good = await addProvider(ws, mailgunProvider(domain));
    await sim().addFault({ target: "mailgun", scope: domain, status: 503, times: 1 });
    expect(await json(await testSend(ws, good, { to: "ops@example.net" }))).toMatchObject({ result: "transient", reason: expect.stringMatching(/Mailgun 503/) });
    expect(await json(await testSend(ws, good, { to: "ops@example.net" }))).toMatchObject({ result: "sent" });
  });

  it("SMTP: an explicit from in a verified domain; a refused recipient is permanent with the server's reply", async () => {
    const ws = await createWorkspace({ provider: smtpProvider() });
    const from = `alerts@${ws.domain}`;
    const ok = await json(await testSend(ws, ws.providerId, { to: "ops@example.net", from: `Alerts <${from}>` }));
    expect(ok).toMatchObject({ result: "sent" });
    const [got] = await sim().received("smtp", from);
    expect(got).toMatchObject({ mailFrom: from, rcptTo: ["ops@example.net"], secure: true, user: sims().smtp.username });

    await sim().addFault({ target: "smtp-rcpt", scope: from, match: "nobody@example.net", status: 550, body: "5.1.1 User unknown" });
    const refused = await json(await testSend(ws, ws.providerId, { to: "nobody@example.net", from }));
    expect(refused).toMatchObject({ result: "permanent", reason: expect.stringMatching(/550 5\.1\.1 User unknown/) });
    expect(refused.configuration).toBeUndefined();
    await sim().clearFaults(from);
  });

  it("tests a disabled provider too (check before enabling)", async () => {
    const ws = await createWorkspace();
    const disabled = await addProvider(ws, { name: "off", type: "sandbox", enabled: false, config: { simulate: "transient" } });
    expect(await json(await testSend(ws, disabled, { to: "ops@example.net" }))).toMatchObject({ result: "transient", reason: "sandbox: simulated temporary failure" });
  });

  it("refuses: another workspace's provider (404), a non-admin key (403), an unverified from (403), a bad address (400), no verified domain (422)", async () => {
    const ws = await createWorkspace();
    const other = await createWorkspace();
    expect((await testSend(other, ws.providerId, { to: "ops@example.net" })).status).toBe(404);
    expect((await testSend(ws, "prv_does_not_exist", { to: "ops@example.net" })).status).toBe(404);

    const sendKey = await ws.keyWith(["send", "read"]);
    const forbidden = await testSend(ws, ws.providerId, { to: "ops@example.net" }, sendKey);
    expect(forbidden.status).toBe(403);

    const spoof = await testSend(ws, ws.providerId, { to: "ops@example.net", from: "ceo@hospital.example.com" });
    expect(spoof.status).toBe(403);
    expect((await json(spoof)).error.code).toBe("sender_domain_not_verified");

    for (const body of [{ to: "not an address" }, { to: "a@example.net, b@example.net" }, {}, { to: "ops@example.net", extra: 1 }]) {
      const res = await testSend(ws, ws.providerId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await json(res)).error.code).toBe("validation_error");
    }

    // A workspace whose only domain is unverified has no default sender.
    const bare = await json(await api("/v1/workspaces", { method: "POST", key: "test-admin-token", json: { slug: uniq("bare"), display_name: "bare" } }));
    await api(`/v1/workspaces/${bare.id}/domains`, { method: "POST", key: "test-admin-token", json: { domain: `${uniq("unverified")}.example.org` } });
    const bareKey = (await json(await api(`/v1/workspaces/${bare.id}/api-keys`, { method: "POST", key: "test-admin-token", json: { name: "admin", scopes: ["admin"] } }))).key;
    const prv = (await json(await api("/v1/providers", { method: "POST", key: bareKey, json: { name: "sandbox", type: "sandbox" } }))).id;
    const none = await api(`/v1/providers/${prv}/test`, { method: "POST", key: bareKey, json: { to: "ops@example.net" } });
    expect(none.status).toBe(422);
    expect((await json(none)).error.message).toMatch(/no verified sender domain/);
  });

  it("is in the OpenAPI document", async () => {
    const doc = await json(await api("/openapi.json"));
    expect(doc.paths["/v1/providers/{id}/test"]?.post?.summary).toMatch(/test message/);
    expect(doc.components.schemas.ProviderTestResult.properties.result.enum).toEqual(["sent", "transient", "permanent"]);
  });
});

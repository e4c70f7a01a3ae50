// Routing through the real queue against the provider simulators: the breaker opens after the
// threshold and traffic fails over; after the open period, trials close it again.
import { exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createWorkspace, json, waitForStatus, type TestWorkspace } from "./helpers";
import { accept, addProvider, FAST_RETRY, gmailProvider, mailgunProvider, setRetryPolicy, sim, uniq } from "./simulators/delivery-fixtures";

let privatePem = "";
let publicPem = "";
beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  privatePem = await exportPKCS8(pair.privateKey);
  publicPem = await exportSPKI(pair.publicKey);
});

const setRouting = async (ws: TestWorkspace, routing: Record<string, unknown>) => {
  const res = await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { routing } });
  expect(res.status, await res.clone().text()).toBe(200);
};

const breakers = async (ws: TestWorkspace) =>
  Object.fromEntries((await json(await api("/v1/providers", { key: ws.key }))).data.map((p: any) => [p.id, p.breaker]));

async function sendOne(ws: TestWorkspace, from: string) {
  const acc = await accept(ws, { from });
  return waitForStatus(ws, acc.id, ["sent", "failed"], 15_000);
}

describe("routing with circuit breakers", { timeout: 60_000 }, () => {
  it("Mailgun answering 503 opens its breaker after 5 failures; mail fails over to Gmail; trials close it again", async () => {
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    await setRouting(ws, { strategy: "priority", breaker: { open_seconds: 2 } });
    const mgDomain = `${uniq("mg")}.example.org`;
    const sender = `clinic@${ws.domain}`;
    const clientEmail = `${uniq("relay")}@project.iam.gserviceaccount.com`;
    await sim().registerServiceAccount(clientEmail, publicPem);
    const mailgun = await addProvider(ws, mailgunProvider(mgDomain, { priority: 1, name: "mailgun" }));
    const gmail = await addProvider(ws, { ...gmailProvider(sender, { client_email: clientEmail, private_key: privatePem }), priority: 2 });
    await sim().addFault({ target: "mailgun", scope: mgDomain, status: 503 });

    for (let i = 0; i < 6; i++) {
      const done = await sendOne(ws, sender);
      expect(done.status).toBe("sent");
      expect(done.recipients[0].provider_id).toBe(gmail);
    }
    // Five calls tripped it; the sixth message never tried Mailgun.
    expect((await sim().counts(mgDomain)).mailgun).toBe(5);
    let state = await breakers(ws);
    expect(state[mailgun].state).toBe("open");
    expect(state[mailgun].recent_success_rate).toBe(0);
    expect(state[gmail].state).toBe("closed");

    // Mailgun recovers; after the open period the breaker lets trials through.
    await sim().clearFaults(mgDomain);
    await new Promise((r) => setTimeout(r, 2100));
    for (let i = 0; i < 5; i++) {
      const done = await sendOne(ws, sender);
      expect(done.recipients[0].provider_id).toBe(mailgun);
    }
    state = await breakers(ws);
    expect(state[mailgun].state).toBe("closed");
    // Traffic is back on the priority order.
    expect((await sendOne(ws, sender)).recipients[0].provider_id).toBe(mailgun);
    expect((await sim().counts(mgDomain)).mailgun).toBe(11);
  });

  it("a provider's own configuration error (rejected key) fails over, and with no other provider the message waits instead of failing", async () => {
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    const badDomain = `${uniq("mg")}.example.org`;
    const goodDomain = `${uniq("mg")}.example.org`;
    const bad = await addProvider(ws, { ...mailgunProvider(badDomain, { priority: 1, name: "bad key" }), credentials: { api_key: "key-this-one-is-revoked" } });
    const good = await addProvider(ws, mailgunProvider(goodDomain, { priority: 2, name: "good" }));
    const sent = await waitForStatus(ws, (await accept(ws)).id, ["sent", "failed"], 15_000);
    expect(sent.status).toBe("sent");
    expect(sent.recipients[0].provider_id).toBe(good);
    // The refused call is on record, as the provider's fault.
    const refused = sent.attempts.find((a: { provider_id: string }) => a.provider_id === bad);
    expect(refused.outcome).toBe("transient");
    expect(refused.detail).toMatch(/provider configuration error: Mailgun 401.*API key rejected/);

    // Only the misconfigured provider left: deferred with the reason, not failed.
    expect((await api(`/v1/providers/${good}`, { method: "DELETE", key: ws.key })).status).toBe(204);
    const waiting = await waitForStatus(ws, (await accept(ws)).id, ["deferred", "failed", "sent"], 15_000);
    expect(waiting.status).toBe("deferred");
    expect(waiting.recipients[0].last_error).toMatch(/provider configuration error/);
  });

  it("with every breaker open: defer until one reopens, or force-send through the primary", async () => {
    const mgDomain = `${uniq("mg")}.example.org`;
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    await setRouting(ws, { breaker: { consecutive_failures: 1, open_seconds: 30 } });
    const mailgun = await addProvider(ws, mailgunProvider(mgDomain, { priority: 1 }));
    await sim().addFault({ target: "mailgun", scope: mgDomain, status: 503, times: 1 });
    // One failure opens it (threshold 1); the message is retried later.
    const first = await accept(ws);
    await waitForStatus(ws, first.id, ["deferred"], 10_000);
    expect((await breakers(ws))[mailgun].state).toBe("open");

    // A new message finds no provider: deferred without calling anyone, retry when the breaker reopens.
    const blocked = await accept(ws);
    const deferred = await waitForStatus(ws, blocked.id, ["deferred"], 10_000);
    expect(deferred.last_error).toContain("circuit breaker open");
    expect(deferred.attempts.at(-1).outcome).toBe("deferred");
    expect((await sim().counts(mgDomain)).mailgun).toBe(1);

    // force_send on the message: the primary is used despite the open breaker.
    const forced = await accept(ws, { force_send: true });
    const sent = await waitForStatus(ws, forced.id, ["sent"], 10_000);
    expect(sent.recipients[0].provider_id).toBe(mailgun);

    // An administrator resets the breaker.
    const reset = await json(await api(`/v1/providers/${mailgun}/breaker/reset`, { method: "POST", key: ws.key }));
    expect(reset.breaker.state).toBe("closed");
  });

  it("round robin takes turns across messages (position kept in a Durable Object)", async () => {
    const a = `${uniq("mg")}.example.org`;
    const b = `${uniq("mg")}.example.org`;
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    await setRouting(ws, { strategy: "round_robin" });
    const pa = await addProvider(ws, mailgunProvider(a, { priority: 1 }));
    const pb = await addProvider(ws, mailgunProvider(b, { priority: 2 }));
    const used: string[] = [];
    for (let i = 0; i < 4; i++) used.push((await sendOne(ws, `noreply@${ws.domain}`)).recipients[0].provider_id);
    expect(used).toEqual([pa, pb, pa, pb]);
  });

  it("domain rules send each recipient through its provider, splitting one message", async () => {
    const a = `${uniq("mg")}.example.org`;
    const b = `${uniq("mg")}.example.org`;
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    const pa = await addProvider(ws, mailgunProvider(a, { priority: 1 }));
    const pb = await addProvider(ws, mailgunProvider(b, { priority: 2 }));
    await setRouting(ws, { strategy: "domain_based", domain_rules: [{ pattern: "*.nhs.uk", provider_id: pb }] });
    const acc = await accept(ws, { to: ["gp@trust.nhs.uk", "pat@example.net"] });
    const done = await waitForStatus(ws, acc.id, ["sent"], 10_000);
    const by = Object.fromEntries(done.recipients.map((r: any) => [r.email, r.provider_id]));
    expect(by).toEqual({ "gp@trust.nhs.uk": pb, "pat@example.net": pa });
    expect((await sim().received("mailgun", b))[0]?.to).toEqual(["gp@trust.nhs.uk"]);
    expect((await sim().received("mailgun", a))[0]?.to).toEqual(["pat@example.net"]);
  });

  it("refuses routing settings that do not validate", async () => {
    const ws = await createWorkspace();
    const res = await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { routing: { strategy: "fastest" } } });
    expect(res.status).toBe(400);
    const bad = await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { routing: { domain_rules: [{ pattern: "*", provider_id: "x" }] } } });
    expect(bad.status).toBe(400);
  });
});

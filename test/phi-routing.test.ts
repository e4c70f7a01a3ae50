// Compliance-aware routing: a message flagged as containing PHI leaves the relay only through a
// provider the workspace declared BAA-covered. Checked on what reaches the Mailgun simulator
// (its per-domain request counts), not on the relay's own view of the routing.
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, waitForStatus, type TestWorkspace } from "./helpers";
import { accept, addProvider, FAST_RETRY, mailgunProvider, setRetryPolicy, sim, uniq } from "./simulators/delivery-fixtures";

const setRouting = async (ws: TestWorkspace, routing: Record<string, unknown>) => {
  const res = await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { routing } });
  expect(res.status, await res.clone().text()).toBe(200);
};

/** Requests the Mailgun simulator received for this provider's domain (faulted ones included). */
const calls = async (domain: string) => (await sim().counts(domain)).mailgun ?? 0;

/** A workspace with two Mailgun providers on their own simulator domains: one declared BAA-covered, one not. */
async function twoProviders(opts: { coveredPriority: number; uncoveredPriority: number }) {
  const ws = await createWorkspace({ provider: null });
  await setRetryPolicy(ws, FAST_RETRY);
  const coveredDomain = `${uniq("baa")}.example.org`;
  const uncoveredDomain = `${uniq("nobaa")}.example.org`;
  const covered = await addProvider(ws, { ...mailgunProvider(coveredDomain, { priority: opts.coveredPriority, name: "covered" }), baa_covered: true });
  const uncovered = await addProvider(ws, mailgunProvider(uncoveredDomain, { priority: opts.uncoveredPriority, name: "not covered" }));
  return { ws, covered, uncovered, coveredDomain, uncoveredDomain };
}

describe("compliance-aware routing: PHI only through BAA-covered providers", { timeout: 60_000 }, () => {
  it("a PHI message skips the uncovered primary and goes to the covered provider; a message without PHI still uses the primary", async () => {
    const t = await twoProviders({ coveredPriority: 2, uncoveredPriority: 1 });

    const phi = await waitForStatus(t.ws, (await accept(t.ws, { contains_phi: true })).id, ["sent", "failed", "deferred"], 15_000);
    expect(phi.status).toBe("sent");
    expect(phi.recipients[0].provider_id).toBe(t.covered);
    expect(await calls(t.uncoveredDomain)).toBe(0);
    expect(await calls(t.coveredDomain)).toBe(1);

    const plain = await waitForStatus(t.ws, (await accept(t.ws)).id, ["sent", "failed", "deferred"], 15_000);
    expect(plain.status).toBe("sent");
    expect(plain.recipients[0].provider_id).toBe(t.uncovered);
    expect(await calls(t.uncoveredDomain)).toBe(1);
    expect(await calls(t.coveredDomain)).toBe(1);
  });

  it("a message tagged by DLP counts as PHI too", async () => {
    const t = await twoProviders({ coveredPriority: 2, uncoveredPriority: 1 });
    const dlp = await api("/v1/workspace/dlp", { method: "PUT", key: t.ws.key, json: { action: "allow", rules: [{ name: "mrn", pattern: "MRN:" }] } });
    expect(dlp.status, await dlp.clone().text()).toBe(200);
    const flagged = await waitForStatus(t.ws, (await accept(t.ws, { text: "Your results are in. MRN: 12345678" })).id, ["sent", "failed", "deferred"], 15_000);
    expect(flagged.tags).toContain("dlp:flagged");
    expect(flagged.status).toBe("sent");
    expect(flagged.recipients[0].provider_id).toBe(t.covered);
    expect(await calls(t.uncoveredDomain)).toBe(0);
  });

  it("the covered provider failing (503) never fails a PHI message over to the uncovered one: it waits, and its retries stay on the covered one", async () => {
    const t = await twoProviders({ coveredPriority: 1, uncoveredPriority: 2 });
    await sim().addFault({ target: "mailgun", scope: t.coveredDomain, status: 503 });

    const phi = await accept(t.ws, { contains_phi: true });
    const deferred = await waitForStatus(t.ws, phi.id, ["deferred", "sent", "failed"], 15_000);
    expect(deferred.status).toBe("deferred");
    expect(deferred.recipients[0].last_error).toMatch(/503/);
    expect(await calls(t.coveredDomain)).toBe(1);
    expect(await calls(t.uncoveredDomain)).toBe(0);
    // Retries (1 s apart) call the covered provider again, never the other one.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await json(await api(`/v1/messages/${phi.id}`, { key: t.ws.key }))).status).toBe("deferred");
    expect(await calls(t.coveredDomain)).toBeGreaterThan(1);
    expect(await calls(t.uncoveredDomain)).toBe(0);

    // The same failure fails a message without PHI over to the other provider, as before.
    const plain = await waitForStatus(t.ws, (await accept(t.ws)).id, ["sent", "failed"], 15_000);
    expect(plain.recipients[0].provider_id).toBe(t.uncovered);
    expect(await calls(t.uncoveredDomain)).toBe(1);
  });

  it("with the covered provider's breaker open, force_send on a PHI message forces the covered one (never the one that is up); without it the message waits", async () => {
    const t = await twoProviders({ coveredPriority: 1, uncoveredPriority: 2 });
    // One failure opens the covered provider's breaker for longer than the test.
    await setRouting(t.ws, { breaker: { consecutive_failures: 1, open_seconds: 60 } });
    await sim().addFault({ target: "mailgun", scope: t.coveredDomain, status: 503, times: 1 });
    // A message without PHI trips it and fails over to the uncovered provider.
    const plain = await waitForStatus(t.ws, (await accept(t.ws)).id, ["sent", "failed"], 15_000);
    expect(plain.recipients[0].provider_id).toBe(t.uncovered);
    expect([await calls(t.coveredDomain), await calls(t.uncoveredDomain)]).toEqual([1, 1]);

    // force_send would take the provider that is up; for PHI it forces the covered one instead.
    const forced = await waitForStatus(t.ws, (await accept(t.ws, { contains_phi: true, force_send: true })).id, ["sent", "failed"], 15_000);
    expect(forced.status).toBe("sent");
    expect(forced.recipients[0].provider_id).toBe(t.covered);
    expect([await calls(t.coveredDomain), await calls(t.uncoveredDomain)]).toEqual([2, 1]);

    // Without force_send, PHI with the only covered provider unavailable is deferred without calling anyone.
    const waiting = await waitForStatus(t.ws, (await accept(t.ws, { contains_phi: true })).id, ["deferred", "sent", "failed"], 15_000);
    expect(waiting.status).toBe("deferred");
    expect(waiting.recipients[0].last_error).toContain("no provider can take it now");
    expect([await calls(t.coveredDomain), await calls(t.uncoveredDomain)]).toEqual([2, 1]);
  });

  it("with no BAA-covered provider a PHI message fails with the reason, and nothing leaves the relay", async () => {
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    const domain = `${uniq("nobaa")}.example.org`;
    await addProvider(ws, mailgunProvider(domain, { name: "not covered" }));

    const done = await waitForStatus(ws, (await accept(ws, { contains_phi: true, force_send: true })).id, ["failed", "sent"], 15_000);
    expect(done.status).toBe("failed");
    expect(done.recipients[0].status).toBe("failed");
    expect(done.recipients[0].last_error).toBe("contains PHI and no BAA-covered provider is configured");
    expect(done.attempts.at(-1)).toMatchObject({ outcome: "permanent", provider_id: null });
    expect(await calls(domain)).toBe(0);

    // A covered provider that does not meet require_tls (the simulator is plain HTTP) is no better.
    const res = await api(`/v1/providers`, { key: ws.key });
    const [p] = (await json(res)).data;
    expect((await api(`/v1/providers/${p.id}`, { method: "PATCH", key: ws.key, json: { baa_covered: true } })).status).toBe(200);
    await setRouting(ws, { require_tls: true });
    const tls = await waitForStatus(ws, (await accept(ws, { contains_phi: true })).id, ["failed", "sent"], 15_000);
    expect(tls.recipients[0].last_error).toMatch(/contains PHI and no BAA-covered provider that uses TLS/);
    expect(await calls(domain)).toBe(0);
  });

  it("baa_covered defaults to false, is shown on GET, and is audited when declared and withdrawn", async () => {
    const ws = await createWorkspace({ provider: null });
    const domain = `${uniq("baa")}.example.org`;
    const plain = await addProvider(ws, mailgunProvider(domain, { name: "plain" }));
    const covered = await addProvider(ws, { ...mailgunProvider(domain, { name: "covered" }), baa_covered: true });
    const listed = Object.fromEntries((await json(await api("/v1/providers", { key: ws.key }))).data.map((p: any) => [p.id, p.baa_covered]));
    expect(listed).toEqual({ [plain]: false, [covered]: true });

    const audit = async (action: string) => (await json(await api(`/v1/audit-logs?action=${action}`, { key: ws.key }))).data;
    expect(await audit("provider.baa_declared")).toMatchObject([{ resource: `provider:${covered}`, outcome: "success" }]);

    const declare = await api(`/v1/providers/${plain}`, { method: "PATCH", key: ws.key, json: { baa_covered: true } });
    expect((await json(declare)).baa_covered).toBe(true);
    expect((await audit("provider.baa_declared")).map((a: any) => a.resource)).toEqual([`provider:${plain}`, `provider:${covered}`]);

    const withdraw = await api(`/v1/providers/${covered}`, { method: "PATCH", key: ws.key, json: { baa_covered: false } });
    expect((await json(withdraw)).baa_covered).toBe(false);
    expect(await audit("provider.baa_withdrawn")).toMatchObject([{ resource: `provider:${covered}` }]);

    // A PATCH that does not change the declaration writes no declaration row.
    expect((await api(`/v1/providers/${covered}`, { method: "PATCH", key: ws.key, json: { baa_covered: false, name: "renamed" } })).status).toBe(200);
    expect(await audit("provider.baa_withdrawn")).toHaveLength(1);
    expect(await audit("provider.baa_declared")).toHaveLength(2);

    const spec = await json(await api("/openapi.json"));
    expect(spec.components.schemas.Provider.properties.baa_covered.description).toMatch(/Business Associate Agreement/);
  });
});

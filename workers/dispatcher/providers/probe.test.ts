// Health probes per provider type, against the provider simulators (real HTTP and SMTP on loopback).
import { exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { simulatorClient } from "../../../test/simulators/workerd-client";
import { createGmailProvider } from "./gmail";
import { createMailgunProvider } from "./mailgun";
import { fromOutcome, healthy, PROBE_SLOW_MS } from "./probe";
import { createSandboxProvider } from "./sandbox";
import { createSmtpProvider } from "./smtp";
import { uniq } from "./test-fixtures";
import type { ProbeContext, ProbeResult, Provider } from "./types";

const sims = () => inject("simulators");
const sim = () => simulatorClient(sims().httpUrl);
const ctx = (timeoutMs?: number): ProbeContext => ({ now: Date.now, fetch: (i, init) => fetch(i, init), ...(timeoutMs ? { timeoutMs } : {}) });
const probe = (p: Provider, c: ProbeContext = ctx()): Promise<ProbeResult> => p.probe!(c);

describe("probe classification", () => {
  it("healthy but slower than 2 s is degraded; failed outcomes are unhealthy, configuration ones say so", () => {
    expect(healthy(10)).toEqual({ status: "healthy", latencyMs: 10 });
    expect(healthy(PROBE_SLOW_MS + 1)).toMatchObject({ status: "degraded", detail: expect.stringMatching(/slow/) });
    expect(fromOutcome({ status: "transient", reason: "timed out" }, 5)).toEqual({ status: "unhealthy", latencyMs: 5, detail: "timed out" });
    expect(fromOutcome({ status: "permanent", reason: "key rejected", configuration: true }, 5).detail).toBe("configuration: key rejected");
  });
});

describe("sandbox probe", () => {
  it("is healthy when delivering and unhealthy when simulating failures", async () => {
    const store = async () => undefined;
    expect((await probe(createSandboxProvider({ simulate: "deliver", fail_recipients: [] }, store))).status).toBe("healthy");
    const bad = await probe(createSandboxProvider({ simulate: "transient", fail_recipients: [] }, store));
    expect(bad).toMatchObject({ status: "unhealthy", detail: expect.stringMatching(/transient/) });
  });
});

describe("mailgun probe (GET /v3/domains/{domain})", { timeout: 15_000 }, () => {
  const provider = (domain: string, key = sims().mailgun.apiKey) => createMailgunProvider({ domain, base_url: sims().mailgun.baseUrl, timeout_ms: 5000 }, { api_key: key });

  it("is healthy for an active domain and sends nothing", async () => {
    const domain = `${uniq("mg")}.example.org`;
    const r = await probe(provider(domain));
    expect(r.status, r.detail).toBe("healthy");
    expect(await sim().counts(domain)).toEqual({ "mailgun-domain": 1 });
  });

  it("a rejected key (401) is unhealthy", async () => {
    const r = await probe(provider(`${uniq("mg")}.example.org`, "key-wrong-0123456789"));
    expect(r).toMatchObject({ status: "unhealthy", detail: expect.stringMatching(/401.*API key rejected/) });
  });

  it("unknown domain (404), 5xx and a disabled domain are unhealthy; 403 and 429 only degraded", async () => {
    const domain = `${uniq("mg")}.example.org`;
    const expectStatus = async (fault: Record<string, unknown>, status: string, detail: RegExp) => {
      await sim().addFault({ target: "mailgun-domain", scope: domain, times: 1, ...fault });
      const r = await probe(provider(domain));
      expect(r.status, r.detail).toBe(status);
      expect(r.detail).toMatch(detail);
    };
    await expectStatus({ status: 404, body: { message: "Domain not found" } }, "unhealthy", /not found/);
    await expectStatus({ status: 503 }, "unhealthy", /503/);
    await expectStatus({ status: 200, body: { domain: { name: domain, state: "disabled", is_disabled: true } } }, "unhealthy", /disabled/);
    await expectStatus({ status: 200, body: { domain: { name: domain, state: "unverified" } } }, "degraded", /unverified/);
    await expectStatus({ status: 403 }, "degraded", /sending key/);
    await expectStatus({ status: 429 }, "degraded", /rate limited/);
  });

  it("slow (> 2 s) is degraded; no answer within the probe timeout is unhealthy", async () => {
    const domain = `${uniq("mg")}.example.org`;
    await sim().addFault({ target: "mailgun-domain", scope: domain, latencyMs: 2200, times: 1 });
    const slow = await probe(provider(domain));
    expect(slow.status, slow.detail).toBe("degraded");
    expect(slow.latencyMs).toBeGreaterThanOrEqual(2000);

    await sim().addFault({ target: "mailgun-domain", scope: domain, action: "timeout", times: 1 });
    const hung = await probe(provider(domain), ctx(1000));
    expect(hung).toMatchObject({ status: "unhealthy", detail: expect.stringMatching(/timed out/) });
    expect(hung.latencyMs).toBeLessThan(3000);
  });
});

describe("gmail probe (token exchange through the shared cache)", { timeout: 15_000 }, () => {
  let privatePem = "";
  let clientEmail = "";
  beforeAll(async () => {
    const pair = await generateKeyPair("RS256", { extractable: true });
    privatePem = await exportPKCS8(pair.privateKey);
    clientEmail = `${uniq("probe")}@project.iam.gserviceaccount.com`;
    await sim().registerServiceAccount(clientEmail, await exportSPKI(pair.publicKey));
  });
  const provider = (sender: string) =>
    createGmailProvider(
      { sender, token_url: sims().gmail.tokenUrl, api_base_url: sims().gmail.apiBaseUrl, upload_base_url: sims().gmail.uploadBaseUrl, timeout_ms: 5000 },
      { client_email: clientEmail, private_key: privatePem },
    );

  it("is healthy once a token is obtained; a second probe reuses the cached token", async () => {
    const sender = `${uniq("box")}@clinic.example`;
    const p = provider(sender);
    expect((await probe(p)).status).toBe("healthy");
    expect((await probe(p)).status).toBe("healthy");
    const tokens = await sim().received("gmail-token", sender);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ signatureVerified: true });
    // Nothing was sent.
    expect(await sim().received("gmail", sender)).toHaveLength(0);
  });

  it("invalid_grant (delegation missing) is unhealthy as a configuration problem; 5xx unhealthy; 429 degraded", async () => {
    const check = async (fault: Record<string, unknown>, status: string, detail: RegExp) => {
      const sender = `${uniq("box")}@clinic.example`;
      await sim().addFault({ target: "gmail-token", scope: sender, ...fault });
      const r = await probe(provider(sender));
      expect(r.status, r.detail).toBe(status);
      expect(r.detail).toMatch(detail);
      await sim().clearFaults(sender);
    };
    await check({ status: 400, body: { error: "unauthorized_client", error_description: "Client is unauthorized" } }, "unhealthy", /^configuration: .*unauthorized_client/);
    await check({ status: 503 }, "unhealthy", /503/);
    await check({ status: 429 }, "degraded", /429/);
  });
});

describe("smtp probe (connect, EHLO, STARTTLS, AUTH, QUIT)", { timeout: 15_000 }, () => {
  const config = (extra: Record<string, unknown> = {}) => ({
    host: "localhost",
    port: sims().smtp.port,
    security: "starttls" as const,
    username: sims().smtp.username,
    timeout_ms: 5000,
    ...extra,
  });

  it("is healthy with STARTTLS and AUTH", async () => {
    const r = await probe(createSmtpProvider(config(), { password: sims().smtp.password }));
    expect(r.status, r.detail).toBe("healthy");
  });

  it("rejected credentials are unhealthy (configuration)", async () => {
    const r = await probe(createSmtpProvider(config(), { password: "wrong-password" }));
    expect(r).toMatchObject({ status: "unhealthy", detail: expect.stringMatching(/^configuration: .*AUTH.*535/) });
  });

  it("a relay that refuses connections is unhealthy", async () => {
    // Port 9 (discard) has no listener here: the connection is refused.
    const r = await probe(createSmtpProvider({ host: "127.0.0.1", port: 9, security: "none", timeout_ms: 2000 }, {}));
    expect(r.status).toBe("unhealthy");
    expect(r.detail).toMatch(/127\.0\.0\.1:9/);
  });
});

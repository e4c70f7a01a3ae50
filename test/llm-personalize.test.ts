// LLM personalization end to end: accept → queue → PHI guard → the OpenAI-compatible simulator
// (test/simulators/openai-sim.ts) → validation → restore → delivery to the Mailgun simulator.
// Each test has its own simulator scopes, so faults and received requests never cross tests.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, json, waitForStatus, type TestWorkspace } from "./helpers";
import { accept, mailgunProvider, sim, sims, uniq, workspaceWith } from "./simulators/delivery-fixtures";
import { PERSONALIZED_MARK } from "./simulators/openai-sim";

interface LlmWorkspace {
  ws: TestWorkspace;
  /** Mailgun simulator scope: what was delivered. */
  domain: string;
  /** OpenAI simulator scope: what left for the LLM. */
  scope: string;
}

async function llmWorkspace(settings: Record<string, unknown> = {}): Promise<LlmWorkspace> {
  const domain = `${uniq("llm")}.example.org`;
  // Covered by a BAA itself, so PHI-flagged mail may be delivered (routing's own rule); what is
  // tested here is the LLM endpoint's declaration.
  const ws = await workspaceWith({ ...mailgunProvider(domain), baa_covered: true });
  const scope = uniq("oa");
  const res = await api("/v1/workspace/llm", {
    method: "PUT",
    key: ws.key,
    json: {
      enabled: true,
      base_url: `${sims().openai.baseUrl}/${scope}/v1`,
      model: "sim-model",
      instructions: "Be warm and brief.",
      api_key: sims().openai.apiKey,
      timeout_ms: 5000,
      ...settings,
    },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return { ws, domain, scope };
}

async function addRecipients(ws: TestWorkspace, people: Record<string, unknown>[]): Promise<void> {
  const res = await api("/v1/recipients/import", { method: "POST", key: ws.key, json: people });
  expect(res.status, await res.clone().text()).toBe(200);
}

const llmRequests = (scope: string) => sim().received("openai", scope);

async function delivered(domain: string) {
  const got = await sim().received("mailgun", domain);
  // The MIME parser ends a text part with the line break the message carries.
  return got.map((g) => ({ ...g.parsed!, text: g.parsed!.text?.replace(/\r?\n$/, "") }));
}

async function settle(t: LlmWorkspace, id: string) {
  const done = await waitForStatus(t.ws, id, ["sent", "failed", "partially_failed"], 20_000);
  expect(done.status).toBe("sent");
  return done;
}

// The patient, as the recipient data knows them and as the content mentions them.
const PATIENT = { email: "ann.archer@example.net", first_name: "Annika", last_name: "Quillfeather" };
const IDENTIFIERS = ["ann.archer@example.net", "frontdesk@clinic.example", "Annika", "Quillfeather", "555", "123-4567", "12345678", "1962", "03/14/2025", "8812"];

const visit = (extra: Record<string, unknown> = {}) => ({
  to: [PATIENT.email],
  subject: "Your visit, {{FIRST_NAME|there}}",
  text:
    "Dear Annika Quillfeather, your appointment on 03/14/2025 is confirmed. MRN: 12345678, DOB 1962-03-14. " +
    "Questions? Call +1 (555) 123-4567 or write to frontdesk@clinic.example (we also sent this to ann.archer@example.net). " +
    "Book: https://portal.example/book?p=8812",
  html: '<p>Dear Annika Quillfeather,</p><p>Your appointment on 03/14/2025 is confirmed. <a href="https://portal.example/book?p=8812">Book</a></p>',
  personalize: true,
  ...extra,
});

function captureLogs(): string[] {
  const lines: string[] = [];
  const grab = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  for (const m of ["log", "warn", "error", "info", "debug"] as const) vi.spyOn(console, m).mockImplementation(grab);
  return lines;
}

describe("LLM personalization", { timeout: 60_000 }, () => {
  afterEach(() => vi.restoreAllMocks());

  it("sends no address, phone number, record number, date or name; restores them in the delivered message", async () => {
    const t = await llmWorkspace();
    await addRecipients(t.ws, [PATIENT]);
    const logs = captureLogs();
    const acc = await accept(t.ws, visit());
    const done = await settle(t, acc.id);
    vi.restoreAllMocks();

    expect(done.personalize).toBe(true);
    expect(done.personalization).toMatchObject({ mode: "llm", status: "applied", reason: null, model: "sim-model", cached: false });
    expect(done.personalization.tokens).toBeGreaterThan(0);
    expect(done.personalization.masked).toMatchObject({ name: 1, email: 2, phone: 1, record: 1, dob: 1, date: 1, link: 1, var: 1 });

    const [req, ...more] = await llmRequests(t.scope);
    expect(more).toHaveLength(0);
    expect(req!.authorization).toBe(`Bearer ${sims().openai.apiKey}`);
    const body = JSON.parse(req!.body);
    expect(body.model).toBe("sim-model");
    expect(body.max_tokens).toBeGreaterThan(0);
    expect(JSON.stringify(body.messages)).toContain("Be warm and brief.");
    for (const id of IDENTIFIERS) expect(req!.body, id).not.toContain(id);
    expect(req!.body).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+/);
    const user = JSON.parse(body.messages.at(-1).content);
    expect(user.text).toMatch(/^Dear \[\[NAME_\d+\]\], your appointment on \[\[DATE_\d+\]\] is confirmed\. MRN: \[\[ID_\d+\]\], DOB \[\[DOB_\d+\]\]/);

    // Delivered: the model's answer with every identifier back, and the variable filled in per recipient.
    const [copy] = await delivered(t.domain);
    expect(copy!.subject).toBe("Your visit, Annika - for you");
    expect(copy!.text).toBe(`${PERSONALIZED_MARK} ${visit().text}`);
    expect(copy!.html).toContain(`<p>${PERSONALIZED_MARK}</p><p>Dear Annika Quillfeather,</p>`);
    expect(copy!.html).toContain('href="https://portal.example/book?p=8812"');

    // Neither the content nor the key reached the logs; the outcome did, as codes.
    const all = logs.join("\n");
    // Only distinctive values: short digit runs like "555" turn up in random request ids.
    const distinctive = IDENTIFIERS.filter((s) => !/^\d{1,4}$/.test(s));
    for (const s of [...distinctive, "+1 (555) 123-4567", sims().openai.apiKey, "Be warm and brief", PERSONALIZED_MARK]) expect(all, s).not.toContain(s);
    expect(all).toContain('"event":"llm_personalization"');
  });

  it("a timeout falls back to the unpersonalized content at the deadline, and the retry does not call again", async () => {
    const t = await llmWorkspace({ timeout_ms: 1000 });
    await sim().addFault({ target: "openai", scope: t.scope, latencyMs: 8000 });
    // The first delivery attempt fails at the provider, so the message is retried.
    await sim().addFault({ target: "mailgun", scope: t.domain, status: 503, times: 1 });
    const acc = await accept(t.ws, visit());
    const done = await settle(t, acc.id);

    expect(done.personalization).toMatchObject({ mode: "llm", status: "fallback", reason: "timeout" });
    expect(done.personalization.detail).toMatch(/did not answer within timeout_ms/);
    expect(done.attempts.map((a: any) => a.outcome)).toEqual(["transient", "sent"]);
    // The first provider call came at the 1 s deadline, not after the simulator's 8 s.
    expect(Date.parse(done.attempts[0].started_at) - Date.parse(done.queued_at)).toBeLessThan(6000);
    expect(await llmRequests(t.scope)).toHaveLength(1);
    const copies = await delivered(t.domain);
    expect(copies.at(-1)!.text).toBe(visit().text);
    expect(copies.at(-1)!.subject).toBe("Your visit, there");
  });

  it.each([
    ["drop_placeholder", /placeholder missing/],
    ["add_link", /link changed/],
    ["not_json", /not a JSON object/],
    ["too_long", /too long/],
  ] as const)("bad output (%s) falls back to the unpersonalized content", async (mode, detail) => {
    const t = await llmWorkspace();
    await sim().addFault({ target: "openai", scope: t.scope, status: undefined, llm: mode });
    const acc = await accept(t.ws, visit());
    const done = await settle(t, acc.id);
    expect(done.personalization).toMatchObject({ mode: "llm", status: "fallback", reason: "invalid_output" });
    expect(done.personalization.detail).toMatch(detail);
    expect(await llmRequests(t.scope)).toHaveLength(1);
    const [copy] = await delivered(t.domain);
    expect(copy!.text).toBe(visit().text);
    expect(copy!.text).not.toContain("phish.example");
  });

  it("an endpoint error falls back and gives the reserved tokens back", async () => {
    const t = await llmWorkspace();
    await sim().addFault({ target: "openai", scope: t.scope, status: 500 });
    const done = await settle(t, (await accept(t.ws, visit())).id);
    expect(done.personalization).toMatchObject({ status: "fallback", reason: "llm_error", detail: expect.stringMatching(/HTTP 500/) });
    const settings = await json(await api("/v1/workspace/llm", { key: t.ws.key }));
    expect(settings.usage_today).toMatchObject({ tokens: 0, calls: 1 });
  });

  it("a cache hit makes no second call, even for another recipient with other identifiers", async () => {
    const t = await llmWorkspace();
    // No recipient data here: the names come from the display names the message is addressed with.
    const mail = (name: string, mrn: string, to: string) =>
      visit({ to: [{ email: to, name }], subject: "Your results", text: `Dear ${name}, your results for MRN: ${mrn} are ready: https://portal.example/r/${mrn}`, html: undefined });
    const first = await settle(t, (await accept(t.ws, mail("Annika Quillfeather", "11111111", "ann@example.net"))).id);
    const second = await settle(t, (await accept(t.ws, mail("Bartholomew Quince", "22222222", "bart@example.net"))).id);
    expect(first.personalization).toMatchObject({ status: "applied", cached: false });
    expect(second.personalization).toMatchObject({ status: "applied", cached: true, tokens: 0 });
    expect(await llmRequests(t.scope)).toHaveLength(1);
    const copies = await delivered(t.domain);
    expect(copies[1]!.text).toBe(`${PERSONALIZED_MARK} Dear Bartholomew Quince, your results for MRN: 22222222 are ready: https://portal.example/r/22222222`);
  });

  it("an exhausted daily token budget falls back without calling", async () => {
    const t = await llmWorkspace({ daily_token_budget: 3000 });
    await sim().addFault({ target: "openai", scope: t.scope, usageTotalTokens: 2950, times: 1 });
    const first = await settle(t, (await accept(t.ws, visit())).id);
    expect(first.personalization).toMatchObject({ status: "applied", tokens: 2950 });
    expect((await json(await api("/v1/workspace/llm", { key: t.ws.key }))).usage_today).toMatchObject({ tokens: 2950, calls: 1, budget: 3000 });

    const second = await settle(t, (await accept(t.ws, visit({ text: "Another message entirely, with new words." }))).id);
    expect(second.personalization).toMatchObject({ mode: "none", status: "fallback", reason: "budget_exhausted" });
    expect(await llmRequests(t.scope)).toHaveLength(1);
    const copies = await delivered(t.domain);
    expect(copies[1]!.text).toBe("Another message entirely, with new words.");
  });

  it("a PHI-flagged message never goes to an endpoint without a BAA declaration; with one it does", async () => {
    const t = await llmWorkspace();
    const done = await settle(t, (await accept(t.ws, visit({ contains_phi: true }))).id);
    expect(done.contains_phi).toBe(true);
    expect(done.personalization).toMatchObject({ mode: "none", status: "fallback", reason: "phi_without_baa" });
    expect(done.personalization.detail).toMatch(/PHI-flagged.*BAA/);
    expect(await llmRequests(t.scope)).toHaveLength(0);
    expect((await delivered(t.domain))[0]!.text).toBe(visit().text);

    // DLP flagging counts as PHI too.
    const dlp = await api("/v1/workspace/dlp", { method: "PUT", key: t.ws.key, json: { action: "allow", rules: [{ name: "mrn", pattern: "MRN:" }] } });
    expect(dlp.status).toBe(200);
    const flagged = await settle(t, (await accept(t.ws, visit())).id);
    expect(flagged.tags).toContain("dlp:flagged");
    expect(flagged.contains_phi).toBe(true);
    expect(flagged.personalization).toMatchObject({ reason: "phi_without_baa" });
    expect(await llmRequests(t.scope)).toHaveLength(0);

    const declared = await api("/v1/workspace/llm", {
      method: "PUT",
      key: t.ws.key,
      json: { enabled: true, baa_covered: true, base_url: `${sims().openai.baseUrl}/${t.scope}/v1`, model: "sim-model" },
    });
    expect(declared.status).toBe(200);
    const covered = await settle(t, (await accept(t.ws, visit({ contains_phi: true }))).id);
    expect(covered.personalization).toMatchObject({ status: "applied" });
    expect(await llmRequests(t.scope)).toHaveLength(1);
    const audit = await json(await api("/v1/audit-logs?action=workspace.llm.baa_declared", { key: t.ws.key }));
    expect(audit.data).toHaveLength(1);
  });

  it("is off by default, and only messages that ask are personalized", async () => {
    const domain = `${uniq("llm")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain));
    expect(await json(await api("/v1/workspace/llm", { key: ws.key }))).toMatchObject({ enabled: false, baa_covered: false, api_key_set: false });
    const off = await waitForStatus(ws, (await accept(ws, visit())).id, ["sent"], 20_000);
    expect(off.personalization).toMatchObject({ mode: "none", status: "fallback", reason: "workspace_disabled" });

    const t = await llmWorkspace();
    const plain = await settle(t, (await accept(t.ws, visit({ personalize: undefined }))).id);
    expect(plain.personalize).toBe(false);
    expect(plain.personalization).toBeNull();
    expect(await llmRequests(t.scope)).toHaveLength(0);
    expect((await delivered(t.domain))[0]!.text).toBe(visit().text);
  });
});

describe("LLM settings", () => {
  it("the API key is write-only and encrypted at rest; enabling needs one", async () => {
    const t = await llmWorkspace();
    const view = await api("/v1/workspace/llm", { key: t.ws.key });
    const text = await view.text();
    expect(text).not.toContain(sims().openai.apiKey);
    expect(JSON.parse(text)).toMatchObject({ enabled: true, api_key_set: true, model: "sim-model", phi_patterns: [] });
    const row = await env.DB.prepare("select llm_api_key_enc as enc from workspace_security where workspace_id = ?").bind(t.ws.id).first<{ enc: string }>();
    expect(row!.enc).toBeTruthy();
    expect(row!.enc).not.toContain(sims().openai.apiKey);
    expect(atob(row!.enc)).not.toContain(sims().openai.apiKey);

    const removed = await json(await api("/v1/workspace/llm/api-key", { method: "DELETE", key: t.ws.key }));
    expect(removed.api_key_set).toBe(false);
    const refused = await api("/v1/workspace/llm", { method: "PUT", key: t.ws.key, json: { enabled: true } });
    expect(refused.status).toBe(422);
    expect((await json(refused)).error).toMatchObject({ code: "unprocessable", message: expect.stringMatching(/api_key/) });

    const actions = (await json(await api("/v1/audit-logs?action=workspace.llm.set", { key: t.ws.key }))).data.map((r: any) => r.outcome);
    expect(actions).toContain("success");
  });

  it.each([
    [{ phi_patterns: [{ name: "bad", pattern: "(unclosed" }] }, /phi_patterns.*not a valid regular expression/],
    // (a+)+$ is harmless on the linear-time engine; what it cannot run is refused.
    [{ phi_patterns: [{ name: "backref", pattern: "(\\d)\\1" }] }, /backreferences/],
    [{ phi_patterns: [{ name: "empty", pattern: "x*" }] }, /empty string/],
    [{ base_url: "http://llm.example.com/v1" }, /base_url.*https/],
    [{ timeout_ms: 60_000 }, /timeout_ms/],
    [{ api_key: "has space" }, /api_key/],
    [{ surprise: true }, /surprise|unrecognized/i],
  ])("refuses bad settings with a 400 naming the field: %j", async (body, message) => {
    const t = await llmWorkspace();
    const res = await api("/v1/workspace/llm", { method: "PUT", key: t.ws.key, json: body });
    expect(res.status).toBe(400);
    const err = (await json(res)).error;
    expect(err.code).toBe("validation_error");
    expect(err.message).toMatch(message);
  });

  it("workspace patterns are masked before the content leaves", async () => {
    const t = await llmWorkspace({ phi_patterns: [{ name: "claim", pattern: "CLM#\\d+-[A-Z]" }] });
    await settle(t, (await accept(t.ws, visit({ text: "Your claim CLM#8812-Q is approved.", html: undefined }))).id);
    const [req] = await llmRequests(t.scope);
    expect(req!.body).not.toContain("CLM#8812-Q");
    const [copy] = await delivered(t.domain);
    expect(copy!.text).toBe(`${PERSONALIZED_MARK} Your claim CLM#8812-Q is approved.`);
  });
});

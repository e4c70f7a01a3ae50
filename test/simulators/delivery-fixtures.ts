// End-to-end delivery test support: providers created through the public API and pointed at
// the simulators, a fast retry policy, and accept-through-the-API. Each test makes its own
// scope (Mailgun domain, Gmail mailbox, SMTP envelope sender) so faults never cross tests and
// test files can run in parallel against one simulator process.
import { expect, inject } from "vitest";
import { api, createWorkspace, json, message, type TestWorkspace } from "../helpers";
import { simulatorClient } from "./workerd-client";

export const sims = () => inject("simulators");
export const sim = () => simulatorClient(inject("simulators").httpUrl);

export const uniq = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** Retries after 1 s each (factor 1), giving up after an hour: fast, and never by age in a test. */
export const FAST_RETRY = { base_seconds: 1, factor: 1, cap_seconds: 1, max_age_seconds: 3600 } as const;

export async function setRetryPolicy(ws: TestWorkspace, retry_policy: Record<string, number>): Promise<void> {
  const res = await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { retry_policy } });
  expect(res.status, await res.clone().text()).toBe(200);
}

export async function addProvider(ws: TestWorkspace, body: Record<string, unknown>): Promise<string> {
  const res = await api("/v1/providers", { method: "POST", key: ws.key, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json(res)).id as string;
}

export const mailgunProvider = (domain: string, extra: { priority?: number; timeout_ms?: number; name?: string } = {}) => ({
  name: extra.name ?? `mailgun ${domain}`,
  type: "mailgun",
  ...(extra.priority !== undefined ? { priority: extra.priority } : {}),
  config: { domain, base_url: sims().mailgun.baseUrl, ...(extra.timeout_ms !== undefined ? { timeout_ms: extra.timeout_ms } : {}) },
  credentials: { api_key: sims().mailgun.apiKey },
});

export const smtpProvider = (extra: { timeout_ms?: number; verp?: boolean } = {}) => ({
  name: "smtp sink",
  type: "smtp",
  config: {
    // The sink scopes faults and received mail by MAIL FROM, so tests keep the sender's own
    // address unless they test VERP itself.
    verp: extra.verp ?? false,
    // "localhost" is the name on the sink's test certificate, so STARTTLS verifies it.
    host: "localhost",
    port: sims().smtp.port,
    security: "starttls",
    username: sims().smtp.username,
    timeout_ms: extra.timeout_ms ?? 5000,
  },
  credentials: { password: sims().smtp.password },
});

export const gmailProvider = (sender: string, credentials: { client_email: string; private_key: string; private_key_id?: string }) => ({
  name: `gmail ${sender}`,
  type: "gmail",
  config: {
    sender,
    token_url: sims().gmail.tokenUrl,
    api_base_url: sims().gmail.apiBaseUrl,
    upload_base_url: sims().gmail.uploadBaseUrl,
    timeout_ms: 5000,
  },
  credentials,
});

/** A workspace whose only provider is `provider`, with the fast retry policy. */
export async function workspaceWith(provider: Record<string, unknown>, retry: Record<string, number> = FAST_RETRY): Promise<TestWorkspace> {
  const ws = await createWorkspace({ provider });
  await setRetryPolicy(ws, retry);
  return ws;
}

export interface Accepted {
  id: string;
  message_id: string;
  recipients: { email: string }[];
}

export async function accept(ws: TestWorkspace, extra: Record<string, unknown> = {}): Promise<Accepted> {
  const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, extra) });
  expect(res.status, await res.clone().text()).toBe(202);
  return json<Accepted>(res);
}

export const recipient = (detail: { recipients: { email: string; status: string; last_error: string | null }[] }, email: string) =>
  detail.recipients.find((r) => r.email === email);

// Mailgun provider: posts the already-rendered MIME to /v3/{domain}/messages.mime, so
// Message-ID, custom headers and attachments reach Mailgun byte for byte; tags and metadata
// travel as o:tag / v: form fields beside it.
//
// A plain fetch with FormData, not mailgun.js (which the project used at first): the send is
// one multipart POST, and in the end-to-end profile mailgun.js's form and request layers cost
// about a sixth of the delivery isolate's CPU. It also dropped the response headers on errors, so
// a 429's Retry-After was lost, and reported a request that never got a response as status 400;
// reading the Response ourselves fixes both. The file part is named "MimeMessage", as mailgun.js
// named it.
import { secureUrl } from "./transport";
import { z } from "zod";
import { classifyHttpStatus, describeError, excerpt, fetchWithTimeout, isAbortOrTimeout, parseRetryAfter, permanent, transient } from "./outcome";
import { degraded, healthy, probeTimeout, unhealthy } from "./probe";
import type { OutboundMessage, ProbeContext, ProbeResult, Provider, ProviderContext, SendResult } from "./types";

export const MAILGUN_BASE_URLS = { us: "https://api.mailgun.net", eu: "https://api.eu.mailgun.net" } as const;

/** Mailgun accepts at most 3 o:tag values per message; more is a 400 for the whole message. */
export const MAILGUN_MAX_TAGS = 3;

export const mailgunConfigSchema = z.object({
  /** The sending domain as configured in Mailgun (e.g. "mg.example.org"). */
  domain: z
    .string()
    .min(1)
    .max(253)
    .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, "must be a domain name like mg.example.org"),
  region: z.enum(["us", "eu"]).default("us"),
  /** Overrides the region's API URL (simulators, proxies). */
  base_url: secureUrl().optional(),
  timeout_ms: z.number().int().min(1000).max(120_000).default(30_000),
}).strict();
export type MailgunConfig = z.infer<typeof mailgunConfigSchema>;
export type MailgunConfigInput = z.input<typeof mailgunConfigSchema>;

export const mailgunCredentialsSchema = z.object({
  /** Private API key or a domain sending key. */
  api_key: z.string().min(10, "must be a Mailgun API key").max(200).regex(/^\S+$/, "must not contain whitespace"),
}).strict();
export type MailgunCredentials = z.infer<typeof mailgunCredentialsSchema>;

export function mailgunBaseUrl(config: MailgunConfig): string {
  return (config.base_url ?? MAILGUN_BASE_URLS[config.region]).replace(/\/+$/, "");
}

/** The form fields sent beside the MIME blob (exported for the wire-format tests). */
export function mailgunFields(message: OutboundMessage): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = { to: [...message.recipients] };
  const tags = message.tags.slice(0, MAILGUN_MAX_TAGS);
  if (tags.length > 0) fields["o:tag"] = tags;
  for (const [k, v] of Object.entries(message.metadata)) fields[`v:${k}`] = v;
  // Lets webhook events be matched to our records without trusting Message-ID rewrites.
  fields["v:relay-message-id"] = message.id;
  fields["v:relay-delivery-id"] = message.deliveryId;
  return fields;
}

/** The outcome of a messages.mime answer that is not a success (exported for the classification tests). */
export function classifyMailgunResponse(status: number, body: string, retryAfter: string | null, now: number): SendResult {
  // Mailgun answers errors as {"message": "..."}, sometimes as plain text that repeats the status text.
  let detail = body.trim();
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof m === "string") detail = m.trim();
  } catch {
    // plain text
  }
  const reason = `Mailgun ${status}${detail ? ": " + excerpt(detail) : ""}`;
  if (status === 401) return permanent(`${reason} (API key rejected)`, { configuration: true });
  if (status === 404) return permanent(`${reason} (domain not found in Mailgun)`, { configuration: true });
  return classifyHttpStatus(status, reason, parseRetryAfter(retryAfter, now));
}

/**
 * Health probe: GET /v3/domains/{domain} (plain fetch, so the answer's status is ours to read).
 * 401 means the key is rejected; 403 is only `degraded` because a domain sending key may send
 * but not read the domain; 404 means the domain is unknown; a disabled domain cannot send.
 */
export async function probeMailgun(config: MailgunConfig, creds: MailgunCredentials, ctx: ProbeContext): Promise<ProbeResult> {
  const url = `${mailgunBaseUrl(config)}/v3/domains/${encodeURIComponent(config.domain)}`;
  const started = ctx.now();
  let res: Response;
  let text: string;
  try {
    res = await fetchWithTimeout(ctx.fetch, url, { method: "GET", headers: { authorization: `Basic ${btoa(`api:${creds.api_key}`)}`, accept: "application/json" } }, probeTimeout(ctx, config.timeout_ms));
    text = await res.text();
  } catch (e) {
    const ms = ctx.now() - started;
    return unhealthy(ms, isAbortOrTimeout(e) ? `Mailgun domain check timed out after ${ms} ms` : `Mailgun unreachable (${describeError(e)})`);
  }
  const ms = ctx.now() - started;
  const said = text ? `: ${excerpt(text, 200)}` : "";
  if (res.ok) {
    let state: unknown;
    let disabled: unknown;
    try {
      const j = JSON.parse(text) as { domain?: { state?: unknown; is_disabled?: unknown } };
      state = j.domain?.state;
      disabled = j.domain?.is_disabled;
    } catch {
      return unhealthy(ms, `Mailgun domain check answered ${res.status} with invalid JSON`);
    }
    if (state === "disabled" || disabled === true) return unhealthy(ms, `Mailgun domain ${config.domain} is disabled`);
    if (state === "unverified") return degraded(ms, `Mailgun domain ${config.domain} is unverified (DNS records not verified)`);
    return healthy(ms);
  }
  if (res.status === 401) return unhealthy(ms, `Mailgun 401${said} (API key rejected)`);
  if (res.status === 403) return degraded(ms, `Mailgun 403${said} (the key may not read the domain; a domain sending key cannot)`);
  if (res.status === 404) return unhealthy(ms, `Mailgun 404${said} (domain ${config.domain} not found in Mailgun)`);
  if (res.status === 429) return degraded(ms, `Mailgun 429${said} (rate limited)`);
  return unhealthy(ms, `Mailgun domain check ${res.status}${said}`);
}

/** Events that say Mailgun took the message for a recipient. */
const TAKEN_EVENTS = new Set(["accepted", "delivered"]);

/**
 * Which recipients Mailgun's Events API says it took the message for:
 * GET /v3/{domain}/events?message-id=<id without brackets>&event=accepted. An `accepted` (or
 * `delivered`) event naming a recipient maps it to the event's message id
 * (message.headers.message-id, else the event id). Throws on any error or an unreadable answer:
 * the caller resends, so nothing is lost. Exported for the unit tests.
 */
export async function reconcileMailgun(config: MailgunConfig, creds: MailgunCredentials, messageIdHeader: string, recipients: string[], ctx: ProviderContext): Promise<Map<string, string>> {
  const messageId = messageIdHeader.trim().replace(/^<|>$/g, "");
  const url = `${mailgunBaseUrl(config)}/v3/${encodeURIComponent(config.domain)}/events?${new URLSearchParams({ "message-id": messageId, event: "accepted" })}`;
  const res = await fetchWithTimeout(ctx.fetch, url, { method: "GET", headers: { authorization: `Basic ${btoa(`api:${creds.api_key}`)}`, accept: "application/json" } }, config.timeout_ms, ctx.signal);
  const text = await res.text();
  if (!res.ok) throw new Error(`Mailgun events ${res.status}${text ? `: ${excerpt(text, 200)}` : ""}`);
  const items = (JSON.parse(text) as { items?: unknown }).items;
  if (!Array.isArray(items)) throw new Error("Mailgun events answer without items");
  const wanted = new Set(recipients.map((r) => r.toLowerCase()));
  const found = new Map<string, string>();
  for (const item of items as { event?: unknown; recipient?: unknown; id?: unknown; message?: { headers?: { "message-id"?: unknown } } }[]) {
    if (typeof item?.event !== "string" || !TAKEN_EVENTS.has(item.event) || typeof item.recipient !== "string") continue;
    const rcpt = item.recipient.toLowerCase();
    if (!wanted.has(rcpt) || found.has(rcpt)) continue;
    const header = item.message?.headers?.["message-id"];
    const id = typeof header === "string" && header.length > 0 ? header.replace(/^<|>$/g, "") : typeof item.id === "string" && item.id.length > 0 ? item.id : null;
    if (id) found.set(rcpt, id);
  }
  return found;
}

export function createMailgunProvider(configInput: MailgunConfigInput, credentials: MailgunCredentials): Provider {
  const config = mailgunConfigSchema.parse(configInput);
  const creds = mailgunCredentialsSchema.parse(credentials);
  const url = `${mailgunBaseUrl(config)}/v3/${encodeURIComponent(config.domain)}/messages.mime`;
  const authorization = `Basic ${btoa(`api:${creds.api_key}`)}`;

  return {
    type: "mailgun",
    async send(message: OutboundMessage, ctx: ProviderContext): Promise<SendResult> {
      if (message.recipients.length === 0) return permanent("no recipients");
      const form = new FormData();
      for (const [name, value] of Object.entries(mailgunFields(message))) {
        for (const v of typeof value === "string" ? [value] : value) form.append(name, v);
      }
      form.append("message", new Blob([message.raw as Uint8Array<ArrayBuffer>], { type: "message/rfc822" }), "MimeMessage");
      let res: Response;
      let text: string;
      try {
        // One deadline for the request and the reading of its answer: a body that trickles in
        // cannot keep the call alive past timeout_ms (the claim on its recipients is sized to it).
        res = await fetchWithTimeout(ctx.fetch, url, { method: "POST", headers: { authorization, accept: "application/json" }, body: form }, config.timeout_ms, ctx.signal);
        text = await res.text();
      } catch (e) {
        return transient(isAbortOrTimeout(e) ? `Mailgun did not answer within ${config.timeout_ms} ms` : `Mailgun unreachable (${describeError(e)})`);
      }
      if (!res.ok) return classifyMailgunResponse(res.status, text, res.headers.get("retry-after"), ctx.now());
      let id: unknown;
      try {
        id = (JSON.parse(text) as { id?: unknown }).id;
      } catch {
        // handled below: no id
      }
      if (typeof id !== "string" || id.length === 0) return transient(`Mailgun answered ${res.status} without a message id`);
      return { status: "sent", providerMessageId: id.replace(/^<|>$/g, "") };
    },
    probe: (ctx) => probeMailgun(config, creds, ctx),
    reconcile: (messageIdHeader, recipients, ctx) => reconcileMailgun(config, creds, messageIdHeader, recipients, ctx),
  };
}

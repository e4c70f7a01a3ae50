// Mailgun provider: mailgun.js (fetch transport) posting the already-rendered MIME to
// /v3/{domain}/messages.mime, so Message-ID, custom headers and attachments reach Mailgun
// byte for byte; tags and metadata travel as o:tag / v: form fields beside it.
//
// mailgun.js notes (14.0.1, checked in its browser build, which the Workers bundler picks):
// - `messages.create(domain, data)` switches to `messages.mime` when `data.message` is set;
//   a Blob is appended as a file part named "MimeMessage" (a string would become a plain
//   field and a Uint8Array that is not a Node Buffer is rejected), so we pass a Blob.
// - Its axios fetch adapter calls the global fetch, so `ProviderContext.fetch` cannot be
//   injected here; tests intercept with vi.spyOn(globalThis, "fetch").
// - Errors drop the response headers (no Retry-After), and a request that never got a
//   response is reported as status 400 with the axios error code as statusText; we
//   recognise those codes so a network failure is not mistaken for a bad message.
import { loadMailgun } from "../../lazy-libs";
import { secureUrl } from "./transport";
import { z } from "zod";
import { classifyHttpStatus, describeError, excerpt, fetchWithTimeout, isAbortOrTimeout, permanent, transient } from "./outcome";
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

// axios error codes for requests that got no HTTP response at all.
const NETWORK_CODES = new Set([
  "ERR_NETWORK",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ERR_CANCELED",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

interface MailgunApiErrorLike {
  status: number;
  message?: unknown;
  details?: unknown;
}

function isMailgunApiError(e: unknown): e is MailgunApiErrorLike {
  return typeof e === "object" && e !== null && (e as { type?: unknown }).type === "MailgunAPIError" && typeof (e as { status?: unknown }).status === "number";
}

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

export function classifyMailgunError(e: unknown): SendResult {
  if (isMailgunApiError(e)) {
    // `message` is the HTTP status text or the axios code; for an HTTP error response axios
    // always supplies one (ERR_BAD_REQUEST / ERR_BAD_RESPONSE), so an empty one means no response.
    const code = typeof e.message === "string" ? e.message.trim() : "";
    const details = typeof e.details === "string" ? e.details : "";
    if (e.status === 400 && (code === "" || NETWORK_CODES.has(code))) {
      return transient(`Mailgun unreachable (${[code, details].filter(Boolean).join(": ") || "no response"})`);
    }
    // A plain-text error body often repeats the status text; say it once.
    const detail = [code, details.trim() === code ? "" : details].filter((s) => s.length > 0).join(": ");
    const reason = `Mailgun ${e.status}${detail ? ": " + excerpt(detail) : ""}`;
    if (e.status === 401) return permanent(`${reason} (API key rejected)`, { configuration: true });
    if (e.status === 404) return permanent(`${reason} (domain not found in Mailgun)`, { configuration: true });
    return classifyHttpStatus(e.status, reason);
  }
  return transient(`Mailgun request failed: ${describeError(e)}`);
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

export function createMailgunProvider(configInput: MailgunConfigInput, credentials: MailgunCredentials): Provider {
  const config = mailgunConfigSchema.parse(configInput);
  const creds = mailgunCredentialsSchema.parse(credentials);
  // The client is built on the first send (mailgun.js loads lazily: core/lazy-libs.ts).
  const client = loadMailgun().then((Mailgun) =>
    new Mailgun(FormData).client({
      username: "api",
      key: creds.api_key,
      url: mailgunBaseUrl(config),
      useFetch: true,
      timeout: config.timeout_ms,
    }),
  );
  client.catch(() => {}); // a load failure surfaces in send(), as a transient error

  return {
    type: "mailgun",
    async send(message: OutboundMessage, _ctx: ProviderContext): Promise<SendResult> {
      if (message.recipients.length === 0) return permanent("no recipients");
      const data = {
        ...mailgunFields(message),
        message: new Blob([message.raw as Uint8Array<ArrayBuffer>], { type: "message/rfc822" }),
      };
      try {
        // mailgun.js types `to` for the MIME variant as string | string[]; the record is that.
        const mg = await client;
        const res = await mg.messages.create(config.domain, data as unknown as Parameters<typeof mg.messages.create>[1]);
        const id = typeof res.id === "string" && res.id.length > 0 ? res.id.replace(/^<|>$/g, "") : undefined;
        if (!id) return transient(`Mailgun answered ${res.status} without a message id`);
        return { status: "sent", providerMessageId: id };
      } catch (e) {
        return classifyMailgunError(e);
      }
    },
    probe: (ctx) => probeMailgun(config, creds, ctx),
  };
}

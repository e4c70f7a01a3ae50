// Gmail API provider (Google Workspace, service account with domain-wide delegation):
// users.messages.send with the rendered message base64url-encoded, or the media upload
// endpoint (message/rfc822) when the JSON body would be too large for the simple endpoint.
import { secureUrl } from "./transport";
import { z } from "zod";
import {
  GMAIL_SEND_SCOPE,
  getGmailAccessToken,
  invalidateGmailToken,
  type TokenRequest,
} from "./gmail-token";
import { classifyHttpStatus, describeError, excerpt, isAbortOrTimeout, parseRetryAfter, permanent, totalSignal, transient } from "./outcome";
import { degraded, fromOutcome, healthy, probeTimeout } from "./probe";
import type { OutboundMessage, ProbeContext, ProbeResult, Provider, ProviderContext, SendResult } from "./types";

export { GMAIL_SEND_SCOPE };

export const GMAIL_DEFAULTS = {
  token_url: "https://oauth2.googleapis.com/token",
  api_base_url: "https://gmail.googleapis.com",
  upload_base_url: "https://gmail.googleapis.com",
  /** Largest JSON body sent to the simple endpoint; above it the media upload endpoint is used. */
  max_simple_body_bytes: 5 * 1024 * 1024,
} as const;

const httpUrl = secureUrl;

export const gmailConfigSchema = z.object({
  /** The Workspace mailbox the service account impersonates and sends as (JWT `sub`). */
  sender: z.email(),
  token_url: httpUrl().default(GMAIL_DEFAULTS.token_url),
  api_base_url: httpUrl().default(GMAIL_DEFAULTS.api_base_url),
  upload_base_url: httpUrl().default(GMAIL_DEFAULTS.upload_base_url),
  max_simple_body_bytes: z.number().int().min(1024).max(GMAIL_DEFAULTS.max_simple_body_bytes).default(GMAIL_DEFAULTS.max_simple_body_bytes),
  timeout_ms: z.number().int().min(1000).max(300_000).default(60_000),
}).strict();
export type GmailConfig = z.infer<typeof gmailConfigSchema>;
export type GmailConfigInput = z.input<typeof gmailConfigSchema>;

/** The fields of Google's service-account JSON key file that we use; other fields are dropped. */
export const gmailCredentialsSchema = z.object({
  client_email: z.email(),
  private_key: z
    .string()
    .transform((s) => s.replace(/\\n/g, "\n").trim())
    .refine((s) => /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----$/.test(s), {
      message: "must be the PKCS#8 PEM private key from the service account's JSON key file (-----BEGIN PRIVATE KEY-----)",
    }),
  private_key_id: z.string().min(1).optional(),
});
export type GmailCredentials = z.input<typeof gmailCredentialsSchema>;

// Gmail signals usage limits with 403 + one of these reasons; they clear with time.
const RATE_LIMIT_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded", "quotaExceeded", "concurrentLimitExceeded"]);

interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  reasons: string[];
}

function parseGoogleError(text: string): GoogleError | undefined {
  try {
    const j = JSON.parse(text) as { error?: { code?: number; message?: string; status?: string; errors?: { reason?: string }[] } };
    if (!j.error || typeof j.error !== "object") return undefined;
    const reasons = (j.error.errors ?? []).map((e) => e.reason).filter((r): r is string => typeof r === "string");
    return { code: j.error.code, message: j.error.message, status: j.error.status, reasons };
  } catch {
    return undefined;
  }
}

/** Gmail's 429 text says "Retry after 2026-11-28T10:00:00.000Z" when no header is given. */
function retryAfterFromMessage(message: string | undefined, nowMs: number): number | undefined {
  const m = message?.match(/retry after (\d{4}-\d\d-\d\dT[\d:.]+Z)/i);
  if (!m?.[1]) return undefined;
  const at = Date.parse(m[1]);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export type GmailHttpOutcome = SendResult | { status: "reauth"; reason: string };

/** Classifies a non-2xx answer of users.messages.send. `reauth` means: refresh the token once. */
export function classifyGmailResponse(status: number, text: string, retryAfterHeader: string | null, nowMs: number): GmailHttpOutcome {
  const g = parseGoogleError(text);
  const detail = g?.message ? `: ${excerpt(g.message)}` : text ? `: ${excerpt(text)}` : "";
  const reasons = g?.reasons.length ? ` [${g.reasons.join(",")}]` : "";
  const reason = `Gmail API ${status}${detail}${reasons}`;
  const retryAfterMs = parseRetryAfter(retryAfterHeader, nowMs) ?? retryAfterFromMessage(g?.message, nowMs);
  if (status === 403 && g?.reasons.some((r) => RATE_LIMIT_REASONS.has(r))) return transient(reason, retryAfterMs);
  if (status === 401 || status === 403) return { status: "reauth", reason };
  if (status === 400 && g?.status === "FAILED_PRECONDITION") return permanent(reason, { configuration: true });
  return classifyHttpStatus(status, reason, retryAfterMs);
}

export function base64UrlEncode(bytes: Uint8Array): string {
  let bin = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) bin += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Bare address of a header mailbox ("Name <a@b>" or "a@b"), lower-cased. */
function bareAddress(mailbox: string): string {
  const m = mailbox.match(/<([^<>]+)>\s*$/);
  return (m?.[1] ?? mailbox).trim().toLowerCase();
}

/**
 * Gmail delivers to the To/Cc/Bcc headers of the raw message and takes no envelope. Envelope
 * recipients missing from To/Cc are added as a Bcc header (Gmail removes it before delivery).
 * A send to a strict subset of the To/Cc recipients cannot be expressed and is refused,
 * so a retry never re-delivers to recipients who already have the message.
 */
export function prepareGmailRaw(message: OutboundMessage): { ok: true; raw: Uint8Array } | { ok: false; reason: string } {
  const visible = new Set([...message.to, ...message.cc].map(bareAddress));
  const wanted = new Set(message.recipients.map((r) => r.trim().toLowerCase()));
  const extra = [...wanted].filter((r) => !visible.has(r));
  const skipped = [...visible].filter((r) => !wanted.has(r));
  if (skipped.length > 0) {
    return { ok: false, reason: `Gmail API cannot send to a subset of the To/Cc recipients (${skipped.length} listed but not in this send); route this send to another provider` };
  }
  if (extra.length === 0) return { ok: true, raw: message.raw };
  if (extra.some((a) => /[\r\n,<>]/.test(a))) return { ok: false, reason: "invalid envelope recipient" };
  const bcc = new TextEncoder().encode(`Bcc: ${extra.join(", ")}\r\n`);
  const raw = new Uint8Array(bcc.length + message.raw.length);
  raw.set(bcc, 0);
  raw.set(message.raw, bcc.length);
  return { ok: true, raw };
}

export function createGmailProvider(configInput: GmailConfigInput, credentials: GmailCredentials): Provider {
  const config = gmailConfigSchema.parse(configInput);
  const creds = gmailCredentialsSchema.parse(credentials);
  const tokenReq: TokenRequest = {
    account: { clientEmail: creds.client_email, privateKeyPem: creds.private_key, privateKeyId: creds.private_key_id },
    subject: config.sender,
    tokenUrl: config.token_url,
    timeoutMs: config.timeout_ms,
  };
  const apiBase = config.api_base_url.replace(/\/+$/, "");
  const uploadBase = config.upload_base_url.replace(/\/+$/, "");

  async function attempt(raw: Uint8Array, token: string, ctx: ProviderContext): Promise<GmailHttpOutcome> {
    // base64 grows the message by 4/3; the JSON wrapper adds 10 bytes.
    const jsonSize = Math.ceil(raw.length / 3) * 4 + 10;
    const useUpload = jsonSize > config.max_simple_body_bytes;
    const url = useUpload
      ? `${uploadBase}/upload/gmail/v1/users/me/messages/send?uploadType=media`
      : `${apiBase}/gmail/v1/users/me/messages/send`;
    const init: RequestInit = useUpload
      ? { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "message/rfc822" }, body: raw }
      : {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ raw: base64UrlEncode(raw) }),
        };
    let res: Response;
    try {
      res = await ctx.fetch(url, { ...init, signal: ctx.signal ?? AbortSignal.timeout(config.timeout_ms) });
    } catch (e) {
      return transient(isAbortOrTimeout(e) ? "Gmail API request timed out" : `Gmail API request failed (${describeError(e)})`);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      return transient(`Gmail API response was cut off (${describeError(e)})`);
    }
    if (res.ok) {
      try {
        const j = JSON.parse(text) as { id?: unknown };
        if (typeof j.id === "string" && j.id !== "") return { status: "sent", providerMessageId: j.id };
      } catch {
        // fall through
      }
      return transient(`Gmail API answered ${res.status} without a message id`);
    }
    return classifyGmailResponse(res.status, text, res.headers.get("retry-after"), ctx.now());
  }

  return {
    type: "gmail",
    async send(message: OutboundMessage, ctx: ProviderContext): Promise<SendResult> {
      if (message.recipients.length === 0) return permanent("no recipients");
      const prepared = prepareGmailRaw(message);
      if (!prepared.ok) return permanent(prepared.reason);
      // timeout_ms bounds the whole call, token exchanges and sends together (the claim on the
      // recipients is sized to it): every request below shares this one deadline.
      const call: ProviderContext = { ...ctx, signal: totalSignal(config.timeout_ms, ctx.signal) };
      for (let round = 0; round < 2; round++) {
        if (call.signal!.aborted) return transient(`Gmail API call did not finish within ${config.timeout_ms} ms`);
        const tok = await getGmailAccessToken(tokenReq, call);
        if (!tok.ok) return tok.result;
        const out = await attempt(prepared.raw, tok.token, call);
        if (out.status !== "reauth") return out;
        // The token was refused: maybe revoked or rotated early. Exchange a fresh one once.
        invalidateGmailToken(tokenReq, tok.token);
        if (round === 1) {
          return permanent(`${out.reason} (after refreshing the access token; check domain-wide delegation for ${GMAIL_SEND_SCOPE} and the sender mailbox)`, {
            configuration: true,
          });
        }
      }
      return transient("unreachable");
    },
    /**
     * Obtains an access token through the shared cache: a cached token proves a recent exchange
     * worked, a fresh exchange proves the key and the delegation. Nothing else is called: the
     * gmail.send scope allows no read-only endpoint (users.getProfile needs a wider scope).
     */
    async probe(ctx: ProbeContext): Promise<ProbeResult> {
      const started = ctx.now();
      const tok = await getGmailAccessToken({ ...tokenReq, timeoutMs: probeTimeout(ctx, config.timeout_ms) }, ctx);
      const ms = ctx.now() - started;
      if (tok.ok) return healthy(ms);
      if (tok.result.status === "transient" && / 429\b/.test(tok.result.reason)) return degraded(ms, tok.result.reason);
      return fromOutcome(tok.result, ms);
    },
  };
}

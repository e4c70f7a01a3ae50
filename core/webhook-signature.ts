// Webhook signatures, both directions.
// Out: Standard Webhooks (standardwebhooks.com): the secret is `whsec_<base64 key>`; the
// signature is base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)), sent as
// `webhook-signature: v1,<sig>` (space-separated list when several keys are valid).
// In: Mailgun's scheme: hex(HMAC-SHA256(signing key, timestamp + token)).
import { fromBase64, timingSafeEqualString, toBase64, utf8 } from "./encoding";

export const WEBHOOK_SECRET_PREFIX = "whsec_";

export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

function secretKeyBytes(secret: string): Uint8Array {
  const raw = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  const key = fromBase64(raw);
  if (!key || key.length === 0) throw new Error("webhook secret is not valid base64");
  return key;
}

async function hmac(key: Uint8Array, data: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, utf8.encode(data)));
}

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** Headers for one delivery; `timestamp` is in seconds. */
export async function signStandardWebhook(secret: string, id: string, timestamp: number, body: string): Promise<SignedHeaders> {
  const sig = toBase64(await hmac(secretKeyBytes(secret), `${id}.${timestamp}.${body}`));
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": `v1,${sig}` };
}

/** Verifies a Standard Webhooks delivery (what a customer does); tolerance in seconds. */
export async function verifyStandardWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): Promise<boolean> {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = toBase64(await hmac(secretKeyBytes(secret), `${headers.id}.${headers.timestamp}.${body}`));
  return headers.signature
    .split(" ")
    .map((s) => s.split(","))
    .some(([version, sig]) => version === "v1" && sig !== undefined && timingSafeEqualString(sig, expected));
}

export interface MailgunSignature {
  timestamp: string;
  token: string;
  signature: string;
}

export async function mailgunSignature(signingKey: string, timestamp: string, token: string): Promise<string> {
  const mac = await hmac(utf8.encode(signingKey), timestamp + token);
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

export type MailgunCheck = "ok" | "forged" | "stale";

/** Signature in constant time, then freshness (`maxAgeMs` either side of now). Replay is the caller's (it needs storage). */
export async function checkMailgunSignature(signingKey: string, s: MailgunSignature, nowMs: number, maxAgeMs = 5 * 60 * 1000): Promise<MailgunCheck> {
  const expected = await mailgunSignature(signingKey, s.timestamp, s.token);
  if (!timingSafeEqualString(s.signature.toLowerCase(), expected)) return "forged";
  const ts = Number(s.timestamp);
  if (!Number.isFinite(ts) || Math.abs(nowMs - ts * 1000) > maxAgeMs) return "stale";
  return "ok";
}

// OAuth 2.0 service-account flow with domain-wide delegation (RFC 7523 JWT bearer grant):
// sign a JWT as the service account for the sending mailbox, exchange it for an access token,
// keep the token in a module-level cache shared by every send in this isolate until shortly
// before it expires, and let concurrent sends wait on one in-flight exchange.
import { loadJose } from "../../lazy-libs";
import { classifyHttpStatus, describeError, excerpt, isAbortOrTimeout, parseRetryAfter, permanent, totalSignal, transient } from "./outcome";
import type { ProviderContext, SendResult } from "./types";

export const GMAIL_SEND_SCOPE = "https://www.googleapis.com/auth/gmail.send";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** A cached token is used until this long before its expiry. */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000;
const ASSERTION_LIFETIME_S = 3600;

export interface ServiceAccount {
  clientEmail: string;
  privateKeyPem: string;
  privateKeyId?: string;
}

export interface TokenRequest {
  account: ServiceAccount;
  /** The mailbox to act as (JWT `sub`). */
  subject: string;
  tokenUrl: string;
  timeoutMs: number;
}

export type TokenOutcome = { ok: true; token: string } | { ok: false; result: SendResult };

interface CachedToken {
  token: string;
  expiresAt: number;
}

const cache = new Map<string, CachedToken>();
const inflight = new Map<string, Promise<TokenOutcome>>();
const keys = new Map<string, Promise<CryptoKey>>();

function cacheKey(req: TokenRequest): string {
  // (client_email, sub) identifies the grant; the token URL only differs under test.
  return JSON.stringify([req.account.clientEmail, req.subject, req.tokenUrl]);
}

/** Test hook: forget every cached token (the cache is module state, shared across tests). */
export function clearGmailTokenCache(): void {
  cache.clear();
  inflight.clear();
  keys.clear();
}

/** Drop one cached token after the API rejected it, so the next call exchanges a new JWT. */
export function invalidateGmailToken(req: TokenRequest, token: string): void {
  const k = cacheKey(req);
  if (cache.get(k)?.token === token) cache.delete(k);
}

function importKey(account: ServiceAccount): Promise<CryptoKey> {
  let p = keys.get(account.privateKeyPem);
  if (!p) {
    p = loadJose().then((jose) => jose.importPKCS8(account.privateKeyPem, "RS256"));
    keys.set(account.privateKeyPem, p);
    p.catch(() => keys.delete(account.privateKeyPem));
  }
  return p;
}

export async function signAssertion(req: TokenRequest, nowMs: number): Promise<string> {
  const [key, { SignJWT }] = await Promise.all([importKey(req.account), loadJose()]);
  const iat = Math.floor(nowMs / 1000);
  const header: { alg: "RS256"; typ: "JWT"; kid?: string } = { alg: "RS256", typ: "JWT" };
  if (req.account.privateKeyId) header.kid = req.account.privateKeyId;
  return new SignJWT({ scope: GMAIL_SEND_SCOPE })
    .setProtectedHeader(header)
    .setIssuer(req.account.clientEmail)
    .setSubject(req.subject)
    .setAudience(req.tokenUrl)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_S)
    .sign(key);
}

export async function getGmailAccessToken(req: TokenRequest, ctx: ProviderContext): Promise<TokenOutcome> {
  const k = cacheKey(req);
  const hit = cache.get(k);
  if (hit && ctx.now() < hit.expiresAt - TOKEN_EXPIRY_MARGIN_MS) return { ok: true, token: hit.token };
  let p = inflight.get(k);
  if (!p) {
    p = exchange(req, ctx).finally(() => inflight.delete(k));
    inflight.set(k, p);
  }
  return p;
}

async function exchange(req: TokenRequest, ctx: ProviderContext): Promise<TokenOutcome> {
  let assertion: string;
  try {
    assertion = await signAssertion(req, ctx.now());
  } catch (e) {
    return { ok: false, result: permanent(`Gmail: the service account private key is unusable (${describeError(e)})`, { configuration: true }) };
  }
  let res: Response;
  try {
    res = await ctx.fetch(req.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      // The send's whole deadline (ctx.signal) bounds the exchange too: it is a step of that call.
      signal: totalSignal(req.timeoutMs, ctx.signal),
    });
  } catch (e) {
    const what = isAbortOrTimeout(e) ? "timed out" : `failed (${describeError(e)})`;
    return { ok: false, result: transient(`Gmail token request ${what}`) };
  }
  const text = await res.text().catch(() => "");
  if (!res.ok) {
    const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), ctx.now());
    const oauth = parseOAuthError(text);
    const reason = `Gmail token endpoint ${res.status}${oauth ? `: ${oauth}` : text ? `: ${excerpt(text)}` : ""}`;
    // 400 invalid_grant / unauthorized_client and 401 invalid_client are credential problems:
    // a bad key, a deleted service account, or delegation not granted for this mailbox.
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      return { ok: false, result: permanent(reason, { configuration: true }) };
    }
    return { ok: false, result: classifyHttpStatus(res.status, reason, retryAfterMs) };
  }
  let body: { access_token?: unknown; expires_in?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { ok: false, result: transient("Gmail token endpoint answered with invalid JSON") };
  }
  if (typeof body.access_token !== "string" || body.access_token === "") {
    return { ok: false, result: transient("Gmail token endpoint answered without an access_token") };
  }
  const expiresInS = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 3600;
  cache.set(cacheKey(req), { token: body.access_token, expiresAt: ctx.now() + expiresInS * 1000 });
  return { ok: true, token: body.access_token };
}

function parseOAuthError(text: string): string | undefined {
  try {
    const j = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof j.error !== "string") return undefined;
    return typeof j.error_description === "string" ? `${j.error} (${excerpt(j.error_description, 200)})` : j.error;
  } catch {
    return undefined;
  }
}

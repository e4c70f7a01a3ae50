// Bearer JWTs from a workspace's own identity provider (the doctor portal, apps with an IdP).
// Only asymmetric algorithms are accepted, and only the ones the workspace listed: `none` and
// HMAC are never in the list, so a token signed with a public key as an HMAC secret (the classic
// RS/HS confusion) is refused before any key is looked at. Keys come from the issuer's JWKS
// (fetched and cached per isolate) or from a public JWK set stored with the settings.
import type { JWTVerifyGetKey } from "jose";
import { loadJose } from "../workers/lazy-libs";

type Jose = Awaited<ReturnType<typeof loadJose>>;
import { z } from "@hono/zod-openapi";
import { RelayError } from "./errors";
import { SCOPES, type Scope } from "./scopes";
import { checkOutboundUrl } from "./url-policy";

export const JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;

const publicJwk = z
  .object({ kty: z.enum(["RSA", "EC", "OKP"]), kid: z.string().min(1).max(200).optional() })
  .passthrough()
  .refine((k) => !("d" in k) && !("p" in k) && !("q" in k), "must be a public key (no private members)");

// The relay's one outbound URL policy (core/url-policy.ts): https to a public host. No loopback
// allowance: tests serve JWKS through the fetch mock, not a local server.
const httpsUrl = z
  .string()
  .url()
  .max(2000)
  .superRefine((u, ctx) => {
    const check = checkOutboundUrl(u);
    if (!check.ok) ctx.addIssue({ code: "custom", message: check.reason });
  });

export const jwtConfigSchema = z
  .object({
    issuer: z.string().min(1).max(512).openapi({ description: "Exact `iss` value the tokens carry" }),
    audience: z.union([z.string().min(1).max(512), z.array(z.string().min(1).max(512)).min(1).max(10)]),
    jwks_url: httpsUrl.optional().openapi({ description: "The issuer's JWKS endpoint (fetched and cached)" }),
    jwks: z
      .object({ keys: z.array(publicJwk).min(1).max(20) })
      .optional()
      .openapi({ description: "Static public keys instead of a JWKS URL" }),
    algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).max(JWT_ALGORITHMS.length).default(["RS256"]),
    scopes_claim: z.string().min(1).max(100).default("scope").openapi({ description: "Claim holding scopes (space-separated string or array)" }),
    allowed_scopes: z.array(z.enum(SCOPES)).min(1).default(["send", "read"]).openapi({ description: "The most any token of this issuer may grant" }),
    auto_provision: z.boolean().default(true).openapi({ description: "Create the workspace user on a subject's first valid token" }),
    clock_tolerance_seconds: z.number().int().min(0).max(300).default(30),
  })
  .strict()
  .refine((c) => (c.jwks_url === undefined) !== (c.jwks === undefined), "give exactly one of jwks_url and jwks")
  .openapi("JwtIssuerConfig");

export type JwtConfig = z.infer<typeof jwtConfigSchema>;

export interface VerifiedJwt {
  subject: string;
  email: string | null;
  scopes: Scope[];
  expiresAt: number;
}

// One remote key set per JWKS URL per isolate: jose caches the keys (10 min), refetches on an
// unknown kid at most every 30 s, and times out after 5 s.
const remoteSets = new Map<string, JWTVerifyGetKey>();
const localSets = new Map<string, JWTVerifyGetKey>();

function keySource(jose: Jose, config: JwtConfig): JWTVerifyGetKey {
  if (config.jwks_url) {
    let set = remoteSets.get(config.jwks_url);
    if (!set) {
      // Re-checked at use, not only at save: a setting stored under an older policy is not trusted.
      const check = checkOutboundUrl(config.jwks_url);
      if (!check.ok) throw new RelayError("unauthorized", "the issuer's jwks_url is not allowed");
      set = jose.createRemoteJWKSet(new URL(config.jwks_url), {
        cacheMaxAge: 10 * 60_000,
        cooldownDuration: 30_000,
        timeoutDuration: 5_000,
        // Never follow a redirect to a host the URL policy did not see; jose refuses the 3xx.
        [jose.customFetch]: (url: string, init: RequestInit) => fetch(url, { ...init, redirect: "manual" }),
      });
      remoteSets.set(config.jwks_url, set);
    }
    return set;
  }
  const json = JSON.stringify(config.jwks);
  let set = localSets.get(json);
  if (!set) {
    set = jose.createLocalJWKSet(config.jwks as Parameters<Jose["createLocalJWKSet"]>[0]);
    localSets.set(json, set);
  }
  return set;
}

/** The unverified `iss` and `aud`, used only to find which workspace's settings to verify against. */
export async function peekClaims(token: string): Promise<{ iss: string; aud: string[] } | null> {
  const jose = await loadJose();
  try {
    const { iss, aud } = jose.decodeJwt(token);
    if (typeof iss !== "string") return null;
    return { iss, aud: typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === "string") : [] };
  } catch {
    return null;
  }
}

/** Whether a workspace's configured audience(s) and a token's audiences meet. */
export const audienceMatches = (configured: string | string[], token: string[]) => [configured].flat().some((a) => token.includes(a));

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** Why a token was refused, in words safe to return (never the token or its claims). */
function reason(errors: Jose["errors"], e: unknown): string {
  if (e instanceof errors.JWTExpired) return "the token has expired";
  if (e instanceof errors.JWTClaimValidationFailed) return `the token's ${e.claim} claim is not acceptable`;
  if (e instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not allowed";
  if (e instanceof errors.JWKSNoMatchingKey) return "no key of the issuer matches the token";
  if (e instanceof errors.JWKSMultipleMatchingKeys) return "the token names no key id and the issuer has several keys";
  if (e instanceof errors.JWSSignatureVerificationFailed) return "the token's signature is not valid";
  if (e instanceof errors.JWKSTimeout) return "the issuer's key set could not be fetched in time";
  if (e instanceof errors.JOSEError) return "the token is not valid";
  return "the token is not valid";
}

export function grantedScopes(claim: unknown, allowed: readonly Scope[]): Scope[] {
  const raw = typeof claim === "string" ? claim.split(/\s+/) : Array.isArray(claim) ? claim.filter((s): s is string => typeof s === "string") : [];
  return [...new Set(raw)].filter((s): s is Scope => (allowed as readonly string[]).includes(s));
}

export async function verifyJwt(token: string, config: JwtConfig, now: number): Promise<VerifiedJwt> {
  const jose = await loadJose();
  let payload;
  try {
    ({ payload } = await jose.jwtVerify(token, keySource(jose, config), {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: [...config.algorithms],
      clockTolerance: config.clock_tolerance_seconds,
      currentDate: new Date(now),
      requiredClaims: ["exp", "sub"],
    }));
  } catch (e) {
    throw new RelayError("unauthorized", reason(jose.errors, e));
  }
  const subject = payload.sub!;
  if (subject.length > 255) throw new RelayError("unauthorized", "the token's sub claim is too long");
  const email = typeof payload["email"] === "string" && payload["email"].length <= 320 ? payload["email"] : null;
  return { subject, email, scopes: grantedScopes(payload[config.scopes_claim], config.allowed_scopes), expiresAt: payload.exp! * 1000 };
}

// Bearer JWTs from a workspace's own identity provider (the doctor portal, apps with an IdP).
// Only asymmetric algorithms are accepted, and only the ones the workspace listed: `none` and
// HMAC are never in the list, so a token signed with a public key as an HMAC secret (the classic
// RS/HS confusion) is refused before any key is looked at. Keys come from the issuer's JWKS
// or from a public JWK set stored with the settings. This file is the settings and the rules;
// verifying (jose, the JWKS fetch and its cache) is workers/jwt-verify.ts.
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

/** Whether a workspace's configured audience(s) and a token's audiences meet. */
export const audienceMatches = (configured: string | string[], token: string[]) => [configured].flat().some((a) => token.includes(a));

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

export function grantedScopes(claim: unknown, allowed: readonly Scope[]): Scope[] {
  const raw = typeof claim === "string" ? claim.split(/\s+/) : Array.isArray(claim) ? claim.filter((s): s is string => typeof s === "string") : [];
  return [...new Set(raw)].filter((s): s is Scope => (allowed as readonly string[]).includes(s));
}

/** What a verified token grants, from its payload (the signature and standard claims already checked). */
export function verifiedFrom(payload: Record<string, unknown>, config: JwtConfig): VerifiedJwt {
  const subject = payload["sub"] as string;
  if (subject.length > 255) throw new RelayError("unauthorized", "the token's sub claim is too long");
  const email = typeof payload["email"] === "string" && payload["email"].length <= 320 ? payload["email"] : null;
  return { subject, email, scopes: grantedScopes(payload[config.scopes_claim], config.allowed_scopes), expiresAt: (payload["exp"] as number) * 1000 };
}

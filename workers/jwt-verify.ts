// Verifying a workspace issuer's bearer JWT with jose (loaded on first use): the key source per
// issuer, cached per isolate, and the refusal reasons. What is accepted is core/jwt.ts's.
import type { JWTVerifyGetKey } from "jose";
import { RelayError } from "../core/errors";
import { verifiedFrom, type JwtConfig, type VerifiedJwt } from "../core/jwt";
import { checkOutboundUrl } from "../core/url-policy";
import { loadJose } from "./lazy-libs";

type Jose = Awaited<ReturnType<typeof loadJose>>;

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
  return verifiedFrom(payload, config);
}

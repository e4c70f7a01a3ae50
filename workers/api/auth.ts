// Bearer authentication: workspace API keys (`rk_...`, looked up by SHA-256), JWTs from a
// workspace's configured identity provider (core/jwt.ts), and the platform admin token (from a
// secret, compared in constant time). Routes do not mount these directly: each states what it
// needs with `route({ auth })` (workers/api/route.ts), which mounts the middleware and writes
// the same requirement into the OpenAPI document.
import type { Defer } from "../defer";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { sha256Hex, timingSafeEqualString } from "../../core/encoding";
import { RelayError } from "../../core/errors";
import { newId } from "../../core/ids";
import { audienceMatches, jwtConfigSchema, looksLikeJwt } from "../../core/jwt";
import { peekClaims, verifyJwt } from "../jwt-verify";
import type { Principal, Scope, WorkspacePrincipal } from "../../core/scopes";
import { IsolateCache } from "../isolate-cache";
import type { FoundApiKey, TenantStore } from "../../db/store/tenants";
import { log } from "../log";
import type { AppEnv, WorkspaceEnv } from "./context";

import { API_KEY_PREFIX } from "../../core/api-key";

function bearer(header: string | undefined): string {
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!m) throw new RelayError("unauthorized", "send the API key as 'Authorization: Bearer <key>'");
  return m[1]!;
}

/**
 * Known keys by hash, for 15 s per isolate (a revocation through this isolate applies at once,
 * elsewhere within 15 s). Unknown keys are not cached, so a new key works everywhere at once.
 */
const keyCache = new IsolateCache<FoundApiKey>(15_000, 2_000);
const keyLoads = new Map<string, Promise<FoundApiKey | undefined>>();


export async function authenticate(tenants: TenantStore, env: Env, header: string | undefined, now: number, defer?: Defer): Promise<Principal> {
  const token = bearer(header);
  if (token.startsWith(API_KEY_PREFIX)) {
    const hash = await sha256Hex(token);
    let found: FoundApiKey | undefined = keyCache.get(hash, now);
    if (!found) {
      // Concurrent requests with a key not (or no longer) cached share one lookup: at each
      // expiry a busy isolate would otherwise send a burst of identical reads and touches.
      let pending = keyLoads.get(hash);
      const first = pending === undefined;
      if (!pending) {
        pending = tenants.crossTenantApiKeyByHash(hash).finally(() => keyLoads.delete(hash));
        keyLoads.set(hash, pending);
      }
      found = await pending;
      if (found && first) {
        keyCache.set(hash, found, now);
        // last_used_at, at most once per cache period per isolate: never a write per request.
        const touch = tenants.touchApiKey(found.key.workspaceId, found.key.id, now).catch(() => {});
        if (defer) defer(touch);
        else await touch;
      }
    }
    if (!found || found.key.revokedAt !== null || (found.key.expiresAt !== null && found.key.expiresAt <= now)) {
      throw new RelayError("unauthorized", "the API key is not valid");
    }
    if (found.workspaceStatus !== "active") throw new RelayError("forbidden", "the workspace is suspended");
    const k = found.key;
    return { kind: "api_key", workspaceId: k.workspaceId, keyId: k.id, userId: k.userId, scopes: k.scopes as Scope[] };
  }
  if (env.ADMIN_TOKEN && env.ADMIN_TOKEN.length >= 16 && timingSafeEqualString(token, env.ADMIN_TOKEN)) {
    return { kind: "admin" };
  }
  if (looksLikeJwt(token)) return authenticateJwt(tenants, token, now);
  throw new RelayError("unauthorized", "the API key is not valid");
}

/**
 * A JWT is matched to the workspace(s) trusting its (unverified) issuer, then verified against
 * each one's settings; the first that verifies it (issuer, audience, algorithm, key, times) wins.
 */
async function authenticateJwt(tenants: TenantStore, token: string, now: number): Promise<WorkspacePrincipal> {
  const claims = await peekClaims(token);
  const candidates = claims ? await tenants.crossTenantJwtIssuerWorkspaces(claims.iss) : [];
  if (candidates.length === 0) throw new RelayError("unauthorized", "the token's issuer is not configured for any workspace");
  // (issuer, audience) is unique per workspace (PUT /v1/workspace/jwt), so at most one remains.
  let refusal: unknown = new RelayError("unauthorized", "the token's aud claim is not acceptable");
  for (const ws of candidates) {
    const config = jwtConfigSchema.safeParse(ws.jwt);
    if (!config.success || !audienceMatches(config.data.audience, claims!.aud)) continue;
    try {
      const verified = await verifyJwt(token, config.data, now);
      if (ws.workspaceStatus !== "active") throw new RelayError("forbidden", "the workspace is suspended");
      const user = await tenants.findOrCreateJwtUser(ws.workspaceId, verified.subject, verified.email, config.data.auto_provision, () => newId("usr"));
      if (!user) throw new RelayError("unauthorized", "the token's subject is not a user of this workspace");
      return { kind: "jwt", workspaceId: ws.workspaceId, keyId: null, userId: user.id, scopes: verified.scopes };
    } catch (e) {
      refusal = e;
    }
  }
  const err = refusal instanceof RelayError ? refusal : new RelayError("unauthorized", "the token is not valid");
  // Failed logins against a configured issuer are logged (not audited: anyone can mint such a
  // token, and an audit row per attempt would let them fill the table).
  log.warn("jwt_refused", { workspace_ids: candidates.map((c) => c.workspaceId).join(","), reason: err.message });
  throw err;
}

/** waitUntil of the request, when the runtime gave one (hono throws on access otherwise). */
export function deferOf(c: Pick<Context, "executionCtx">): Defer | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}

const credentialName = (p: WorkspacePrincipal) => (p.kind === "jwt" ? "token" : "API key");

/**
 * The one place a request's principal is recorded, before any refusal so the audit trail and
 * the access log can attribute it; a workspace credential also sets `workspaceId`, once.
 */
function setPrincipal(c: Context<AppEnv>, p: Principal): void {
  c.set("principal", p);
  if (p.kind !== "admin") c.set("workspaceId", p.workspaceId);
}

/**
 * Workspace routes' middleware runs on AppEnv (it records an admin principal before refusing
 * it) and promises its handler WorkspaceEnv: next() runs only once a workspace principal and
 * its workspaceId are set.
 */
const forWorkspace = (mw: MiddlewareHandler<AppEnv>) => mw as MiddlewareHandler as MiddlewareHandler<WorkspaceEnv>;

const authenticateRequest = (c: Context<AppEnv>) => authenticate(c.var.store.tenants, c.env, c.req.header("authorization"), Date.now(), deferOf(c));

/** Requires a workspace credential holding `scope` (an `admin` credential holds every scope). */
export const requireScope = (scope: Scope) =>
  forWorkspace(async (c, next) => {
    const p = await authenticateRequest(c);
    setPrincipal(c, p);
    if (p.kind === "admin") throw new RelayError("forbidden", "this route needs a workspace API key");
    if (!p.scopes.includes(scope) && !p.scopes.includes("admin")) {
      throw new RelayError("forbidden", `this ${credentialName(p)} lacks the '${scope}' scope`);
    }
    await next();
  });

/** Any valid workspace credential, whatever its scopes (e.g. /v1/me). */
export const requireWorkspaceCredential = forWorkspace(async (c, next) => {
  const p = keyPrincipal(await authenticateRequest(c));
  setPrincipal(c, p);
  await next();
});

/** Requires the platform admin token (workspace creation and bootstrap). */
export const requirePlatformAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const p = await authenticateRequest(c);
  setPrincipal(c, p);
  if (p.kind !== "admin") throw new RelayError("forbidden", "this route needs the platform admin token");
  await next();
});

function keyPrincipal(p: Principal): WorkspacePrincipal {
  if (p.kind === "admin") throw new RelayError("forbidden", "this route needs a workspace API key");
  return p;
}

// Bearer authentication: workspace API keys (`rk_...`, looked up by SHA-256) and the platform
// admin token (from a secret, compared in constant time). Each route states the scope it needs.
import { createMiddleware } from "hono/factory";
import { sha256Hex, timingSafeEqualString } from "../../core/encoding";
import { RelayError } from "../../core/errors";
import type { Principal, Scope, WorkspacePrincipal } from "../../core/scopes";
import { findApiKeyByHash } from "../../db/api-keys";
import type { Db } from "../../db/client";
import type { AppEnv } from "./context";

import { API_KEY_PREFIX } from "../../core/api-key";

function bearer(header: string | undefined): string {
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!m) throw new RelayError("unauthorized", "send the API key as 'Authorization: Bearer <key>'");
  return m[1]!;
}

export async function authenticate(db: Db, env: Env, header: string | undefined, now: number): Promise<Principal> {
  const token = bearer(header);
  if (token.startsWith(API_KEY_PREFIX)) {
    const found = await findApiKeyByHash(db, await sha256Hex(token));
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
  throw new RelayError("unauthorized", "the API key is not valid");
}

/** Requires a workspace API key holding `scope` (an `admin` key holds every scope). */
export const requireScope = (scope: Scope) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const p = await authenticate(c.var.db, c.env, c.req.header("authorization"), Date.now());
    if (p.kind === "admin") throw new RelayError("forbidden", "this route needs a workspace API key");
    if (!p.scopes.includes(scope) && !p.scopes.includes("admin")) {
      throw new RelayError("forbidden", `this API key lacks the '${scope}' scope`);
    }
    c.set("principal", p);
    await next();
  });

/** Requires the platform admin token (workspace creation and bootstrap). */
export const requirePlatformAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const p = await authenticate(c.var.db, c.env, c.req.header("authorization"), Date.now());
  if (p.kind !== "admin") throw new RelayError("forbidden", "this route needs the platform admin token");
  c.set("principal", p);
  await next();
});

export function keyPrincipal(p: Principal): WorkspacePrincipal {
  if (p.kind === "admin") throw new RelayError("forbidden", "this route needs a workspace API key");
  return p;
}

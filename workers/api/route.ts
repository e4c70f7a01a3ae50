// A route states what it needs once, in `auth`, and that one value becomes both the middleware
// that enforces it and the `security` its OpenAPI operation shows (`bearer: [scope]`; OpenAPI
// 3.1 allows role names for http schemes). The document cannot claim what the route does not
// check, and no registry is patched after the fact. Routes without `auth` (provider webhooks,
// signed bodies) use createRoute directly.
import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Scope } from "../../core/scopes";
import { requirePlatformAdmin, requireScope, requireWorkspaceCredential } from "./auth";
import type { AppEnv, WorkspaceEnv } from "./context";

/** A workspace scope, any workspace credential (e.g. /v1/me), or the platform admin token. */
export type RouteRequirement = Scope | "any_credential" | "platform_admin";

/** Workspace routes get `c.var.workspaceId`; platform admin routes have no workspace. */
type EnvOf<A extends RouteRequirement> = A extends "platform_admin" ? AppEnv : WorkspaceEnv;

type SecuredConfig<P extends string> = Omit<RouteConfig, "path" | "middleware" | "security"> & { path: P; auth: RouteRequirement };

function guard(auth: RouteRequirement): MiddlewareHandler {
  if (auth === "platform_admin") return requirePlatformAdmin;
  if (auth === "any_credential") return requireWorkspaceCredential;
  return requireScope(auth);
}

export function route<P extends string, R extends SecuredConfig<P>>(config: R) {
  const { auth, ...rest } = config;
  return createRoute({
    ...rest,
    middleware: [guard(auth) as MiddlewareHandler<EnvOf<R["auth"]>>] as const,
    security: [{ bearer: auth === "any_credential" ? [] : [auth] }],
  });
}

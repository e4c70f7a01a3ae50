// A route states what it needs once, in `auth`, and that one value becomes both the middleware
// that enforces it and the `security` its OpenAPI operation shows (`bearer: [scope]`; OpenAPI
// 3.1 allows role names for http schemes). The document cannot claim what the route does not
// check, and no registry is patched after the fact. Routes without `auth` (provider webhooks,
// signed bodies) use `signedRoute`, which names the signature scheme that authenticates them.
// Every operation also has an `operationId` named as a client calls it (`messages.send`): the
// part before the dot is its resource, which becomes its one tag (described in API_TAGS).
import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Scope } from "../../core/scopes";
import { requirePlatformAdmin, requireScope, requireWorkspaceCredential } from "./auth";
import type { AppEnv, WorkspaceEnv } from "./context";

/** A workspace scope, any workspace credential (e.g. /v1/me), or the platform admin token. */
export type RouteRequirement = Scope | "any_credential" | "platform_admin";

/** Workspace routes get `c.var.workspaceId`; platform admin routes have no workspace. */
type EnvOf<A extends RouteRequirement> = A extends "platform_admin" ? AppEnv : WorkspaceEnv;

/** One tag per resource: the first part of every operationId, with what a reader finds there. */
export const API_TAGS = {
  me: "The calling credential: its workspace and scopes.",
  messages: "Sending mail (JSON, batch or raw MIME), its status per recipient, the rendered copy and cancellation.",
  domains: "Sender domains and their TXT verification.",
  providers: "Delivery providers: routing order, circuit breakers, health checks, test sends and inbound webhook signing keys.",
  apiKeys: "The workspace's API keys and their scopes.",
  workspace: "The workspace's own settings: general settings, JWT issuer, retention, DLP, LLM personalization and trending questions.",
  workspaces: "Workspaces, for the platform admin: creation and bootstrap keys and domains.",
  webhooks: "Webhook endpoints that receive the relay's events, their queued events and replays.",
  inboundWebhooks: "Webhooks the relay receives from providers (delivery events), authenticated by the provider's signature.",
  auditLogs: "The workspace's read-only audit trail.",
  privacy: "Erasure of a recipient's personal data.",
  recipients: "Recipient records: addresses, names, fields and metadata; single, bulk import and listing.",
  suppressions: "Suppressed recipients (bounced, complained, unsubscribed) and manual suppression.",
  campaigns: "Campaigns and their totals per day.",
  lists: "Recipient lists and their members.",
} as const;
export type ApiTag = keyof typeof API_TAGS;
/** `resource.verb`, e.g. `messages.send`; the resource is the operation's tag. */
export type OperationId = `${ApiTag}.${string}`;

/** The document's `tags`, in the order above. */
export const apiTags = () => Object.entries(API_TAGS).map(([name, description]) => ({ name, description }));

const tagOf = (operationId: OperationId) => operationId.slice(0, operationId.indexOf(".")) as ApiTag;

type SecuredConfig<P extends string> = Omit<RouteConfig, "path" | "middleware" | "security" | "operationId" | "tags"> & {
  path: P;
  auth: RouteRequirement;
  operationId: OperationId;
};

function guard(auth: RouteRequirement): MiddlewareHandler {
  if (auth === "platform_admin") return requirePlatformAdmin;
  if (auth === "any_credential") return requireWorkspaceCredential;
  return requireScope(auth);
}

export function route<P extends string, R extends SecuredConfig<P>>(config: R) {
  const { auth, ...rest } = config;
  return createRoute({
    ...rest,
    tags: [tagOf(config.operationId)],
    middleware: [guard(auth) as MiddlewareHandler<EnvOf<R["auth"]>>] as const,
    security: [{ bearer: auth === "any_credential" ? [] : [auth] }],
  });
}

/** Signature schemes of the webhooks providers send us (registered in app.ts). */
export const SIGNATURE_SCHEMES = {
  mailgunSignature: {
    type: "apiKey",
    in: "header",
    name: "X-Mailgun-Signature",
    description:
      "Mailgun's webhook signature. Not a header in fact: Mailgun puts it in the JSON body, as `signature` " +
      "{timestamp, token, signature}, where `signature` is the hex HMAC-SHA256 of timestamp + token under the " +
      "provider's webhook signing key (set with PUT /v1/providers/{id}/webhook-signing-key). The relay checks it " +
      "in constant time, refuses a timestamp more than 5 minutes off (406) and a token seen before (409). " +
      "OpenAPI has no scheme type for a signed body, so this apiKey scheme stands for it; no header is read.",
  },
} as const;

type SignedConfig<P extends string> = Omit<RouteConfig, "path" | "security" | "operationId" | "tags"> & {
  path: P;
  operationId: OperationId;
  signedBy: keyof typeof SIGNATURE_SCHEMES;
};

/** A route a provider calls, authenticated by a signature its handler checks (no bearer credential). */
export function signedRoute<P extends string, R extends SignedConfig<P>>(config: R) {
  const { signedBy, ...rest } = config;
  return createRoute({ ...rest, tags: [tagOf(config.operationId)], security: [{ [signedBy]: [] }] });
}

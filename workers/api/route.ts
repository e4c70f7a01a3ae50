// A route states what it needs once, in `auth`, and that one value becomes both the middleware
// that enforces it and the `security` its OpenAPI operation shows (`bearer: [scope]`; OpenAPI
// 3.1 allows role names for http schemes). The document cannot claim what the route does not
// check, and no registry is patched after the fact. Routes without `auth` (provider webhooks,
// signed bodies) use `signedRoute`, which names the signature scheme that authenticates them.
// Every operation also has an `operationId` named as a client calls it (`messages.send`): the
// part before the dot is its resource, which becomes its one tag (described in API_TAGS).
// A request body states an `example` per media type (the type requires it), every error answer
// gets one (ERROR_EXAMPLES, unless the route gives its own), and every operation references the
// shared Relay-Bookmark request and answer headers (workers/api/components.ts).
import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { ErrorCode } from "../../core/errors";
import { BOOKMARK_HEADER } from "./middleware/database";
import { BOOKMARK_HEADER_REF, BOOKMARK_PARAMETER_REF } from "./components";
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

type Request = NonNullable<RouteConfig["request"]>;
type Body = NonNullable<Request["body"]>;
/** A request whose body, if any, has an `example` for each media type it accepts. */
type ExampledRequest = Omit<Request, "body"> & { body?: Body & { content: Record<string, { example: unknown }> } };

/**
 * The example of an error answer, per status, when the route does not give its own (a route whose
 * answer has a more particular code, e.g. idempotency_conflict, gives its example itself). A
 * documented error status missing here fails at startup, so no error answer goes without one.
 */
export const ERROR_EXAMPLES: Record<number, { code: ErrorCode; message: string }> = {
  400: { code: "validation_error", message: "to.0: Invalid email address" },
  401: { code: "unauthorized", message: "the API key is not valid" },
  403: { code: "forbidden", message: "this API key lacks the 'admin' scope" },
  404: { code: "not_found", message: "not found" },
  406: { code: "validation_error", message: "webhook timestamp is outside the 5-minute window" },
  409: { code: "conflict", message: "conflicts with what is stored (the answer's description says what)" },
  413: { code: "message_too_large", message: "message exceeds the limit of 26214400 bytes" },
  415: { code: "unsupported_media_type", message: "Content-Type must be application/json" },
  422: { code: "unprocessable", message: "cannot be carried out (the answer's description says why)" },
  429: { code: "rate_limited", message: "too many requests; retry after the Retry-After seconds" },
  500: { code: "internal_error", message: "internal error" },
  503: { code: "unavailable", message: "temporarily unavailable" },
};

type Responses = RouteConfig["responses"];

/** Adds the bookmark answer header to every answer and an example to each error answer without one. */
function documentResponses(responses: Responses): Responses {
  const out: Responses = {};
  for (const [status, response] of Object.entries(responses)) {
    if ("$ref" in response) {
      out[status] = response;
      continue;
    }
    // Answer headers as a zod object would need merging as zod; no route has them, so say so.
    if (response.headers && "_zod" in response.headers) throw new Error(`route(): give the ${status} answer's headers as header objects, not a zod object`);
    const headers = response.headers ?? {};
    let content = response.content;
    const json = content?.["application/json"];
    const fallback = ERROR_EXAMPLES[Number(status)];
    if (Number(status) >= 400 && json && !("$ref" in json) && json.example === undefined && json.examples === undefined) {
      if (!fallback) throw new Error(`route(): no example for an error answer with status ${status}`);
      content = { ...content, "application/json": { ...json, example: { error: fallback } } };
    }
    out[status] = { ...response, headers: { ...headers, [BOOKMARK_HEADER]: BOOKMARK_HEADER_REF }, ...(content ? { content } : {}) };
  }
  return out;
}

/**
 * The document side of a created route, in place (its types stay the route's own): the bookmark
 * request header is added to its parameters, and its answers get the bookmark header and examples.
 */
function documented<T extends RouteConfig>(created: T): T {
  const config = created as RouteConfig;
  config.parameters = [...(config.parameters ?? []), BOOKMARK_PARAMETER_REF] as unknown as RouteConfig["parameters"];
  config.responses = documentResponses(config.responses);
  return created;
}

type SecuredConfig<P extends string> = Omit<RouteConfig, "path" | "middleware" | "security" | "operationId" | "tags" | "request"> & {
  path: P;
  auth: RouteRequirement;
  operationId: OperationId;
  request?: ExampledRequest;
};

function guard(auth: RouteRequirement): MiddlewareHandler {
  if (auth === "platform_admin") return requirePlatformAdmin;
  if (auth === "any_credential") return requireWorkspaceCredential;
  return requireScope(auth);
}

export function route<P extends string, R extends SecuredConfig<P>>(config: R) {
  const { auth, ...rest } = config;
  return documented(
    createRoute({
      ...rest,
      tags: [tagOf(config.operationId)],
      middleware: [guard(auth) as MiddlewareHandler<EnvOf<R["auth"]>>] as const,
      security: [{ bearer: auth === "any_credential" ? [] : [auth] }],
    }),
  );
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

type SignedConfig<P extends string> = Omit<RouteConfig, "path" | "security" | "operationId" | "tags" | "request"> & {
  path: P;
  request?: ExampledRequest;
  operationId: OperationId;
  signedBy: keyof typeof SIGNATURE_SCHEMES;
};

/** A route a provider calls, authenticated by a signature its handler checks (no bearer credential). */
export function signedRoute<P extends string, R extends SignedConfig<P>>(config: R) {
  const { signedBy, ...rest } = config;
  return documented(createRoute({ ...rest, tags: [tagOf(config.operationId)], security: [{ [signedBy]: [] }] }));
}

// The HTTP API: one Hono app, one sub-app per resource under /v1, one error handler.
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { matchedRoutes } from "hono/route";
import { readConfig } from "../../core/config";
import { RelayError } from "../../core/errors";
import { getDb } from "../../db/client";
import { safeErrorMessage } from "../../db/errors";
import { log } from "../log";
import { invalidateIsolateCaches } from "../isolate-cache";
import { UploadAborted, uploadGuard } from "./upload-guard";
import { metricsHandler, optionalSecret, readyHandler } from "./metrics";
import { reportError } from "../observability/sentry";
import { apiKeysApp } from "./api-keys";
import { campaignsApp } from "./campaigns";
import { recipientListsApp } from "./recipient-lists";
import { auditLogsApp, auditTrail } from "./audit-logs";
import type { AppEnv } from "./context";
import { domainsApp } from "./domains";
import { meApp } from "./me";
import { messagesApp } from "./messages";
import { providersApp } from "./providers";
import { providerTestApp } from "./provider-test";
import { privacyApp } from "./privacy";
import { recipientsApp } from "./recipients";
import { trendingQuestionsApp } from "./trending-questions";
import { llmSettingsApp } from "./llm-settings";
import { securitySettingsApp } from "./security-settings";
import { validationHook } from "./validation";
import { workspaceSettingsApp } from "./workspace-settings";
import { workspacesApp } from "./workspaces";
import { webhooksApp } from "./webhooks";
import { inboundWebhooksApp, providerWebhookKeysApp } from "./inbound-webhooks";

export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

app.use(async (c, next) => {
  const requestId = c.req.header("cf-ray") ?? crypto.randomUUID();
  c.set("requestId", requestId);
  c.set("db", getDb(c.env.DB));
  const started = Date.now();
  await next();
  // A configuration write (key, domain, provider, setting, webhook endpoint, ...) through this
  // isolate is seen by its next accept at once (workers/isolate-cache.ts); sending mail is not one.
  const path = c.req.path;
  if (!SAFE_METHODS.has(c.req.method) && !path.startsWith("/v1/messages")) invalidateIsolateCaches();
  c.header("X-Request-Id", requestId);
  // The access log: ids and codes only (the path holds ids, never addresses; no query string).
  const p = c.get("principal");
  log.info("request", {
    request_id: requestId,
    method: c.req.method,
    path,
    status: c.res.status,
    ms: Date.now() - started,
    workspace_id: p && p.kind !== "admin" ? p.workspaceId : null,
    auth: p ? (p.kind === "admin" ? "platform_admin" : p.kind) : null,
  });
});

// Configuration changes and reads of content or recipient data leave an audit row.
app.use("/v1/*", auditTrail);

app.on("POST", "/v1/messages/mime", uploadGuard);

// Refuse oversize bodies before reading them: JSON carries attachments as base64 (4/3 of the
// bytes) plus field overhead, so the raw limit is scaled; the exact check follows decoding.
app.on("POST", ["/v1/messages", "/v1/messages/*"], async (c, next) => {
  const max = Math.ceil(readConfig(c.env).maxMessageBytes * 1.4) + 64 * 1024;
  return bodyLimit({
    maxSize: max,
    onError: () => {
      throw new RelayError("message_too_large", `request body exceeds ${max} bytes`);
    },
  })(c, next);
});

app.get("/health", (c) => c.json({ status: "ok" }));
app.get("/ready", readyHandler);
app.get("/metrics", metricsHandler);

for (const sub of [meApp, messagesApp, domainsApp, providersApp, apiKeysApp, workspaceSettingsApp, workspacesApp]) app.route("/v1", sub);
app.route("/v1", providerTestApp);
app.route("/v1", webhooksApp);
app.route("/v1", providerWebhookKeysApp);
app.route("/", inboundWebhooksApp);
app.route("/v1", securitySettingsApp);
app.route("/v1", auditLogsApp);
app.route("/v1", privacyApp);
app.route("/v1", recipientsApp);
app.route("/v1", trendingQuestionsApp);
app.route("/v1", llmSettingsApp);
app.route("/v1", campaignsApp);
app.route("/v1", recipientListsApp);

app.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: { title: "Relay", version: "1.0.0", description: "Email relay for medical applications" },
  servers: [{ url: "/" }],
});
app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });

app.notFound((c) => c.json(new RelayError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`).toJSON(), 404));

// Unexpected failures also go to Sentry when SENTRY_DSN is set (workers/observability/sentry.ts).
function report(c: Context<AppEnv>, err: unknown, code: string): void {
  const sent = reportError(optionalSecret(c.env, "SENTRY_DSN"), err, {
    requestId: c.var.requestId,
    route: matchedRoutes(c).filter((r) => r.method !== "ALL").at(-1)?.path ?? "",
    code,
  });
  try {
    c.executionCtx.waitUntil(sent);
  } catch {
    // No execution context (app.request in unit tests): the report runs unawaited.
  }
}

app.onError((err, c) => {
  if (err instanceof UploadAborted) log.info("upload_aborted", { request_id: c.var.requestId });
  if (err instanceof RelayError) {
    if (err.status >= 500) {
      // The cause is logged only for 5xx: a refusal's cause is the caller's input, not ours to keep.
      const cause = err.cause === undefined ? {} : { cause: safeErrorMessage(err.cause) };
      log.error("request_failed", { request_id: c.var.requestId, code: err.code, error: err.message, ...cause });
      report(c, err, err.code);
    }
    return c.json(err.toJSON(), err.status as 400, err.headers);
  }
  if (err instanceof HTTPException) {
    // Hono's own refusals (malformed JSON, body limit) in our error model.
    const code =
      err.status === 413 ? "message_too_large" : err.status === 415 ? "unsupported_media_type" : err.status === 401 ? "unauthorized" : "validation_error";
    return c.json({ error: { code, message: err.message || "invalid request" } }, err.status);
  }
  log.error("unhandled_error", { request_id: c.var.requestId, error: safeErrorMessage(err) });
  report(c, err, "internal_error");
  return c.json(new RelayError("internal_error", "internal error; quote the X-Request-Id header when reporting it").toJSON(), 500);
});

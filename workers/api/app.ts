// The HTTP API: one Hono app, one sub-app per resource under /v1, one error handler. The
// middleware each do one job (workers/api/middleware/); the order below is the order they wrap.
import { OpenAPIHono } from "@hono/zod-openapi";
import { metricsHandler, readyHandler } from "./metrics";
import { apiKeysApp } from "./api-keys";
import { campaignsApp } from "./campaigns";
import { recipientListsApp } from "./recipient-lists";
import { auditLogsApp } from "./audit-logs";
import type { AppEnv } from "./context";
import { domainsApp } from "./domains";
import { meApp } from "./me";
import { messagesApp } from "./messages";
import { accessLog } from "./middleware/access-log";
import { auditTrail } from "./middleware/audit-trail";
import { database } from "./middleware/database";
import { errorHandler, notFoundHandler } from "./middleware/error-handler";
import { invalidateCachesOnWrite } from "./middleware/invalidate-caches";
import { messageBodyLimit } from "./middleware/message-body-limit";
import { requestId } from "./middleware/request-id";
import { uploadGuard } from "./middleware/upload-guard";
import { providersApp } from "./providers";
import { providerTestApp } from "./provider-test";
import { privacyApp } from "./privacy";
import { recipientsApp } from "./recipients";
import { suppressionsApp } from "./suppressions";
import { trendingQuestionsApp } from "./trending-questions";
import { llmSettingsApp } from "./llm-settings";
import { securitySettingsApp } from "./security-settings";
import { validationHook } from "./validation";
import { workspaceSettingsApp } from "./workspace-settings";
import { workspacesApp } from "./workspaces";
import { webhooksApp } from "./webhooks";
import { inboundWebhooksApp, providerWebhookKeysApp } from "./inbound-webhooks";
import { apiTags, SIGNATURE_SCHEMES } from "./route";
import { registerSharedComponents } from "./components";
import { loadWebhookEventsDoc } from "../lazy-libs";

export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

app.use(requestId);
app.use(accessLog);
app.use(database);
app.use(invalidateCachesOnWrite);
// Configuration changes and reads of content or recipient data leave an audit row.
app.use("/v1/*", auditTrail);
app.on("POST", "/v1/messages/mime", uploadGuard);
app.on("POST", ["/v1/messages", "/v1/messages/*"], messageBodyLimit);

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
app.route("/v1", suppressionsApp);
app.route("/v1", trendingQuestionsApp);
app.route("/v1", llmSettingsApp);
app.route("/v1", campaignsApp);
app.route("/v1", recipientListsApp);

const DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "Relay",
    version: "1.0.0",
    description: "Email relay for medical applications",
    // package.json is `private` and names no license: no license is granted.
    license: { name: "UNLICENSED (proprietary, all rights reserved)" },
  },
  servers: [{ url: "/" }],
  tags: apiTags(),
};
// The routes' document, with the events the relay sends merged in: one `webhooks:` entry per event
// type with the JSON Schema of its body (workers/api/webhook-events.ts, rendered to JSON by
// scripts/vendor.mjs and loaded on first use, so neither it nor its schemas are in index.js).
app.get("/openapi.json", async (c) => {
  const doc = app.getOpenAPI31Document(DOCUMENT);
  const events = await loadWebhookEventsDoc();
  const components = (doc.components ??= {});
  components.schemas = { ...components.schemas, ...(events.schemas as typeof components.schemas) };
  components.securitySchemes = { ...components.securitySchemes, ...(events.securitySchemes as typeof components.securitySchemes) };
  return c.json({ ...doc, webhooks: events.webhooks as typeof doc.webhooks });
});
app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
  type: "http",
  scheme: "bearer",
  description: "A workspace API key, a JWT from the workspace's trusted issuer, or the platform admin token. The scopes listed on an operation are the ones it needs.",
});
for (const [name, scheme] of Object.entries(SIGNATURE_SCHEMES)) app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
registerSharedComponents(app.openAPIRegistry);

app.notFound(notFoundHandler);
app.onError(errorHandler);

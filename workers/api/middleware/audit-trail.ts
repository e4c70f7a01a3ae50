// The audit trail: after every request under /v1, one row for each configuration change and
// each read of message content or recipient data, refusals included. Sends are not audited
// here: the message row itself records the credential, user and request that submitted it.
// The rows are read back through GET /v1/audit-logs (workers/api/audit-logs.ts).
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { RelayError } from "../../../core/errors";
import type { Principal } from "../../../core/scopes";
import { safeErrorMessage } from "../../../db/errors";
import { actorOf, recordAudit } from "../../audit";
import { log } from "../../log";
import type { AppEnv } from "../context";

/** Reads that expose message content or recipient data, by route; each gets an audit row. */
export const AUDITED_READS: Record<string, string> = {
  "GET /v1/messages": "messages.list",
  "GET /v1/messages/:id": "message.read",
  "GET /v1/messages/:id/rendered": "message.content.read",
  "GET /v1/audit-logs": "audit_logs.read",
  "GET /v1/workspace/security": "workspace.security.read",
  "GET /v1/recipients": "recipients.list",
  "GET /v1/recipients/:id": "recipient.read",
  "GET /v1/suppressions": "suppressions.list",
  "GET /v1/lists/:id/members": "list.members.read",
};

/** Writes that are submissions, not configuration; recorded on the message row instead. */
const SUBMISSIONS = new Set(["POST /v1/messages", "POST /v1/messages/batch", "POST /v1/messages/mime"]);

const NAMED_WRITES: Record<string, string> = {
  "POST /v1/messages/:id/cancel": "message.cancel",
  "PATCH /v1/workspace": "workspace.update",
  "PUT /v1/workspace/jwt": "workspace.jwt.set",
  "DELETE /v1/workspace/jwt": "workspace.jwt.delete",
  "PUT /v1/workspace/retention": "workspace.retention.set",
  "PUT /v1/workspace/dlp": "workspace.dlp.set",
  "POST /v1/providers": "provider.create",
  "PATCH /v1/providers/:id": "provider.update",
  "DELETE /v1/providers/:id": "provider.delete",
  "POST /v1/providers/:id/test": "provider.test",
  "POST /v1/api-keys": "api_key.create",
  "DELETE /v1/api-keys/:id": "api_key.revoke",
  "POST /v1/domains": "domain.create",
  "POST /v1/domains/:id/verify": "domain.verify",
  "DELETE /v1/domains/:id": "domain.delete",
  "POST /v1/privacy/erasure": "recipient.erase",
  "POST /v1/recipients": "recipient.upsert",
  "POST /v1/recipients/import": "recipient.import",
  "PATCH /v1/recipients/:id": "recipient.update",
  "DELETE /v1/recipients/:id": "recipient.delete",
  "PUT /v1/recipients/:id/suppression": "recipient.suppress",
  "DELETE /v1/recipients/:id/suppression": "recipient.reactivate",
  "PUT /v1/workspace/trending-questions": "workspace.trending_questions.set",
  "PUT /v1/workspace/llm": "workspace.llm.set",
  "DELETE /v1/workspace/llm/api-key": "workspace.llm.api_key.delete",
  "POST /v1/campaigns": "campaign.create",
  "PATCH /v1/campaigns/:id": "campaign.update",
  "POST /v1/lists": "list.create",
  "PATCH /v1/lists/:id": "list.rename",
  "DELETE /v1/lists/:id": "list.delete",
  "POST /v1/lists/:id/members": "list.members.add",
  "DELETE /v1/lists/:id/members/:recipient_id": "list.member.remove",
  "POST /v1/workspaces": "platform.workspace.create",
  "POST /v1/workspaces/:id/api-keys": "platform.api_key.create",
  "POST /v1/workspaces/:id/domains": "platform.domain.create",
};

/** The audit action for a matched route, or null when the route is not audited. */
export function auditAction(method: string, routePath: string): string | null {
  const key = `${method.toUpperCase()} ${routePath}`;
  if (AUDITED_READS[key]) return AUDITED_READS[key];
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return null;
  if (SUBMISSIONS.has(key) || !routePath.startsWith("/v1/")) return null;
  // Every other write under /v1 is a configuration change; unnamed ones keep their route.
  return NAMED_WRITES[key] ?? key;
}

function handlerPath(c: Context<AppEnv>): string | null {
  const routes = matchedRoutes(c).filter((r) => r.method !== "ALL");
  return routes.length > 0 ? routes[routes.length - 1]!.path : null;
}

export const auditTrail = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const path = handlerPath(c);
  const action = path ? auditAction(c.req.method, path) : null;
  const principal = c.get("principal") as Principal | undefined;
  // Unauthenticated attempts are not attributable to a workspace; they are in the request log.
  if (!action || !principal) return;
  const status = c.res.status;
  const outcome = status < 400 ? "success" : status === 401 || status === 403 ? "denied" : "error";
  const who = actorOf(principal);
  const platformTarget = path!.startsWith("/v1/workspaces/:id") ? c.req.param("id") ?? null : null;
  try {
    await recordAudit(c.var.store.audit, {
      ...who,
      workspaceId: who.workspaceId ?? platformTarget,
      action,
      resource: new URL(c.req.url).pathname,
      ip: c.req.header("cf-connecting-ip") ?? null,
      outcome,
      requestId: c.var.requestId,
      detail: { method: c.req.method, status },
    });
  } catch (e) {
    log.error("audit_write_failed", { request_id: c.var.requestId, action, error: safeErrorMessage(e) });
    // Fail closed: content that could not be audited is not handed out.
    if (outcome === "success") {
      c.res = new Response(JSON.stringify(new RelayError("unavailable", "audit trail unavailable; try again").toJSON()), {
        status: 503,
        headers: { "content-type": "application/json" },
      });
    }
  }
});

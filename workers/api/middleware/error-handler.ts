// The one error handler: every refusal and failure leaves as `{ error: { code, message } }`
// with the code's status. Detail (a 5xx's cause, an unexpected exception) goes to the log and
// to Sentry, never to the client, which gets the request id to quote instead.
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { matchedRoutes } from "hono/route";
import { readConfig } from "../../../core/config";
import { RelayError } from "../../../core/errors";
import { safeErrorMessage } from "../../../db/errors";
import { log } from "../../log";
import { reportError } from "../../observability/sentry";
import type { AppEnv } from "../context";
import { UploadAborted } from "./upload-guard";

/** The error handler must not throw, even when the failure is the configuration itself. */
function sentryDsn(env: object): string | undefined {
  try {
    return readConfig(env).sentryDsn;
  } catch {
    return undefined;
  }
}

// Unexpected failures also go to Sentry when SENTRY_DSN is set (workers/observability/sentry.ts).
function report(c: Context<AppEnv>, err: unknown, code: string): void {
  const sent = reportError(sentryDsn(c.env), err, {
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

export const errorHandler: ErrorHandler<AppEnv> = (err, c) => {
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
};

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  c.json(new RelayError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`).toJSON(), 404);

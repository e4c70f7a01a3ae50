// Optional error reporting to Sentry (SENTRY_DSN secret). Only unexpected failures (5xx) are
// sent, as a minimal envelope built here: error type, scrubbed message, request id, route.
// Never request bodies, headers, query strings or user data. Without the secret: nothing is sent.
import { scrub } from "../log";

interface Dsn {
  endpoint: string;
  publicKey: string;
}

export function parseDsn(dsn: string | undefined): Dsn | null {
  if (!dsn) return null;
  try {
    const u = new URL(dsn);
    const projectId = u.pathname.replace(/^\/+|\/+$/g, "");
    if (u.protocol !== "https:" || !u.username || !/^\d+$/.test(projectId)) return null;
    return { endpoint: `https://${u.host}/api/${projectId}/envelope/`, publicKey: u.username };
  } catch {
    return null;
  }
}

export interface ErrorContext {
  requestId?: string;
  route?: string;
  code?: string;
}

export async function reportError(dsnValue: string | undefined, err: unknown, ctx: ErrorContext): Promise<void> {
  const dsn = parseDsn(dsnValue);
  if (!dsn) return;
  const eventId = crypto.randomUUID().replace(/-/g, "");
  const type = err instanceof Error ? err.name : "Error";
  const value = scrub(err instanceof Error ? err.message : String(err)).slice(0, 500);
  const now = new Date().toISOString();
  const event = {
    event_id: eventId,
    timestamp: now,
    platform: "javascript",
    level: "error",
    logger: "relay",
    exception: { values: [{ type, value }] },
    tags: { ...(ctx.requestId ? { request_id: ctx.requestId } : {}), ...(ctx.route ? { route: ctx.route } : {}), ...(ctx.code ? { code: ctx.code } : {}) },
  };
  const body = `${JSON.stringify({ event_id: eventId, sent_at: now })}\n${JSON.stringify({ type: "event" })}\n${JSON.stringify(event)}\n`;
  try {
    await fetch(dsn.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-sentry-envelope",
        "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${dsn.publicKey}, sentry_client=relay/1.0`,
      },
      body,
    });
  } catch {
    // Reporting must never turn into a second failure.
  }
}

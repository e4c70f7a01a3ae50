// Delivering webhook events: sign (Standard Webhooks), POST, record the attempt, schedule the
// next one with backoff, give up after the maximum age, and disable an endpoint that has not
// had a single success for too long.
import { signStandardWebhook } from "../../core/webhook-signature";
import { randomToken } from "../../core/ids";
import { safeErrorMessage } from "../../db/errors";
import type { Store } from "../../db/store/store";
import type { WebhookEventRow, WebhookStore } from "../../db/store/webhooks";
import { log } from "../log";
import { readConfig } from "../../core/config";
import { openRelayStore } from "../store";
import { eventPayload, openSecret, webhooksOf } from "./events";
import { checkEndpointUrl } from "./url-policy";

/** Delay before attempt n+1 after n failed attempts: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, then every 4 h. */
const BACKOFF_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000];
const BACKOFF_CAP_MS = 4 * 3_600_000;
export const backoffMs = (failedAttempts: number): number => BACKOFF_MS[failedAttempts - 1] ?? BACKOFF_CAP_MS;

/** How long a claimed event stays invisible to other deliverers (longer than any request). */
const LEASE_MS = 90_000;
const SWEEP_LIMIT = 100;
const SWEEP_CONCURRENCY = 6;

/** What delivering needs: the store's webhooks group, the environment and a clock. */
export type DeliverDeps = { env: Env; now: () => number; store: Pick<Store, "webhooks"> };

export type DeliveryResult = "delivered" | "retry" | "failed" | "skipped";

export async function deliverEvent(deps: DeliverDeps, eventId: string, timeoutMs?: number): Promise<DeliveryResult> {
  const { env } = deps;
  const hooks = deps.store.webhooks;
  const cfg = readConfig(env).webhooks;
  const start = deps.now();
  const event = await hooks.claimEvent(eventId, start, LEASE_MS);
  if (!event) return "skipped";
  const endpoint = event.endpointId ? await hooks.endpointById(event.endpointId) : undefined;
  if (!endpoint || !endpoint.enabled) {
    await hooks.recordAttempt({
      event,
      attempt: attemptRow(event, start, 0, null, "endpoint disabled or removed", null),
      status: "failed",
      nextAttemptAt: null,
      lastError: "endpoint disabled or removed",
      at: start,
    });
    return "failed";
  }

  const body = JSON.stringify(event.payload);
  let statusCode: number | null = null;
  let error: string | null = null;
  const urlCheck = checkEndpointUrl(endpoint.url, cfg.allowPrivateUrls);
  if (!urlCheck.ok) {
    error = `endpoint URL refused: ${urlCheck.reason}`;
  } else {
    try {
      const secret = await openSecret(env, endpoint.workspaceId, endpoint.id, endpoint.secretEnc);
      const headers = await signStandardWebhook(secret, event.id, Math.floor(start / 1000), body);
      const res = await fetch(urlCheck.url.toString(), {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "Relay-Webhooks/1", ...headers },
        body,
        // A 3xx is a failed attempt, never followed: its Location was not checked by the URL
        // policy above (which runs before every delivery, not only when the endpoint was saved).
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs ?? cfg.timeoutMs),
      });
      statusCode = res.status;
      // Only the status matters; drain a little so the connection can be reused.
      await res.body?.cancel().catch(() => {});
      if (res.status < 200 || res.status > 299) error = `endpoint answered ${res.status}`;
    } catch (e) {
      error = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError") ? "timed out" : `request failed: ${safeErrorMessage(e)}`;
    }
  }
  const at = deps.now();
  const latency = Math.max(0, at - start);
  const attemptNo = event.attempts + 1;

  if (error === null) {
    await hooks.recordAttempt({ event, attempt: attemptRow(event, at, attemptNo, statusCode, null, null, latency), status: "delivered", nextAttemptAt: null, lastError: null, at });
    await hooks.markEndpointHealth(endpoint.id, true, at);
    return "delivered";
  }

  const next = at + backoffMs(attemptNo);
  const expired = next - event.createdAt > cfg.maxAgeMs;
  await hooks.recordAttempt({
    event,
    attempt: attemptRow(event, at, attemptNo, statusCode, error, expired ? null : next, latency),
    status: expired ? "failed" : "pending",
    nextAttemptAt: expired ? null : next,
    lastError: expired ? `gave up after ${attemptNo} attempts: ${error}` : error,
    at,
  });
  const health = await hooks.markEndpointHealth(endpoint.id, false, at);
  if (health?.failingSince != null && at - health.failingSince >= cfg.disableAfterMs) {
    await disable(hooks, endpoint.workspaceId, endpoint.id, `no successful delivery since ${new Date(health.failingSince).toISOString()}; last: ${error}`, at);
  }
  return expired ? "failed" : "retry";
}

async function disable(hooks: WebhookStore, workspaceId: string, endpointId: string, reason: string, at: number): Promise<void> {
  if (!(await hooks.disableEndpoint(endpointId, reason, at))) return;
  await hooks.failPendingEvents(endpointId, `endpoint disabled: ${reason}`);
  // The disabling is itself an event on the endpoint's record (visible in its event list).
  await hooks.insertEvents(workspaceId, [
    {
      id: `wev_${randomToken(16)}`,
      endpointId,
      messageId: null,
      type: "endpoint.disabled",
      payload: eventPayload("endpoint.disabled", at, { endpoint_id: endpointId, reason }),
      status: "failed",
      lastError: "not delivered: the endpoint is disabled",
      createdAt: at,
    },
  ]);
  log.warn("webhook_endpoint_disabled", { workspace_id: workspaceId, endpoint_id: endpointId });
}

function attemptRow(event: WebhookEventRow, at: number, attempt: number, statusCode: number | null, error: string | null, next: number | null, latencyMs = 0) {
  return {
    id: `wat_${randomToken(16)}`,
    eventId: event.id,
    workspaceId: event.workspaceId,
    endpointId: event.endpointId ?? "",
    attempt,
    statusCode,
    latencyMs,
    error: error?.slice(0, 500) ?? null,
    nextAttemptAt: next,
    createdAt: at,
  };
}

/** Right after events are queued: one short try each; whatever fails is the sweep's. */
export async function deliverNow(deps: DeliverDeps, events: WebhookEventRow[]): Promise<void> {
  const cfg = readConfig(deps.env).webhooks;
  await Promise.all(
    events.map((e) =>
      deliverEvent(deps, e.id, cfg.immediateTimeoutMs).catch((err) => log.error("webhook_delivery_failed", { event_id: e.id, error: safeErrorMessage(err) })),
    ),
  );
}

/** Delivers every due event (called from the cron trigger and the Sweeper alarm). */
export async function sweepWebhooks(env: Env, now: () => number = Date.now): Promise<number> {
  // Outside any request (cron, the Sweeper's alarm): a store of its own, closed when the sweep is done.
  const store = openRelayStore(env);
  try {
    const due = await store.webhooks.dueEvents(now(), SWEEP_LIMIT);
    let i = 0;
    const worker = async () => {
      while (i < due.length) {
        const id = due[i++]!;
        try {
          await deliverEvent({ env, store, now }, id);
        } catch (e) {
          log.error("webhook_delivery_failed", { event_id: id, error: safeErrorMessage(e) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, due.length) }, worker));
    return due.length;
  } finally {
    await store.close();
  }
}

// GET /metrics (Prometheus text format, bearer METRICS_TOKEN) and GET /ready (the database, queue).
// Without METRICS_TOKEN the endpoint is off (404): metrics name workspaces and providers.
import type { Context } from "hono";
import { readConfig } from "../../core/config";
import { timingSafeEqualString } from "../../core/encoding";
import { RelayError } from "../../core/errors";
import { safeErrorMessage } from "../../db/errors";
import { LATENCY_BUCKETS_MS, type MetricsSnapshot } from "../../db/store/metrics";
import type { AppEnv } from "./context";
import { log } from "../log";
import { render, type Family } from "../observability/prometheus";

export function families(s: MetricsSnapshot, now: number): Family[] {
  const latency: Family = { name: "relay_provider_latency_seconds", help: "Provider call latency per delivery attempt.", type: "histogram", samples: [] };
  for (const l of s.latency) {
    const base = { workspace: l.workspace, provider: l.provider };
    LATENCY_BUCKETS_MS.forEach((b, i) => latency.samples.push({ suffix: "_bucket", labels: { ...base, le: String(b / 1000) }, value: l.buckets[i]! }));
    latency.samples.push({ suffix: "_bucket", labels: { ...base, le: "+Inf" }, value: l.count });
    latency.samples.push({ suffix: "_sum", labels: base, value: l.sumMs / 1000 });
    latency.samples.push({ suffix: "_count", labels: base, value: l.count });
  }
  return [
    {
      name: "relay_messages_accepted_total",
      help: "Messages accepted (answered 202) per workspace.",
      type: "counter",
      samples: s.accepted.map((r) => ({ labels: { workspace: r.workspace }, value: r.n })),
    },
    {
      name: "relay_recipients",
      help: "Message recipients by current delivery status (sent, failed, deferred, rejected, ...) per workspace and provider.",
      type: "gauge",
      samples: s.recipients.map((r) => ({ labels: { workspace: r.workspace, provider: r.provider, status: r.status }, value: r.n })),
    },
    {
      name: "relay_delivery_attempts_total",
      help: "Provider calls by outcome (sent, transient, permanent, deferred, skipped).",
      type: "counter",
      samples: s.attempts.map((r) => ({ labels: { workspace: r.workspace, provider: r.provider, outcome: r.outcome }, value: r.n })),
    },
    latency,
    {
      name: "relay_circuit_breaker_state",
      help: "1 for each provider's current breaker state.",
      type: "gauge",
      samples: s.breakers.map((r) => ({ labels: { workspace: r.workspace, provider: r.provider, state: r.state }, value: 1 })),
    },
    {
      name: "relay_queue_lag_seconds",
      help: "Age of the oldest message still waiting in the queue (0 when none).",
      type: "gauge",
      samples: [{ labels: {}, value: s.oldestQueuedAt === null ? 0 : Math.max(0, (now - s.oldestQueuedAt) / 1000) }],
    },
    {
      name: "relay_limiter_holds_total",
      help: "Deliveries held back by a rate limit until its window opens (global, workspace) or a provider quota resets. Accept-time refusals (429) are in the request log.",
      type: "counter",
      samples: s.limited.map((r) => ({ labels: { workspace: r.workspace, layer: r.layer }, value: r.n })),
    },
    {
      name: "relay_bounces",
      help: "Message recipients by the reason of their last bounce (sisimai's names; cause recipient, mailbox, sender, transient, unknown; type hard or soft).",
      type: "gauge",
      samples: s.bounces.map((r) => ({ labels: { workspace: r.workspace, provider: r.provider, reason: r.reason, cause: r.cause, type: r.type }, value: r.n })),
    },
    {
      name: "relay_sender_side_bounces",
      help: "Bounces caused by the sender, not the recipient (blocked, spamdetected, policyviolation, securityerror, toomanyconn, rejected, ...), per provider and sending domain: the relay's reputation or content. Never suppress a recipient; alert on growth.",
      type: "gauge",
      samples: s.senderSide.map((r) => ({ labels: { workspace: r.workspace, provider: r.provider, sender_domain: r.domain, reason: r.reason }, value: r.n })),
    },
    {
      name: "relay_bodies_purged_total",
      help: "Messages whose content retention has deleted.",
      type: "counter",
      samples: s.purged.map((r) => ({ labels: { workspace: r.workspace }, value: r.n })),
    },
  ];
}

export async function metricsHandler(c: Context<AppEnv>): Promise<Response> {
  const token = readConfig(c.env).metricsToken;
  if (!token) throw new RelayError("not_found", "metrics are disabled; set the METRICS_TOKEN secret");
  const given = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!given) throw new RelayError("unauthorized", "send 'Authorization: Bearer <METRICS_TOKEN>'");
  if (!timingSafeEqualString(given, token)) throw new RelayError("forbidden", "wrong metrics token");
  const body = render(families(await c.var.store.metrics.snapshot(), Date.now()));
  return c.body(body, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
}

/**
 * Readiness: the database answers a query (the check is named after the backend: `d1` or
 * `mysql`), the queue binding is present; open provider breakers are reported.
 */
export async function readyHandler(c: Context<AppEnv>): Promise<Response> {
  const checks: Record<string, "ok" | "fail"> = {};
  const store = c.var.store;
  const database = store.backend;
  try {
    await store.metrics.ping();
    checks[database] = "ok";
  } catch (e) {
    log.error("ready_database_failed", { store: database, error: safeErrorMessage(e) });
    checks[database] = "fail";
  }
  checks["queue"] = typeof c.env.DELIVERY_QUEUE?.send === "function" ? "ok" : "fail";
  const ready = Object.values(checks).every((v) => v === "ok");
  // Providers belong to tenants, so their state informs but never fails readiness.
  let providers: { open_breakers: number } | null = null;
  if (checks[database] === "ok") {
    const open = await store.metrics.openBreakers().catch(() => null);
    providers = open === null ? null : { open_breakers: open };
  }
  return c.json({ status: ready ? "ready" : "not_ready", checks, providers }, ready ? 200 : 503);
}

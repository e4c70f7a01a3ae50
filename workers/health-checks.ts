// Provider health checks (spec: "healthy" in the provider selection): a periodic job probes every
// enabled provider cheaply (Mailgun's domain endpoint, Gmail's token exchange, an SMTP handshake)
// and records the result in health_checks; routing drops providers whose latest check is
// unhealthy and recent, the same way it skips an open breaker, until the breaker overtakes the
// check (half-open or closed since it: core/routing/health.ts).
import { readConfig } from "../core/config";
import { loadKeyring, type Keyring } from "../core/crypto";
import { newId } from "../core/ids";
import type { HealthCheckRow, HealthStore } from "../db/store/health";
import { probeExcludes } from "../core/routing/health";
import type { ProviderRow } from "../db/store/providers";
import { openRelayStore } from "./store";
import { buildProvider } from "./dispatcher/build-provider";
import { describeError } from "./dispatcher/providers/outcome";
import { providerFetch } from "./dispatcher/providers/transport";
import { PROBE_DEFAULT_TIMEOUT_MS } from "./dispatcher/providers/probe";
import type { ProbeResult } from "./dispatcher/providers/types";
import { log } from "./log";

/** Checks are kept this long; at the default 5-minute interval that is ~2,000 rows per provider. */
export const HEALTH_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Probes running at once in one job run. */
export const HEALTH_CONCURRENCY = 6;

/** HEALTH_CHECK_INTERVAL_SECONDS (wrangler.toml [vars]) in milliseconds. */
export const healthCheckIntervalMs = (env: object): number => readConfig(env).healthCheckIntervalMs;

/**
 * A check older than this no longer vouches for anything: twice the interval, so one late or
 * lost run does not flip a provider back, but a stopped job does not exclude it forever.
 */
export const healthMaxAgeMs = (env: object) => 2 * healthCheckIntervalMs(env);

/** Probes one provider under a hard deadline; never throws. */
export async function probeProvider(env: Env, ring: Keyring, row: ProviderRow, timeoutMs = PROBE_DEFAULT_TIMEOUT_MS): Promise<ProbeResult> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Providers bound their own network steps; this also bounds the sum (an SMTP step timeout is per step).
  const deadline = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve({ status: "unhealthy", latencyMs: Date.now() - started, detail: `health check timed out after ${timeoutMs} ms` }), timeoutMs + 1000);
  });
  const run = (async (): Promise<ProbeResult> => {
    try {
      const provider = await buildProvider(env, ring, row);
      if (!provider.probe) return { status: "healthy", latencyMs: 0, detail: `no health probe for type ${row.type}` };
      return await provider.probe({ now: Date.now, fetch: providerFetch, timeoutMs });
    } catch (e) {
      // A provider that cannot even be built (undecryptable credentials, bad stored config) cannot send either.
      return { status: "unhealthy", latencyMs: Date.now() - started, detail: `health check failed: ${describeError(e).slice(0, 300)}` };
    }
  })();
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const toRow = (row: ProviderRow, r: ProbeResult, checkedAt: number) => ({
  id: newId("hc"),
  providerId: row.id,
  workspaceId: row.workspaceId,
  status: r.status,
  latencyMs: Math.max(0, Math.round(r.latencyMs)),
  detail: r.detail?.slice(0, 500) ?? null,
  checkedAt,
});

/** Probes one provider now and records the result (POST /v1/providers/{id}/health-check). */
export async function checkProviderNow(env: Env, health: HealthStore, row: ProviderRow, now: () => number = Date.now): Promise<HealthCheckRow> {
  const ring = await loadKeyring(env.DATA_KEYS, readConfig(env).dataKeyId);
  const result = await probeProvider(env, ring, row);
  const rec = toRow(row, result, now());
  await health.recordChecks([rec], rec.checkedAt - HEALTH_RETENTION_MS);
  return rec;
}

export interface HealthRunSummary {
  checked: number;
  healthy: number;
  degraded: number;
  unhealthy: number;
}

/** Probes every enabled provider of every workspace, records the results and prunes old ones. */
export async function runHealthChecks(env: Env, now: number): Promise<HealthRunSummary> {
  // A store of its own for the job (a cron or alarm run, outside any request), closed when done.
  const store = openRelayStore(env);
  try {
    return await probeAndRecord(env, store.health, now);
  } finally {
    await store.close();
  }
}

async function probeAndRecord(env: Env, health: HealthStore, now: number): Promise<HealthRunSummary> {
  const providers = await health.enabledProvidersEverywhere();
  const summary: HealthRunSummary = { checked: 0, healthy: 0, degraded: 0, unhealthy: 0 };
  if (providers.length === 0) return summary;
  const ring = await loadKeyring(env.DATA_KEYS, readConfig(env).dataKeyId);
  const rows: ReturnType<typeof toRow>[] = [];
  let next = 0;
  const worker = async () => {
    while (next < providers.length) {
      const row = providers[next++]!;
      const result = await probeProvider(env, ring, row);
      rows.push(toRow(row, result, now));
      summary[result.status]++;
      if (result.status !== "healthy") {
        log.warn("provider_health", { workspace_id: row.workspaceId, provider_id: row.id, status: result.status, detail: result.detail ?? null });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEALTH_CONCURRENCY, providers.length) }, worker));
  summary.checked = rows.length;
  await health.recordChecks(rows, now - HEALTH_RETENTION_MS);
  return summary;
}

/**
 * Routing's health filter: drops providers whose latest check is unhealthy and recent, unless
 * their breaker has overtaken the check (half-open, or closed since: core/routing/health.ts), so
 * a provider that recovered gets its trial calls at once rather than at the next probe. Only
 * asked when there is a choice (more than one provider). If every provider would be dropped the
 * order is kept as it was: health checks are a hint, and the breakers (which see real sends) and
 * force_send / defer then decide, rather than the probe alone stopping all mail.
 */
export async function withoutUnhealthy(env: Env, health: HealthStore, workspaceId: string, providers: ProviderRow[], now: number = Date.now()): Promise<ProviderRow[]> {
  if (providers.length <= 1) return providers;
  const { checks, breakers } = await health.routingHealth(workspaceId, providers.map((p) => p.id));
  const maxAge = healthMaxAgeMs(env);
  const kept = providers.filter((p) => !probeExcludes(checks.get(p.id), breakers.get(p.id), now, maxAge));
  return kept.length > 0 ? kept : providers;
}

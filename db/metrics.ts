// Aggregates for /metrics, computed from D1 at scrape time (the rows are the source of truth,
// so counters survive isolate restarts and agree with the API). One batch, one round trip.
import { sql } from "drizzle-orm";
import type { Db } from "./client";

export const LATENCY_BUCKETS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

export interface MetricsSnapshot {
  accepted: { workspace: string; n: number }[];
  recipients: { workspace: string; provider: string; status: string; n: number }[];
  attempts: { workspace: string; provider: string; outcome: string; n: number }[];
  latency: { workspace: string; provider: string; count: number; sumMs: number; buckets: number[] }[];
  breakers: { workspace: string; provider: string; state: string }[];
  oldestQueuedAt: number | null;
  purged: { workspace: string; n: number }[];
  /** Deliveries held back by a limit (global/workspace window or provider quota), per workspace and layer. */
  limited: { workspace: string; layer: string; n: number }[];
  /** Message recipients by the reason of their last bounce (core/bounce/reasons.ts), per workspace and provider. */
  bounces: { workspace: string; provider: string; reason: string; cause: string; type: string; n: number }[];
  /** Of those, the sender-side ones (blocked, spam, policy, ...) by sending domain: the relay's reputation, not the recipients. */
  senderSide: { workspace: string; provider: string; domain: string; reason: string; n: number }[];
}

export async function metricsSnapshot(db: Db): Promise<MetricsSnapshot> {
  const bucketCols = LATENCY_BUCKETS_MS.map((b) => `SUM(CASE WHEN latency_ms <= ${b} THEN 1 ELSE 0 END) AS le_${b}`).join(", ");
  const [accepted, recipients, attempts, latency, breakers, oldest, purged, limited, bounces, senderSide] = await db.batch([
    db.all<{ workspace: string; n: number }>(sql`SELECT workspace_id AS workspace, COUNT(*) AS n FROM messages GROUP BY workspace_id`),
    db.all<{ workspace: string; provider: string; status: string; n: number }>(
      sql`SELECT workspace_id AS workspace, COALESCE(provider_id, '') AS provider, status, COUNT(*) AS n FROM message_recipients GROUP BY workspace_id, provider_id, status`,
    ),
    db.all<{ workspace: string; provider: string; outcome: string; n: number }>(
      sql`SELECT workspace_id AS workspace, COALESCE(provider_id, '') AS provider, outcome, COUNT(*) AS n FROM delivery_attempts GROUP BY workspace_id, provider_id, outcome`,
    ),
    db.all<Record<string, number | string>>(
      sql.raw(
        `SELECT workspace_id AS workspace, provider_id AS provider, COUNT(*) AS count, SUM(latency_ms) AS sum_ms, ${bucketCols} FROM delivery_attempts WHERE latency_ms IS NOT NULL AND provider_id IS NOT NULL GROUP BY workspace_id, provider_id`,
      ),
    ),
    // Every provider has a breaker, closed until its first transition writes the mirror row (as
    // the API reports it), so every provider has a sample.
    db.all<{ workspace: string; provider: string; state: string }>(
      sql`SELECT p.workspace_id AS workspace, p.id AS provider, coalesce(b.state, 'closed') AS state FROM providers p LEFT JOIN circuit_breakers b ON b.provider_id = p.id`,
    ),
    db.all<{ t: number | null }>(sql`SELECT MIN(queued_at) AS t FROM messages WHERE status = 'queued'`),
    db.all<{ workspace: string; n: number }>(sql`SELECT workspace_id AS workspace, COUNT(*) AS n FROM messages WHERE body_purged_at IS NOT NULL GROUP BY workspace_id`),
    // The limit step records each hold as a "deferred" attempt whose detail names the layer.
    db.all<{ workspace: string; layer: string; n: number }>(
      sql`SELECT workspace_id AS workspace,
            CASE WHEN detail LIKE '%relay''s%' THEN 'global' WHEN detail LIKE '%workspace''s%' THEN 'workspace' ELSE 'provider_quota' END AS layer,
            COUNT(*) AS n
          FROM delivery_attempts
          WHERE outcome = 'deferred' AND (detail LIKE '%limit is reached%' OR detail LIKE '%quota used up%')
          GROUP BY workspace_id, layer`,
    ),
    // Only bounced rows are read (the partial index message_recipients_bounced).
    db.all<{ workspace: string; provider: string; reason: string; cause: string; type: string; n: number }>(
      sql`SELECT workspace_id AS workspace, COALESCE(provider_id, '') AS provider, json_extract(bounce, '$.reason') AS reason,
            json_extract(bounce, '$.cause') AS cause, json_extract(bounce, '$.type') AS type, COUNT(*) AS n
          FROM message_recipients WHERE bounce IS NOT NULL GROUP BY workspace_id, provider_id, reason, cause, type`,
    ),
    db.all<{ workspace: string; provider: string; domain: string; reason: string; n: number }>(
      sql`SELECT mr.workspace_id AS workspace, COALESCE(mr.provider_id, '') AS provider,
            lower(substr(m.from_email, instr(m.from_email, '@') + 1)) AS domain, json_extract(mr.bounce, '$.reason') AS reason, COUNT(*) AS n
          FROM message_recipients mr JOIN messages m ON m.id = mr.message_id
          WHERE mr.bounce IS NOT NULL AND json_extract(mr.bounce, '$.cause') = 'sender'
          GROUP BY mr.workspace_id, mr.provider_id, domain, reason`,
    ),
  ]);
  return {
    accepted,
    recipients,
    attempts,
    latency: latency.map((r) => ({
      workspace: String(r["workspace"]),
      provider: String(r["provider"]),
      count: Number(r["count"]),
      sumMs: Number(r["sum_ms"] ?? 0),
      buckets: LATENCY_BUCKETS_MS.map((b) => Number(r[`le_${b}`] ?? 0)),
    })),
    breakers,
    oldestQueuedAt: oldest[0]?.t ?? null,
    purged,
    limited,
    bounces,
    senderSide,
  };
}

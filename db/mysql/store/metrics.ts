// The metrics group (db/store/metrics.ts) on MySQL: exactly the D1 adapter's meaning (db/metrics.ts
// metricsSnapshot is the specification; db/breakers.ts for the readiness queries).
//
// Differences from the SQLite text, each for the same answer:
// - One transaction (REPEATABLE READ: every SELECT sees the snapshot of the first), as D1's batch.
// - JSON fields: JSON_EXTRACT gives JSON (a quoted string), JSON_UNQUOTE the text; a JSON null
//   becomes SQL NULL, as SQLite's json_extract gives it (JSON_UNQUOTE would give 'null').
// - The sending domain: SUBSTRING after LOCATE('@'), SQLite's substr/instr (after the first '@';
//   the whole address when it has none). SUBSTRING_INDEX(…, -1) would take the part after the last.
// - LIKE: SQLite's is case-insensitive for ASCII, the database's collation (utf8mb4_bin) is not, so
//   the attempt detail is lowered before it is matched.
// - Groups by an expression are grouped in an outer query over a derived table: MySQL resolves a
//   GROUP BY name to a table's column before a select alias, and ONLY_FULL_GROUP_BY may refuse.
// - COUNT/SUM come back as BIGINT/DECIMAL (numbers or strings, by driver): every figure is Number()ed.
import { LATENCY_BUCKETS_MS, type MetricsSnapshot } from "../../metrics";
import type { MetricsStore } from "../../store/metrics";
import type { Runner, Sql } from "./sql";

/** A JSON field of `col` as text, NULL when absent or JSON null (SQLite json_extract on a string field). */
const jsonText = (col: string, path: string) =>
  `CASE WHEN JSON_TYPE(JSON_EXTRACT(${col}, '${path}')) = 'NULL' THEN NULL ELSE JSON_UNQUOTE(JSON_EXTRACT(${col}, '${path}')) END`;

type Row = Record<string, unknown>;
const n = (v: unknown): number => Number(v ?? 0);
const s = (v: unknown): string => String(v);
/** A JSON field's text, or null (kept as the SQLite query gives it). */
const sOrNull = (v: unknown): string => (v === null || v === undefined ? (null as unknown as string) : String(v));

export function mysqlMetrics(db: Runner): MetricsStore {
  return {
    snapshot: () => db.lagging.tx(snapshot),
    openBreakers: () =>
      db.run(async (q) => {
        const [row] = await q.rows<{ n: unknown }>("SELECT COUNT(*) AS `n` FROM `circuit_breakers` WHERE `state` = 'open'");
        return n(row?.n);
      }),
    ping: () => db.run(async (q) => void (await q.rows("SELECT 1"))),
  };
}

async function snapshot(q: Sql): Promise<MetricsSnapshot> {
  const bucketCols = LATENCY_BUCKETS_MS.map((b) => `SUM(CASE WHEN \`latency_ms\` <= ${b} THEN 1 ELSE 0 END) AS \`le_${b}\``).join(", ");
  const accepted = await q.rows<Row>("SELECT `workspace_id` AS `workspace`, COUNT(*) AS `n` FROM `messages` GROUP BY `workspace_id`");
  const recipients = await q.rows<Row>(
    "SELECT `workspace`, `provider`, `status`, COUNT(*) AS `n` FROM (SELECT `workspace_id` AS `workspace`, COALESCE(`provider_id`, '') AS `provider`, `status` FROM `message_recipients`) t GROUP BY `workspace`, `provider`, `status`",
  );
  const attempts = await q.rows<Row>(
    "SELECT `workspace`, `provider`, `outcome`, COUNT(*) AS `n` FROM (SELECT `workspace_id` AS `workspace`, COALESCE(`provider_id`, '') AS `provider`, `outcome` FROM `delivery_attempts`) t GROUP BY `workspace`, `provider`, `outcome`",
  );
  const latency = await q.rows<Row>(
    `SELECT \`workspace_id\` AS \`workspace\`, \`provider_id\` AS \`provider\`, COUNT(*) AS \`count\`, SUM(\`latency_ms\`) AS \`sum_ms\`, ${bucketCols}
     FROM \`delivery_attempts\` WHERE \`latency_ms\` IS NOT NULL AND \`provider_id\` IS NOT NULL GROUP BY \`workspace_id\`, \`provider_id\``,
  );
  // Every provider has a breaker, closed until its first transition writes the mirror row.
  const breakers = await q.rows<Row>(
    "SELECT p.`workspace_id` AS `workspace`, p.`id` AS `provider`, COALESCE(b.`state`, 'closed') AS `state` FROM `providers` p LEFT JOIN `circuit_breakers` b ON b.`provider_id` = p.`id`",
  );
  const [oldest] = await q.rows<Row>("SELECT MIN(`queued_at`) AS `t` FROM `messages` WHERE `status` = 'queued'");
  const purged = await q.rows<Row>("SELECT `workspace_id` AS `workspace`, COUNT(*) AS `n` FROM `messages` WHERE `body_purged_at` IS NOT NULL GROUP BY `workspace_id`");
  // The limit step records each hold as a "deferred" attempt whose detail names the layer.
  const limited = await q.rows<Row>(
    `SELECT \`workspace\`, \`layer\`, COUNT(*) AS \`n\` FROM (
       SELECT \`workspace_id\` AS \`workspace\`,
         CASE WHEN LOWER(\`detail\`) LIKE '%relay''s%' THEN 'global' WHEN LOWER(\`detail\`) LIKE '%workspace''s%' THEN 'workspace' ELSE 'provider_quota' END AS \`layer\`
       FROM \`delivery_attempts\`
       WHERE \`outcome\` = 'deferred' AND (LOWER(\`detail\`) LIKE '%limit is reached%' OR LOWER(\`detail\`) LIKE '%quota used up%')
     ) t GROUP BY \`workspace\`, \`layer\``,
  );
  const bounces = await q.rows<Row>(
    `SELECT \`workspace\`, \`provider\`, \`reason\`, \`cause\`, \`type\`, COUNT(*) AS \`n\` FROM (
       SELECT \`workspace_id\` AS \`workspace\`, COALESCE(\`provider_id\`, '') AS \`provider\`, ${jsonText("`bounce`", "$.reason")} AS \`reason\`,
         ${jsonText("`bounce`", "$.cause")} AS \`cause\`, ${jsonText("`bounce`", "$.type")} AS \`type\`
       FROM \`message_recipients\` WHERE \`bounce\` IS NOT NULL
     ) t GROUP BY \`workspace\`, \`provider\`, \`reason\`, \`cause\`, \`type\``,
  );
  const senderSide = await q.rows<Row>(
    `SELECT \`workspace\`, \`provider\`, \`domain\`, \`reason\`, COUNT(*) AS \`n\` FROM (
       SELECT mr.\`workspace_id\` AS \`workspace\`, COALESCE(mr.\`provider_id\`, '') AS \`provider\`,
         LOWER(SUBSTRING(m.\`from_email\`, LOCATE('@', m.\`from_email\`) + 1)) AS \`domain\`, ${jsonText("mr.`bounce`", "$.reason")} AS \`reason\`
       FROM \`message_recipients\` mr JOIN \`messages\` m ON m.\`id\` = mr.\`message_id\`
       WHERE mr.\`bounce\` IS NOT NULL AND ${jsonText("mr.`bounce`", "$.cause")} = 'sender'
     ) t GROUP BY \`workspace\`, \`provider\`, \`domain\`, \`reason\``,
  );
  return {
    accepted: accepted.map((r) => ({ workspace: s(r.workspace), n: n(r.n) })),
    recipients: recipients.map((r) => ({ workspace: s(r.workspace), provider: s(r.provider), status: s(r.status), n: n(r.n) })),
    attempts: attempts.map((r) => ({ workspace: s(r.workspace), provider: s(r.provider), outcome: s(r.outcome), n: n(r.n) })),
    latency: latency.map((r) => ({
      workspace: s(r.workspace),
      provider: s(r.provider),
      count: n(r.count),
      sumMs: n(r.sum_ms),
      buckets: LATENCY_BUCKETS_MS.map((b) => n(r[`le_${b}`])),
    })),
    breakers: breakers.map((r) => ({ workspace: s(r.workspace), provider: s(r.provider), state: s(r.state) })),
    oldestQueuedAt: oldest?.t === null || oldest?.t === undefined ? null : n(oldest.t),
    purged: purged.map((r) => ({ workspace: s(r.workspace), n: n(r.n) })),
    limited: limited.map((r) => ({ workspace: s(r.workspace), layer: s(r.layer), n: n(r.n) })),
    bounces: bounces.map((r) => ({ workspace: s(r.workspace), provider: s(r.provider), reason: sOrNull(r.reason), cause: sOrNull(r.cause), type: sOrNull(r.type), n: n(r.n) })),
    senderSide: senderSide.map((r) => ({ workspace: s(r.workspace), provider: s(r.provider), domain: s(r.domain), reason: sOrNull(r.reason), n: n(r.n) })),
  };
}

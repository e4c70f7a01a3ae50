// The growth phase (issue 20): does the relay slow down as its history grows? Per backend (D1;
// MySQL when a server answers, in the bench database of store-phase.mjs), one relay without queue
// consumers and one workspace, then:
//   - empty: the /metrics scrape (median of sequential scrapes, bearer METRICS_TOKEN);
//   - the workspace's history grown to each level of BENCH_GROWTH_LEVELS (10k, 100k, 1M message
//     rows, each with one message_recipients row), written behind the API's back: INSERT …
//     SELECT from a recursive CTE per chunk (the database makes the rows), on D1 through the bench
//     Worker (relay.query), on MySQL from this process with mysql2, a transaction per chunk;
//   - at each level: accept (wrk POST /v1/messages) and the list (wrk GET /v1/messages?limit=25)
//     in alternating rounds, each after a 1 s warm-up, and the /metrics scrape again.
// The history is finished mail: recipients mostly delivered/sent, some bounced (with the bounce
// summary the relay keeps, recipient- and sender-caused), failed, suppressed, cancelled; the
// message's status derived from its recipient's as core/status.ts does; queued_at spread over the
// last 30 days (deterministic in the row number, the same on both backends); valid JSON in
// to_emails, tags and metadata; a 600-character stand-in for the encrypted body (never read here:
// neither the list nor /metrics decrypts bodies). delivery_attempts is not grown.
// Targets: accept p50 and list p50 at the top level within 1.5× of the first level's, and the
// scrape at the top level within 1.5× of the empty database's.
// Knobs: BENCH_GROWTH_LEVELS ("10000,100000,1000000"), BENCH_GROWTH_CONNECTIONS (10),
// BENCH_GROWTH_ROUNDS (3), BENCH_GROWTH_SCRAPES (7), BENCH_GROWTH_SEED_LIMIT_S (1200: a backend
// stops growing, and its remaining levels are reported as not reached, once seeding took longer);
// BENCH_SECONDS per wrk run, as the other phases.
import path from "node:path";
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { request, wrk } from "./load.mjs";
import { apiBody } from "./messages.mjs";
import { seedWorkspaces, startRelay } from "./relay.mjs";
import { benchDatabase } from "./store-phase.mjs";
import { ratio, summarize } from "./stats.mjs";

const num = (name, dflt) => Number(process.env[name] ?? dflt);
const DAY_MS = 86_400_000;
const SPAN_MS = 30 * DAY_MS;
const TARGET = 1.5;
const BODY = "0".repeat(600);

/** Fills results.growth. */
export async function growthPhase(ctx) {
  const { root, log, elapsed, results, settings } = ctx;
  const levels = [...new Set((process.env.BENCH_GROWTH_LEVELS ?? "10000,100000,1000000").split(",").map((s) => Number(s.trim())))]
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b);
  if (levels.length < 2) throw new Error("BENCH_GROWTH_LEVELS needs at least two levels (e.g. 10000,100000,1000000)");
  const opts = {
    levels,
    seconds: settings.seconds,
    connections: num("BENCH_GROWTH_CONNECTIONS", 10),
    rounds: num("BENCH_GROWTH_ROUNDS", 3),
    scrapes: num("BENCH_GROWTH_SCRAPES", 7),
    seed_limit_s: num("BENCH_GROWTH_SEED_LIMIT_S", 1200),
  };
  log(`bench: growth phase (levels ${levels.join(", ")}) [${elapsed()}]`);
  const growth = {
    settings: opts,
    target: TARGET,
    note:
      "History rows written behind the API's back (INSERT … SELECT from a recursive CTE in chunks of 20k: D1 through the bench Worker, MySQL over mysql2), one recipient per message, finished statuses, queued_at over 30 days, a 600-character body stand-in; delivery_attempts not grown. Accept adds its own queued rows on top (counted in each level's rows). MySQL is a local MariaDB through Miniflare's Hyperdrive binding.",
  };
  const mysqlUrl = await benchDatabase(root, log);
  growth.d1 = await backend(ctx, "d1", null, opts);
  growth.mysql = mysqlUrl ? await backend(ctx, "mysql", mysqlUrl, opts) : { skipped: "no MySQL server" };
  results.growth = growth;
}

async function backend(ctx, kind, mysqlUrl, opts) {
  const { root, tmp, outdir, log, elapsed, wrkBin, simInfo, opened, dispose } = ctx;
  const metricsToken = `bench-metrics-${randomBytes(12).toString("hex")}`;
  const vars = { STORE: kind, OUTBOX_GRACE_SECONDS: "86400", METRICS_TOKEN: metricsToken };
  const relay = await startRelay({ root, outdir, stateDir: path.join(tmp, `growth-${kind}`), consumers: false, simInfo, extraVars: vars, mysqlUrl });
  opened(relay);
  const conn = kind === "mysql" ? await mysql.createConnection({ uri: mysqlUrl }) : null;
  const sql = kind === "d1" ? (q, ...p) => relay.query(q, ...p) : async (q, ...p) => (await conn.query(q, p))[0];
  const out = { store: kind, levels: [] };
  try {
    const [ws] = await seedWorkspaces(relay, simInfo, 1, 300);
    const providerId = (await sql("SELECT id FROM providers WHERE workspace_id = ?", ws.id))[0]?.id;
    if (!providerId) throw new Error("the seeded workspace has no provider");
    const auth = { authorization: `Bearer ${ws.key}` };
    const accept = { url: `${relay.url}/v1/messages`, method: "POST", headers: { ...auth, "content-type": "application/json" }, body: apiBody(ws, ["patient@example.net"]) };
    const list = { url: `${relay.url}/v1/messages?limit=25`, method: "GET", headers: auth };
    const scrape = () => scrapeMetrics(`${relay.url}/metrics`, metricsToken, opts.scrapes);
    const w = (target, seconds, name) => wrk({ bin: wrkBin, ...target, connections: opts.connections, seconds, tmpDir: tmp, name });

    out.empty = { scrape_ms: await scrape() };
    log(`  ${kind.padEnd(5)} empty: /metrics ${fmt(out.empty.scrape_ms.median)} ms (median of ${opts.scrapes})`);

    const seeder = kind === "d1" ? d1Seeder(sql, ws, providerId) : await mysqlSeeder(conn, ws, providerId);
    const now = Date.now();
    let seeded = 0;
    let seedSeconds = 0;
    for (const level of opts.levels) {
      // ---- grow -----------------------------------------------------------------------------
      const t = performance.now();
      const before = seeded;
      let lastLog = t;
      while (seeded < level) {
        const n = Math.min(seeder.chunk, level - seeded);
        await seeder.insert(seeded + 1, seeded + n, now);
        seeded += n;
        const s = (performance.now() - t) / 1000;
        if (performance.now() - lastLog > 15_000) {
          lastLog = performance.now();
          log(`  ${kind.padEnd(5)} seeding to ${level}: ${seeded} rows, ${(s + seedSeconds).toFixed(0)} s so far [${elapsed()}]`);
        }
        if (s + seedSeconds > opts.seed_limit_s && seeded < level) break;
      }
      const took = (performance.now() - t) / 1000;
      seedSeconds += took;
      const [{ c: messagesNow }] = await sql("SELECT count(*) AS c FROM messages WHERE workspace_id = ?", ws.id);
      const [{ c: recipientsNow }] = await sql("SELECT count(*) AS c FROM message_recipients WHERE workspace_id = ?", ws.id);
      if (seeded < level) {
        out.levels.push({ level, skipped: `seeding stopped after ${seedSeconds.toFixed(0)} s (BENCH_GROWTH_SEED_LIMIT_S=${opts.seed_limit_s}) at ${seeded} history rows` });
        log(`  ${kind.padEnd(5)} level ${level}: ${out.levels.at(-1).skipped}`);
        break;
      }
      const row = { level, history_rows: seeded, messages: Number(messagesNow), recipients: Number(recipientsNow), seed_s: took, seed_rows_per_s: took > 0 ? (seeded - before) / took : NaN };

      // ---- measure -------------------------------------------------------------------------
      // One real request of each first: the list must answer 200 with a page, or the figures mean nothing.
      const probe = await request(list.url, { headers: auth });
      if (probe.status !== 200 || JSON.parse(probe.text).data?.length !== 25) throw new Error(`GET /v1/messages?limit=25 at ${level}: ${probe.status} ${probe.text.slice(0, 200)}`);
      await w(accept, 1, "growth-accept-warm");
      await w(list, 1, "growth-list-warm");
      const raw = { accept: [], list: [] };
      for (let r = 0; r < opts.rounds; r++) {
        raw.accept.push(await w(accept, opts.seconds, "growth-accept"));
        raw.list.push(await w(list, opts.seconds, "growth-list"));
      }
      const sum = (name, key) => summarize(raw[name].map((x) => x[key]));
      const errs = (name) => raw[name].reduce((n, x) => n + x.errors, 0);
      row.accept = { rps: sum("accept", "rps"), p50_ms: sum("accept", "p50_ms"), p99_ms: sum("accept", "p99_ms"), errors: errs("accept") };
      row.list = { rps: sum("list", "rps"), p50_ms: sum("list", "p50_ms"), p99_ms: sum("list", "p99_ms"), errors: errs("list") };
      row.scrape_ms = await scrape();
      out.levels.push(row);
      log(
        `  ${kind.padEnd(5)} ${level} rows (seeded in ${took.toFixed(0)} s, ${row.seed_rows_per_s.toFixed(0)} rows/s; ${row.messages} messages now): accept p50 ${fmt(row.accept.p50_ms.median)} p99 ${fmt(row.accept.p99_ms.median)} ms (errors ${row.accept.errors}) | list p50 ${fmt(row.list.p50_ms.median)} p99 ${fmt(row.list.p99_ms.median)} ms (errors ${row.list.errors}) | /metrics ${fmt(row.scrape_ms.median)} ms [${elapsed()}]`,
      );
    }
    out.seed_s = seedSeconds;
    // The recipients' status mix as seeded plus accept's queued rows (the same on both backends but for those).
    out.recipient_status_mix = Object.fromEntries(
      (await sql("SELECT status, count(*) AS n FROM message_recipients WHERE workspace_id = ? GROUP BY status", ws.id)).map((x) => [x.status, Number(x.n)]),
    );
    out.ratios = ratios(out, opts.levels);
    if (relay.logs.errors.length) out.worker_errors = relay.logs.errors.slice(0, 3);
  } finally {
    await conn?.end().catch(() => {});
    await dispose(relay);
  }
  return out;
}

/** Top level over first level (accept p50, list p50) and top level over empty (scrape), against 1.5×. */
function ratios(out, levels) {
  const measured = out.levels.filter((l) => !l.skipped);
  const first = measured[0];
  const top = measured.at(-1);
  const asked = { base: levels[0], top: levels.at(-1) };
  const atTarget = asked.base === 10_000 && asked.top === 1_000_000 && top?.level === 1_000_000;
  // met is null (not judged) when either side had failed requests or scrapes.
  const r = (a, b, clean) => {
    const value = ratio(a, b);
    return { value, clean, met: Number.isFinite(value) && clean ? value <= TARGET : null };
  };
  if (!first || first === top) return { base: first?.level ?? null, top: top?.level ?? null, at_target_levels: false, incomplete: true };
  return {
    base: first.level,
    top: top.level,
    // The target is stated for 10k → 1M; other levels (a quick check) are reported, not judged as the target.
    at_target_levels: atTarget,
    accept_p50: r(top.accept.p50_ms.median, first.accept.p50_ms.median, top.accept.errors === 0 && first.accept.errors === 0),
    list_p50: r(top.list.p50_ms.median, first.list.p50_ms.median, top.list.errors === 0 && first.list.errors === 0),
    scrape: r(top.scrape_ms.median, out.empty.scrape_ms.median, top.scrape_ms.ok && out.empty.scrape_ms.ok),
  };
}

/** `n` sequential scrapes after one unmeasured: their median and spread (ms), every one answered 200. */
async function scrapeMetrics(url, token, n) {
  const headers = { authorization: `Bearer ${token}` };
  const first = await request(url, { headers });
  if (first.status !== 200) throw new Error(`GET /metrics: ${first.status} ${first.text.slice(0, 200)}`);
  const ms = [];
  let ok = true;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await request(url, { headers });
    ms.push(performance.now() - t);
    ok &&= res.status === 200;
    bytes = res.text.length;
  }
  return { ...summarize(ms), ok, bytes };
}

const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");

// ---- the history rows ------------------------------------------------------------------------
// Row n's recipient status, bounce and age come from n alone, in SQL both backends run (the same
// rows on both): per mille r = (n·2654435761 mod 1000003) mod 1000 → delivered 0–539, sent
// 540–899, bounced 900–949 (80% userunknown, 20% blocked), failed 950–979, suppressed 980–989,
// cancelled 990–999; age (n·2246822519) mod 30 days. The database makes each chunk's rows from a
// recursive CTE: two statements, messages then recipients (one transaction on MySQL).
const STATUS = (r) =>
  `CASE WHEN ${r} < 540 THEN 'delivered' WHEN ${r} < 900 THEN 'sent' WHEN ${r} < 950 THEN 'bounced' WHEN ${r} < 980 THEN 'failed' WHEN ${r} < 990 THEN 'suppressed' ELSE 'cancelled' END`;
const MSG_STATUS = (r) => `CASE WHEN ${r} < 900 THEN 'sent' WHEN ${r} < 990 THEN 'failed' ELSE 'cancelled' END`;
const BOUNCE_USER = JSON.stringify({ type: "hard", reason: "userunknown", cause: "recipient", status: "5.1.1", status_inferred: false, diagnostic: "550 5.1.1 <patient@example.net>: user unknown", remote_mta: "mx.example.net" });
const BOUNCE_BLOCKED = JSON.stringify({ type: "soft", reason: "blocked", cause: "sender", status: "5.7.1", status_inferred: false, diagnostic: "554 5.7.1 Service unavailable; client host blocked", remote_mta: "mx.example.net" });
// Only quotes are doubled (the values are ids and fixed JSON; a backslash would differ between the dialects).
const lit = (s) => {
  if (s.includes("\\")) throw new Error(`no backslashes in a seeded literal: ${s}`);
  return `'${s.replaceAll("'", "''")}'`;
};
const MSG_COLS = "id, workspace_id, source, message_id_header, from_email, envelope_from, to_emails, status, tags, metadata, body_enc, size_bytes, attempt_count, enqueued_at, queued_at, processed_at, updated_at";
const MR_COLS = "id, message_id, workspace_id, email, kind, status, provider_id, provider_message_id, last_error, attempts, sent_at, updated_at, bounce";

/** The two INSERT … SELECT statements of rows from..to in `dialect` ("sqlite" or "mysql"). */
export function historySql(dialect, ws, providerId, from, to, now) {
  const my = dialect === "mysql";
  const cat = (...parts) => (my ? `concat(${parts.join(", ")})` : parts.join(" || "));
  const pad = (prefix) => (my ? `concat('${prefix}', lpad(n, 10, '0'))` : `'${prefix}' || printf('%010d', n)`);
  const cte =
    `WITH RECURSIVE seq(n) AS (SELECT ${my ? `CAST(${from} AS SIGNED)` : from} UNION ALL SELECT n + 1 FROM seq WHERE n < ${to}), ` +
    `g AS (SELECT n, ((n * 2654435761) % 1000003) % 1000 AS r, ${now} - ((n * 2246822519) % ${SPAN_MS}) AS qa, ${pad("msg_growth")} AS id, ${cat("'patient'", "n", "'@example.net'")} AS email FROM seq) `;
  const W = lit(ws.id);
  const messages =
    `SELECT id, ${W}, 'api', ${cat("'<growth'", "n", `'@${ws.domain}>'`)}, 'noreply@${ws.domain}', 'noreply@${ws.domain}', json_array(email), ${MSG_STATUS("r")}, ` +
    `CASE WHEN r % 3 = 0 THEN '["results"]' ELSE '[]' END, json_object('seq', n), '${BODY}', 1200, CASE WHEN r < 990 THEN 1 ELSE 0 END, qa, qa, qa + 2000, qa + 2000 FROM g`;
  const recipients =
    `SELECT ${pad("mr_growth")}, id, ${W}, email, 'to', ${STATUS("r")}, CASE WHEN r < 990 THEN ${lit(providerId)} END, CASE WHEN r < 950 THEN ${cat("'<'", "n", `'.growth@mg.${ws.domain}>'`)} END, ` +
    `CASE WHEN r >= 900 AND r < 980 THEN 'permanent: 550 5.1.1 user unknown' END, CASE WHEN r < 990 THEN 1 ELSE 0 END, CASE WHEN r < 950 THEN qa + 2000 END, qa + 2000, ` +
    `CASE WHEN r >= 900 AND r < 940 THEN ${lit(BOUNCE_USER)} WHEN r >= 940 AND r < 950 THEN ${lit(BOUNCE_BLOCKED)} END FROM g`;
  // SQLite takes the CTE before INSERT; MySQL and MariaDB between INSERT and its SELECT.
  return my
    ? [`INSERT INTO messages (${MSG_COLS}) ${cte}${messages}`, `INSERT INTO message_recipients (${MR_COLS}) ${cte}${recipients}`]
    : [`${cte}INSERT INTO messages (${MSG_COLS}) ${messages}`, `${cte}INSERT INTO message_recipients (${MR_COLS}) ${recipients}`];
}

const CHUNK = 20_000;

/** D1: each statement through the bench Worker (relay.query). */
function d1Seeder(sql, ws, providerId) {
  return {
    chunk: CHUNK,
    async insert(from, to, now) {
      for (const stmt of historySql("sqlite", ws, providerId, from, to, now)) await sql(stmt);
    },
  };
}

/** MySQL: the same statements on a connection of this process, one transaction per chunk. */
async function mysqlSeeder(conn, ws, providerId) {
  // A chunk recurses CHUNK times: above both servers' defaults (MariaDB max_recursive_iterations, MySQL cte_max_recursion_depth).
  await conn.query(`SET SESSION max_recursive_iterations = ${CHUNK * 2}`).catch(() => conn.query(`SET SESSION cte_max_recursion_depth = ${CHUNK * 2}`));
  return {
    chunk: CHUNK,
    async insert(from, to, now) {
      await conn.query("START TRANSACTION");
      try {
        for (const stmt of historySql("mysql", ws, providerId, from, to, now)) await conn.query(stmt);
        await conn.query("COMMIT");
      } catch (e) {
        await conn.query("ROLLBACK").catch(() => {});
        // mysql2's error carries the whole statement; keep the message.
        throw new Error(`seeding rows ${from}..${to} on MySQL: ${e.sqlMessage ?? e.message}`);
      }
    },
  };
}

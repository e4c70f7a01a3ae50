// The store phase: the relay on D1 and on MySQL (a local MariaDB through the HYPERDRIVE binding),
// measured in the same run on the same machine, each beside its own bare write:
//   - accept: wrk against POST /v1/messages, no queue consumers, in rounds alternating with the
//     bare write of that backend. D1's bare write is the bench Worker's /write (the accept path's
//     own D1 batch inside workerd, bench/bare-worker.js). MySQL's is the same rows (a message and
//     its recipient) written in one transaction by mysql2 from this Node process, one connection
//     per load connection: the database's own floor, with no Worker, Hyperdrive or HTTP in front.
//   - end to end: N messages accepted at `connections` in flight and delivered to the Mailgun
//     simulator by the real consumer; throughput is N over first accept → last sent, latency each
//     message's queued_at → last recipient's sent_at (read with SQL both backends run).
import path from "node:path";
import { spawnSync } from "node:child_process";
import mysql from "mysql2/promise";
import { sendN, wrk } from "./load.mjs";
import { apiBody, bareBody, recipients } from "./messages.mjs";
import { BARE_HOST, seedWorkspaces, startRelay } from "./relay.mjs";
import { percentile, ratio, summarize } from "./stats.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MYSQL_SERVER = process.env.BENCH_MYSQL_URL ?? "mysql://relay:relay@127.0.0.1:3306/relay_bench";

/** A MySQL database of the bench's own, emptied and migrated; its URL (or null: no server). */
export async function benchDatabase(root, log) {
  const url = new URL(MYSQL_SERVER);
  const name = url.pathname.slice(1);
  if (!/^\w+_bench$/.test(name)) throw new Error(`refusing to empty ${name}: the bench database's name must end in _bench`);
  const admin = new URL(url);
  admin.pathname = "/";
  let conn;
  try {
    conn = await mysql.createConnection({ uri: admin.toString(), connectTimeout: 3000 });
  } catch (e) {
    log(`  store phase: no MySQL server at ${url.host} (${e.code ?? e.message}); start one with \`npm run mysql:local\``);
    return null;
  }
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } catch (e) {
    throw new Error(`the bench database ${name}: ${e.message} (scripts/mysql-local.mjs grants the relay user every *_bench database)`, { cause: e });
  } finally {
    await conn.end();
  }
  const r = spawnSync(process.execPath, [path.join(root, "scripts", "mysql-migrate.mjs"), url.toString()], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mysql-migrate failed:\n${r.stdout}\n${r.stderr}`);
  return url.toString();
}

/** Fills results.store: per backend its accept beside its bare write, and its end to end. */
export async function storePhase(ctx) {
  const { root, log, elapsed, results } = ctx;
  log(`bench: store phase (D1 beside MySQL) [${elapsed()}]`);
  const mysqlUrl = await benchDatabase(root, log);
  const store = { note: "MySQL is a local MariaDB reached through Miniflare's Hyperdrive binding (a plain TCP proxy locally: no pooling or caching as deployed Hyperdrive does)." };
  store.d1 = await backend(ctx, "d1", null);
  if (mysqlUrl) store.mysql = await backend(ctx, "mysql", mysqlUrl);
  else store.mysql = { skipped: "no MySQL server" };
  if (store.mysql.accept && store.d1.accept) {
    store.mysql_to_d1 = {
      accept_rps: ratio(store.mysql.accept.rps.median, store.d1.accept.rps.median),
      accept_p99: ratio(store.mysql.accept.p99_ms.median, store.d1.accept.p99_ms.median),
      e2e_msgs_per_s: ratio(store.mysql.e2e.msgs_per_s, store.d1.e2e.msgs_per_s),
      e2e_p99: ratio(store.mysql.e2e.p99_ms, store.d1.e2e.p99_ms),
    };
  }
  results.store = store;
}

async function backend(ctx, kind, mysqlUrl) {
  const { root, tmp, outdir, settings, log, wrkBin, simInfo, opened, dispose } = ctx;
  const { runs_a: RUNS, seconds: SECONDS, connections: CONNECTIONS, e2e_n: N } = settings;
  const vars = { STORE: kind, OUTBOX_GRACE_SECONDS: "86400" };
  const out = { store: kind };

  // ---- accept beside the bare write -------------------------------------------------------
  const relay = await startRelay({ root, outdir, stateDir: path.join(tmp, `store-${kind}-a`), consumers: false, simInfo, extraVars: vars, mysqlUrl });
  opened(relay);
  try {
    const [ws] = await seedWorkspaces(relay, simInfo, 1, kind === "d1" ? 100 : 200);
    const accept = { url: `${relay.url}/v1/messages`, method: "POST", headers: { authorization: `Bearer ${ws.key}`, "content-type": "application/json" }, body: apiBody(ws, ["patient@example.net"]) };
    const bareD1 = { url: `${relay.url}/write`, method: "POST", headers: { Host: BARE_HOST, "content-type": "application/json" }, body: bareBody(ws, ["patient@example.net"]) };
    const bare = (seconds) => (kind === "d1" ? wrk({ bin: wrkBin, ...bareD1, connections: CONNECTIONS, seconds, tmpDir: tmp, name: "store-bare" }) : mysqlBareWrite(mysqlUrl, ws, seconds, CONNECTIONS));
    await wrk({ bin: wrkBin, ...accept, connections: CONNECTIONS, seconds: 1, tmpDir: tmp, name: "store-accept-warm" });
    await bare(1);
    const raw = { accept: [], bare_write: [] };
    for (let round = 0; round < RUNS; round++) {
      raw.accept.push(await wrk({ bin: wrkBin, ...accept, connections: CONNECTIONS, seconds: SECONDS, tmpDir: tmp, name: "store-accept" }));
      raw.bare_write.push(await bare(SECONDS));
      const a = raw.accept.at(-1);
      const b = raw.bare_write.at(-1);
      log(`  ${kind.padEnd(5)} round ${round + 1}: accept ${a.rps.toFixed(0)} req/s p99 ${a.p99_ms.toFixed(1)} ms (errors ${a.errors}) | bare write ${b.rps.toFixed(0)} /s p99 ${b.p99_ms.toFixed(1)} ms (errors ${b.errors})`);
    }
    const sum = (name, key) => summarize(raw[name].map((r) => r[key]));
    out.accept = { rps: sum("accept", "rps"), p50_ms: sum("accept", "p50_ms"), p99_ms: sum("accept", "p99_ms"), errors: raw.accept.reduce((n, r) => n + r.errors, 0) };
    out.bare_write = { rps: sum("bare_write", "rps"), p50_ms: sum("bare_write", "p50_ms"), p99_ms: sum("bare_write", "p99_ms"), errors: raw.bare_write.reduce((n, r) => n + r.errors, 0) };
    out.accept.rps_ratio_to_bare = summarize(raw.accept.map((a, i) => ratio(a.rps, raw.bare_write[i].rps)));
    out.accept.p99_ratio_to_bare = summarize(raw.accept.map((a, i) => ratio(a.p99_ms, raw.bare_write[i].p99_ms)));
  } finally {
    await dispose(relay);
  }

  // ---- end to end --------------------------------------------------------------------------
  const relayB = await startRelay({ root, outdir, stateDir: path.join(tmp, `store-${kind}-b`), consumers: true, simInfo, extraVars: vars, mysqlUrl });
  opened(relayB);
  const sql = kind === "d1" ? (q, ...p) => relayB.query(q, ...p) : await mysqlQuery(mysqlUrl);
  try {
    const [ws] = await seedWorkspaces(relayB, simInfo, 1, kind === "d1" ? 110 : 210);
    await ctx.simReset();
    const send = await sendN(N, CONNECTIONS, (i) => ({
      url: `${relayB.url}/v1/messages`,
      init: { method: "POST", headers: { authorization: `Bearer ${ws.key}`, "content-type": "application/json" }, body: apiBody(ws, recipients(1, `s${i}`)) },
    }));
    const accepted = N - send.failures.length;
    const deadline = Date.now() + 120_000;
    let sent = 0;
    while (Date.now() < deadline) {
      sent = Number((await sql("SELECT count(*) AS c FROM messages WHERE workspace_id = ? AND status = 'sent'", ws.id))[0].c);
      if (sent >= accepted) break;
      await sleep(200);
    }
    const rows = await sql(
      "SELECT m.queued_at AS q, max(coalesce(r.sent_at, m.updated_at)) AS s FROM messages m JOIN message_recipients r ON r.message_id = m.id WHERE m.workspace_id = ? AND m.status = 'sent' GROUP BY m.id, m.queued_at",
      ws.id,
    );
    const lat = rows.map((r) => Number(r.s) - Number(r.q));
    const first = Math.min(...rows.map((r) => Number(r.q)));
    const last = Math.max(...rows.map((r) => Number(r.s)));
    out.e2e = { n: N, accepted, sent, accept_failures: send.failures.slice(0, 3), msgs_per_s: sent / Math.max(0.001, (last - first) / 1000), p50_ms: percentile(lat, 50), p99_ms: percentile(lat, 99) };
    log(`  ${kind.padEnd(5)} end to end: ${out.e2e.sent}/${N} sent, ${out.e2e.msgs_per_s.toFixed(0)} msg/s, p50 ${out.e2e.p50_ms} ms p99 ${out.e2e.p99_ms} ms`);
  } finally {
    await sql.end?.();
    await dispose(relayB);
  }
  return out;
}

/** SELECTs on the bench database from Node (the end-to-end run's polling on MySQL). */
async function mysqlQuery(url) {
  const conn = await mysql.createConnection({ uri: url });
  const q = async (text, ...params) => (await conn.query(text, params))[0];
  q.end = () => conn.end();
  return q;
}

/**
 * The bare durable write on MySQL: a message row and its recipient row in one transaction, the
 * columns accept writes, at `connections` connections for `seconds`. Same result shape as wrk's.
 */
async function mysqlBareWrite(url, ws, seconds, connections) {
  const conns = await Promise.all(Array.from({ length: connections }, () => mysql.createConnection({ uri: url })));
  const latencies = [];
  let errors = 0;
  let seq = 0;
  const body = bareBody(ws, ["patient@example.net"]);
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    conns.map(async (c) => {
      while (performance.now() < end) {
        const t = performance.now();
        const id = `msg_bare${process.pid}x${seq++}x${Math.random().toString(36).slice(2, 10)}`;
        const now = Date.now();
        try {
          await c.query("START TRANSACTION");
          await c.query(
            "INSERT INTO messages (id, workspace_id, source, message_id_header, from_email, envelope_from, to_emails, status, tags, metadata, body_enc, size_bytes, enqueued_at, queued_at, updated_at) VALUES (?, ?, 'api', ?, ?, ?, ?, 'queued', '[]', '{}', ?, ?, ?, ?, ?)",
            [id, ws.id, `<${id}@${ws.domain}>`, `noreply@${ws.domain}`, `noreply@${ws.domain}`, JSON.stringify(["patient@example.net"]), body, body.length, now, now, now],
          );
          await c.query("INSERT INTO message_recipients (id, message_id, workspace_id, email, kind, updated_at) VALUES (?, ?, ?, 'patient@example.net', 'to', ?)", [`mr_${id.slice(4)}`, id, ws.id, now]);
          await c.query("COMMIT");
          latencies.push(performance.now() - t);
        } catch {
          errors++;
          await c.query("ROLLBACK").catch(() => {});
        }
      }
    }),
  );
  const duration = (performance.now() - started) / 1000;
  await Promise.all(conns.map((c) => c.end().catch(() => {})));
  return { rps: latencies.length / duration, p50_ms: percentile(latencies, 50), p90_ms: percentile(latencies, 90), p99_ms: percentile(latencies, 99), requests: latencies.length + errors, ok: latencies.length, errors };
}

// The relay under test: the Worker bundled exactly as deployed (`wrangler deploy --dry-run
// --outdir`), run by Miniflare directly from this process (no `wrangler dev` proxy), with the
// bindings read from wrangler.toml, D1 migrations applied, and the bench-only Worker beside it
// on the same D1 database.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { buildSync } from "esbuild";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { request } from "./load.mjs";
import { start } from "./procs.mjs";
import { unstable_readConfig } from "wrangler";

export const BARE_HOST = "bare.bench.internal";
const UNLIMITED_GLOBAL = { GLOBAL_DAILY_LIMIT: "100000000", GLOBAL_HOURLY_LIMIT: "100000000", GLOBAL_BURST_PER_SECOND: "1000000" };

export function build(root, outdir) {
  const r = spawnSync(path.join(root, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (r.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${r.stdout}\n${r.stderr}`);
  // index.js is what every isolate loads; vendor/*.js are the lazily imported modules
  // (wrangler.toml find_additional_modules), uploaded beside it and loaded on first use.
  const files = readdirSync(outdir, { recursive: true }).filter((f) => /\.(m?js|wasm)$/.test(f));
  const sizes = files.map((f) => {
    const bytes = readFileSync(path.join(outdir, f));
    return { file: f, raw_bytes: bytes.length, gzip_bytes: gzipSync(bytes, { level: 9 }).length };
  });
  const main = sizes.find((s) => s.file === "index.js");
  const sum = (k) => sizes.reduce((a, s) => a + s[k], 0);
  buildBare(root, outdir);
  return {
    raw_bytes: main.raw_bytes,
    gzip_bytes: main.gzip_bytes,
    total_raw_bytes: sum("raw_bytes"),
    total_gzip_bytes: sum("gzip_bytes"),
    modules: sizes,
    wrangler_summary: /Total Upload: ([^\n]*)/.exec(r.stdout)?.[1]?.trim() ?? null,
  };
}

/**
 * The bench-only Worker (bench/bare-worker.js) into `outdir`/bench-bare-worker.js. Bundled, not
 * copied: it calls the relay's own insertMessage so its D1 batch is the accept path's.
 */
export function buildBare(root, outdir) {
  bundleBenchWorker(path.join(root, "bench", "bare-worker.js"), path.join(outdir, "bench-bare-worker.js"));
}

/** A bench-only Worker bundled as workerd loads it (the bare write, the DLP scan). */
export function bundleBenchWorker(entry, outfile) {
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "import"],
    logLevel: "error",
  });
}

/** Start-up CPU from `wrangler check startup` (its cpuprofile: every sample that is not idle). */
export function startupCpu(root, outdir, tmpDir, i) {
  const file = path.join(tmpDir, `startup-${i}.cpuprofile`);
  const r = spawnSync(
    path.join(root, "node_modules", ".bin", "wrangler"),
    ["check", "startup", "--outfile", file],
    { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
  );
  if (r.status !== 0) throw new Error(`wrangler check startup failed:\n${r.stdout}\n${r.stderr}`);
  const prof = JSON.parse(readFileSync(file, "utf8"));
  const idle = new Set(prof.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  let busy = 0;
  prof.timeDeltas.forEach((d, k) => {
    if (!idle.has(prof.samples[k])) busy += d;
  });
  return { busy_ms: busy / 1000, span_ms: (prof.endTime - prof.startTime) / 1000 };
}

/**
 * The provider simulators (test/simulators, plain: no TLS) as a child process; `value` is their info.
 * `args`: more command-line options for test/simulators/main.ts (the chaos suite passes `--seed`).
 */
export function startSimulators(root, args = []) {
  return start("simulators", path.join(root, "node_modules", ".bin", "tsx"), [path.join(root, "test", "simulators", "main.ts"), "--no-tls", ...args], {
    cwd: root,
    ready: (out) => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      return line ? JSON.parse(line) : null;
    },
  });
}

export const VARIANT_HOST = "variant.bench.internal";
export const PRIMARY_HOST = "relay.bench.internal";

/**
 * `variantOutdir` (bench/ab.mjs): a second build of the relay, run beside the first in the same
 * Miniflare on the same D1 database, reached with `Host: VARIANT_HOST`. It has its own Durable
 * Objects and no queue consumers (two Workers cannot consume one queue).
 */
export async function startRelay({ root, outdir, stateDir, consumers, extraVars = {}, simInfo, inspectorPort, variantOutdir, mysqlUrl }) {
  const cfg = unstable_readConfig({ config: path.join(root, "wrangler.toml") });
  const adminToken = `bench-admin-${randomBytes(12).toString("hex")}`;
  const dataKeys = JSON.stringify({ [cfg.vars.DATA_KEY_ID ?? "k1"]: randomBytes(32).toString("base64") });
  const queueConsumer = (c) => ({
    maxBatchSize: c.max_batch_size,
    maxBatchTimeout: c.max_batch_timeout,
    ...(c.max_retries !== undefined ? { maxRetries: c.max_retries } : {}),
    ...(c.dead_letter_queue ? { deadLetterQueue: c.dead_letter_queue } : {}),
  });
  const relayConsumer = cfg.queues.consumers.find((c) => c.queue === cfg.queues.producers[0].queue);
  // index.js plus the lazily imported vendor/*.js modules (Miniflare does not follow dynamic
  // imports on its own; wrangler uploads them as additional modules).
  const modulesOf = (dir) => [
    { type: "ESModule", path: path.join(dir, "index.js") },
    ...readdirSync(path.join(dir, "vendor"), { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".js"))
      .map((e) => ({ type: "ESModule", path: path.join(dir, "vendor", e.name) })),
  ];
  const relay = {
    name: cfg.name,
    modulesRoot: outdir,
    modules: modulesOf(outdir),
    compatibilityDate: cfg.compatibility_date,
    compatibilityFlags: cfg.compatibility_flags,
    // Global limits lifted: the bench measures the limiter's work, not its refusals or deferrals.
    bindings: { ...cfg.vars, ...UNLIMITED_GLOBAL, ...extraVars, ADMIN_TOKEN: adminToken, DATA_KEYS: dataKeys },
    d1Databases: Object.fromEntries(cfg.d1_databases.map((d) => [d.binding, d.database_id])),
    r2Buckets: Object.fromEntries(cfg.r2_buckets.map((b) => [b.binding, b.bucket_name])),
    queueProducers: Object.fromEntries(cfg.queues.producers.map((p) => [p.binding, { queueName: p.queue }])),
    queueConsumers: consumers ? Object.fromEntries(cfg.queues.consumers.map((c) => [c.queue, queueConsumer(c)])) : {},
    durableObjects: Object.fromEntries(cfg.durable_objects.bindings.map((b) => [b.name, { className: b.class_name, useSQLite: true }])),
    // The MySQL store (bench/lib/store-phase.mjs): the HYPERDRIVE binding to a local server.
    ...(mysqlUrl ? { hyperdrives: { HYPERDRIVE: mysqlUrl } } : {}),
  };
  const bare = {
    name: "bench-bare",
    rootPath: outdir,
    modules: true,
    scriptPath: "bench-bare-worker.js",
    compatibilityDate: cfg.compatibility_date,
    routes: [`${BARE_HOST}/*`],
    bindings: { MAILGUN_BASE_URL: simInfo.mailgun.baseUrl, MAILGUN_API_KEY: simInfo.mailgun.apiKey, MAILGUN_DOMAIN: "min.bench.example" },
    d1Databases: relay.d1Databases,
    queueProducers: { BARE_QUEUE: { queueName: "bench-bare" } },
    // The relay's own limiter class, for the limiter-decision benchmark.
    durableObjects: { WORKSPACE_LIMITER: { className: "WorkspaceLimiter", scriptName: cfg.name, useSQLite: true } },
    // the minimal consumer runs with the relay's own queue settings
    queueConsumers: consumers ? { "bench-bare": queueConsumer(relayConsumer) } : {},
  };
  // The Workers' console output (the relay logs every request) is counted, not printed; the
  // first errors are kept for the report.
  const logs = { lines: 0, errors: [] };
  const handleStructuredLogs = ({ level, message }) => {
    logs.lines++;
    // Errors, and warnings from the runtime itself (not JSON lines: e.g. a promise settled from another request's context).
    const runtimeWarning = level === "warn" && !String(message).startsWith("{");
    if ((level === "error" || runtimeWarning || /"level":"error"/.test(message)) && logs.errors.length < 10) logs.errors.push(String(message).slice(0, 500));
  };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      resourcePersistencePath: stateDir,
      host: "127.0.0.1",
      port: 0,
      handleStructuredLogs,
      ...(inspectorPort ? { inspectorPort } : {}),
      workers: [
        // With a variant, both builds are reached by name, so neither is only the fallback.
        variantOutdir ? { ...relay, routes: [`${PRIMARY_HOST}/*`] } : relay,
        bare,
        ...(variantOutdir
          ? [{ ...relay, name: `${cfg.name}-variant`, modulesRoot: variantOutdir, modules: modulesOf(variantOutdir), routes: [`${VARIANT_HOST}/*`], queueConsumers: {} }]
          : []),
      ],
    }),
  );
  const url = (await mf.ready).href.replace(/\/$/, "");
  const db = await mf.getD1Database(cfg.d1_databases[0].binding);
  await applyMigrations(db, path.join(root, cfg.d1_databases[0].migrations_dir ?? "migrations"));
  // Polling while load runs goes over HTTP to the bench Worker, never through `db`: Miniflare's
  // binding proxy makes some calls synchronously (the Node thread blocks until workerd answers),
  // and if workerd is meanwhile blocked writing a burst of logs to that same Node process's
  // stdout, neither side ever moves again (seen with 50-job batches of 3-recipient messages).
  const query = async (sql, ...params) => {
    const res = await request(`${url}/query`, { method: "POST", headers: { host: BARE_HOST, "content-type": "application/json" }, body: JSON.stringify({ sql, params }) });
    if (res.status !== 200) throw new Error(`bench query failed: ${res.status} ${res.text}`);
    return JSON.parse(res.text);
  };
  return { mf, url, db, query, adminToken, logs };
}

async function applyMigrations(db, dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql") && statSync(path.join(dir, f)).isFile()).sort();
  for (const f of files) {
    const stmts = readFileSync(path.join(dir, f), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch(stmts.map((s) => db.prepare(s)));
  }
}

async function call(base, method, pathname, token, body) {
  const res = await fetch(base + pathname, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/**
 * Workspaces bench0..bench{n-1}: a verified domain, an API key, a provider pointed at the
 * simulators: Mailgun, or ("smtp") the SMTP sink over plain SMTP on loopback.
 */
export async function seedWorkspaces(relay, simInfo, n, from = 0, provider = "mailgun") {
  const out = [];
  for (let i = from; i < from + n; i++) {
    const domain = `bench${i}.example`;
    const ws = await call(relay.url, "POST", "/v1/workspaces", relay.adminToken, { slug: `bench${i}`, display_name: `Bench ${i}` });
    await call(relay.url, "POST", `/v1/workspaces/${ws.id}/domains`, relay.adminToken, { domain, verified: true });
    const key = await call(relay.url, "POST", `/v1/workspaces/${ws.id}/api-keys`, relay.adminToken, { name: "bench", scopes: ["send", "read", "admin"] });
    // Workspace and user limits lifted the same way (they are still checked on every message).
    await call(relay.url, "PATCH", "/v1/workspace", key.key, { limits: { daily: 100_000_000, user_daily: 100_000_000 } });
    const mailgunDomain = `mg.bench${i}.example`;
    await call(
      relay.url,
      "POST",
      "/v1/providers",
      key.key,
      provider === "smtp"
        ? { name: "smtp sink", type: "smtp", config: { host: "127.0.0.1", port: simInfo.smtp.port, security: "none", verp: false } }
        : {
            name: "mailgun simulator",
            type: "mailgun",
            config: { domain: mailgunDomain, base_url: simInfo.mailgun.baseUrl },
            credentials: { api_key: simInfo.mailgun.apiKey },
          },
    );
    out.push({ id: ws.id, key: key.key, domain, mailgunDomain });
  }
  return out;
}

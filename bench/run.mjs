// `npm run bench`: how fast and how costly the relay is, each figure beside a baseline measured
// in the same run. Drives the Worker through Miniflare directly (see bench/lib/relay.mjs), the
// provider simulators on loopback, wrk and Postfix's smtp-source/smtp-sink as load. Writes
// bench/results/latest.json and latest.md and prints the table.
//
// Knobs (environment): BENCH_RUNS (5) rounds of end to end and SMTP, BENCH_RUNS_A (5) rounds of
// baselines + accept, BENCH_SECONDS (4) per wrk run, BENCH_CONNECTIONS (50), BENCH_E2E_N (600) messages per end-to-end run, BENCH_SCALE_N (300),
// BENCH_SMTP_N (600) messages per smtp-source run.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { cpuMs, peakRssMiB, workerdPids } from "./lib/proc.mjs";
import { benchRoot, freePort, runToEnd, start, stop, stopAll, waitForPort } from "./lib/procs.mjs";
import { sendN, wrk } from "./lib/load.mjs";
import { BARE_HOST, build, seedWorkspaces, startRelay, startSimulators, startupCpu } from "./lib/relay.mjs";
import { median, percentile, ratio, summarize } from "./lib/stats.mjs";
import { ensurePostfixTools, ensureWrk } from "./lib/tools.mjs";
import { renderMarkdown } from "./lib/report.mjs";
import { profileIsolate, watchHeap } from "./lib/inspect.mjs";

const root = benchRoot();
const num = (name, dflt) => Number(process.env[name] ?? dflt);
const RUNS = num("BENCH_RUNS", 5);
const RUNS_A = num("BENCH_RUNS_A", 5);
const SECONDS = num("BENCH_SECONDS", 4);
const CONNECTIONS = num("BENCH_CONNECTIONS", 50);
const E2E_N = num("BENCH_E2E_N", 600);
const SCALE_N = num("BENCH_SCALE_N", 300);
const SMTP_N = num("BENCH_SMTP_N", 600);
const tmp = mkdtempSync(path.join(os.tmpdir(), "relay-bench-"));
const log = (...a) => console.log(...a);
const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)}s`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const results = {
  started_at: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? "", node: process.version, loadavg_at_start: os.loadavg() },
  commit: spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout?.trim() || null,
  worktree_clean: spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).stdout?.trim() === "",
  settings: { runs: RUNS, runs_a: RUNS_A, seconds: SECONDS, connections: CONNECTIONS, e2e_n: E2E_N, scale_n: SCALE_N, smtp_n: SMTP_N },
  notes: [
    "Miniflare's queue broker hands a consumer one batch at a time (the next flush waits for the previous batch), so end-to-end msg/s here is batch size / batch duration; production Queues run consumer invocations concurrently. The ratio to the minimal consumer, which runs under the same broker and batch settings, is the comparable figure.",
    "workerd process CPU includes Miniflare's local D1, Queues, R2 and routing workers, which a deployed Worker is not billed for; the minimal consumer's figure under the same accounting is the floor. Profiles are V8 CPU profiles of one isolate over the inspector during separate, unmeasured runs; their samples are wall-clock, so under CPU contention they show shares, not CPU milliseconds.",
    "smtp-source cannot AUTH: bench/smtp-auth-proxy.mjs authenticates each session to the bridge and pipes bytes after EHLO; the smtp-sink path has no proxy.",
  ],
};

let relayA = null;
let relayB = null;
let cleanupDone = false;
async function cleanup() {
  if (cleanupDone) return;
  cleanupDone = true;
  stopAll();
  await relayA?.mf.dispose().catch(() => {});
  await relayB?.mf.dispose().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
}
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

const mime = (from, to, subject, text) =>
  `From: <${from}>\r\nTo: ${to.map((t) => `<${t}>`).join(", ")}\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`;
const TEXT = "Your lab results are ready. Sign in to the patient portal to read them.\n".repeat(4);
const recipients = (n, tag) => Array.from({ length: n }, (_, i) => `${tag}-${i}@example.net`);
const apiBody = (ws, to) => JSON.stringify({ from: `noreply@${ws.domain}`, to, subject: "Your results", text: TEXT });
const bareBody = (ws, to) => JSON.stringify({ workspace_id: ws.id, domain: ws.domain, from: `noreply@${ws.domain}`, to, body: mime(`noreply@${ws.domain}`, to, "Your results", TEXT) });

async function main() {
  // ---- tools, build, bundle, start-up -------------------------------------------------------
  const wrkBin = ensureWrk(log);
  const postfix = ensurePostfixTools(path.join(root, "bench", ".tools"), log);
  log(`bench: building the Worker (wrangler deploy --dry-run) [${elapsed()}]`);
  const outdir = path.join(tmp, "dist");
  results.bundle = build(root, outdir);
  const startups = [];
  for (let i = 0; i < 3; i++) startups.push(startupCpu(root, outdir, tmp, i));
  results.startup = { busy_ms: summarize(startups.map((s) => s.busy_ms)), span_ms: summarize(startups.map((s) => s.span_ms)) };

  // ---- simulators ----------------------------------------------------------------------------
  const sims = await startSimulators(root);
  const simInfo = sims.value;
  const simReset = () => fetch(`${simInfo.httpUrl}/__sim/reset`, { method: "POST" }).then((r) => r.text());

  // ---- phase A: no queue consumers, so accept is measured alone ---------------------------------
  log(`bench: phase A (baselines, accept, SMTP) [${elapsed()}]`);
  const inspectorA = await freePort();
  // The outbox sweep would start re-enqueueing phase A's never-delivered messages a minute in,
  // work in the middle of later rounds that no round asked for: its grace is set past the phase.
  relayA = await startRelay({
    root,
    outdir,
    stateDir: path.join(tmp, "state-a"),
    consumers: false,
    simInfo,
    inspectorPort: inspectorA,
    extraVars: { OUTBOX_GRACE_SECONDS: "86400" },
  });
  const [wsA] = await seedWorkspaces(relayA, simInfo, 1);
  let pidsA = workerdPids();
  const auth = { authorization: `Bearer ${wsA.key}`, "content-type": "application/json" };
  const scenarios = {
    trivial: { url: `${relayA.url}/health`, method: "GET" },
    bare_write: { url: `http://${BARE_HOST}/write`, method: "POST", headers: { "content-type": "application/json" }, body: bareBody(wsA, ["patient@example.net"]) },
    accept: { url: `${relayA.url}/v1/messages`, method: "POST", headers: auth, body: apiBody(wsA, ["patient@example.net"]) },
    limiter_one: { url: `http://${BARE_HOST}/limiter?ws=bench-one`, method: "GET" },
    limiter_many: { url: `http://${BARE_HOST}/limiter`, method: "GET" },
  };
  const raw = { trivial: [], bare_write: [], accept: [], limiter_one: [], limiter_many: [] };
  for (const [name, s] of Object.entries(scenarios)) {
    // warm-up: JIT, D1 pages, connection pools
    await wrk({ bin: wrkBin, ...wrkTarget(s, relayA.url), connections: CONNECTIONS, seconds: 1, tmpDir: tmp, name: `${name}-warm` });
  }
  for (let round = 0; round < RUNS_A; round++) {
    for (const [name, s] of Object.entries(scenarios)) {
      const c0 = cpuMs(pidsA);
      const r = await wrk({ bin: wrkBin, ...wrkTarget(s, relayA.url), connections: CONNECTIONS, seconds: SECONDS, tmpDir: tmp, name });
      r.cpu_ms_per_request = (cpuMs(pidsA) - c0) / Math.max(1, r.requests);
      raw[name].push(r);
      log(`  ${name.padEnd(10)} round ${round + 1}: ${r.rps.toFixed(0)} req/s p50 ${r.p50_ms.toFixed(1)} ms p99 ${r.p99_ms.toFixed(1)} ms errors ${r.errors} cpu ${r.cpu_ms_per_request.toFixed(2)} ms/req`);
    }
  }
  const sum = (name, key) => summarize(raw[name].map((r) => r[key]));
  results.baselines = {
    trivial: { rps: sum("trivial", "rps"), p50_ms: sum("trivial", "p50_ms"), p99_ms: sum("trivial", "p99_ms"), errors: raw.trivial.reduce((a, r) => a + r.errors, 0) },
    bare_write: {
      rps: sum("bare_write", "rps"),
      p50_ms: sum("bare_write", "p50_ms"),
      p99_ms: sum("bare_write", "p99_ms"),
      cpu_ms_per_request: sum("bare_write", "cpu_ms_per_request"),
      errors: raw.bare_write.reduce((a, r) => a + r.errors, 0),
    },
  };
  // Ratios pair each accept round with the bare write measured next to it.
  const pairRatios = (key) => raw.accept.map((a, i) => ratio(a[key], raw.bare_write[i][key]));
  results.accept = {
    connections: CONNECTIONS,
    rps: sum("accept", "rps"),
    p50_ms: sum("accept", "p50_ms"),
    p99_ms: sum("accept", "p99_ms"),
    cpu_ms_per_request: sum("accept", "cpu_ms_per_request"),
    errors: raw.accept.reduce((a, r) => a + r.errors, 0),
    rps_ratio_to_bare: summarize(pairRatios("rps")),
    p99_ratio_to_bare: summarize(pairRatios("p99_ms")),
  };
  // Limiter decisions per second (one workspace's object, and a new object per request), and
  // what one decision adds to a request: its p50 beside the trivial route's, same run.
  results.limiter = {
    one_workspace_rps: sum("limiter_one", "rps"),
    many_workspaces_rps: sum("limiter_many", "rps"),
    one_workspace_p50_ms: sum("limiter_one", "p50_ms"),
    added_p50_ms: summarize(raw.limiter_one.map((l, i) => l.p50_ms - raw.trivial[i].p50_ms)),
  };
  results.raw = raw;
  // Where the time goes, in each isolate (separate runs: profiling slows them a little).
  results.profiles = {};
  for (const [name, target] of [["accept", "core:user:relay"], ["bare_write", "core:user:bench-bare"]]) {
    const p = await profileIsolate(inspectorA, target, () =>
      wrk({ bin: wrkBin, ...wrkTarget(scenarios[name], relayA.url), connections: CONNECTIONS, seconds: 3, tmpDir: tmp, name: `${name}-prof` }),
    );
    results.profiles[name] = { busy_wall_ms_per_request: p.busy_ms / Math.max(1, p.value.requests), requests: p.value.requests, top_self: p.top_self, top_inclusive: p.top_inclusive };
  }

  // ---- SMTP: smtp-source → bridge → relay, beside smtp-source → smtp-sink -----------------------
  log(`bench: SMTP [${elapsed()}]`);
  try {
    results.smtp = await smtpSection(postfix, wsA, relayA);
  } catch (e) {
    results.smtp = { error: String(e?.message ?? e).slice(0, 2000) };
    log(`  SMTP section failed: ${results.smtp.error}`);
  }
  pidsA = workerdPids();
  results.phase_a_peak_rss_mib = peakRssMiB(pidsA);
  results.worker_logs = { phase_a: relayA.logs };
  await relayA.mf.dispose();
  relayA = null;

  // ---- phase B: consumers on; end to end, cost, scaling -----------------------------------------
  log(`bench: phase B (end to end, cost, scaling) [${elapsed()}]`);
  const inspectorB = await freePort();
  relayB = await startRelay({ root, outdir, stateDir: path.join(tmp, "state-b"), consumers: true, simInfo, inspectorPort: inspectorB });
  const wsB = await seedWorkspaces(relayB, simInfo, 100);
  const pidsB = workerdPids();
  const e2eRaw = { minimal: [], relay: [] };
  // warm-up both paths
  await endToEnd(relayB, pidsB, "minimal", [wsB[0]], 1, 100, simReset);
  await endToEnd(relayB, pidsB, "relay", [wsB[0]], 1, 100, simReset);
  for (let round = 0; round < RUNS; round++) {
    for (const kind of ["minimal", "relay"]) {
      const h = await watchHeap(inspectorB, ISOLATE[kind], () => endToEnd(relayB, pidsB, kind, [wsB[0]], 1, E2E_N, simReset));
      const r = { ...h.value, heap_peak_used_mib: h.peak_used_mib };
      e2eRaw[kind].push(r);
      log(`  e2e ${kind.padEnd(8)} round ${round + 1}: ${r.msgs_per_s.toFixed(0)} msg/s, accept→sent p50 ${r.p50_ms.toFixed(0)} ms p99 ${r.p99_ms.toFixed(0)} ms, ${r.cpu_ms_per_msg.toFixed(2)} CPU ms/msg (accept ${r.accept_cpu_ms_per_msg.toFixed(2)}, delivery ${r.delivery_cpu_ms_per_msg.toFixed(2)} over a tail of ${r.tail_msgs}), ${r.sent}/${r.n} sent`);
    }
  }
  const esum = (kind, key) => summarize(e2eRaw[kind].map((r) => r[key]));
  results.end_to_end = {
    n: E2E_N,
    relay: { msgs_per_s: esum("relay", "msgs_per_s"), p50_ms: esum("relay", "p50_ms"), p99_ms: esum("relay", "p99_ms"), cpu_ms_per_msg: esum("relay", "cpu_ms_per_msg") },
    minimal: { msgs_per_s: esum("minimal", "msgs_per_s"), p50_ms: esum("minimal", "p50_ms"), p99_ms: esum("minimal", "p99_ms"), cpu_ms_per_msg: esum("minimal", "cpu_ms_per_msg") },
    split: Object.fromEntries(
      ["relay", "minimal"].map((k) => [k, { accept_cpu_ms_per_msg: esum(k, "accept_cpu_ms_per_msg"), delivery_cpu_ms_per_msg: esum(k, "delivery_cpu_ms_per_msg"), tail_msgs: esum(k, "tail_msgs") }]),
    ),
    ratio_to_minimal: summarize(e2eRaw.relay.map((r, i) => ratio(r.msgs_per_s, e2eRaw.minimal[i].msgs_per_s))),
    raw: e2eRaw,
  };

  for (const [kind, target] of [["relay", "core:user:relay"], ["minimal", "core:user:bench-bare"]]) {
    const p = await profileIsolate(inspectorB, target, () => endToEnd(relayB, pidsB, kind, [wsB[0]], 1, SCALE_N, simReset));
    results.profiles[`e2e_${kind}`] = { busy_wall_ms_per_msg: p.busy_ms / Math.max(1, p.value.sent), sent: p.value.sent, top_self: p.top_self, top_inclusive: p.top_inclusive };
  }

  // The same path through the SMTP smarthost provider (the simulators' sink, plain SMTP on
  // loopback): a batch's messages share up to max_connections sessions, so the sink sees far
  // fewer connections than messages.
  log(`bench: SMTP smarthost provider [${elapsed()}]`);
  const [wsSmtp] = await seedWorkspaces(relayB, simInfo, 1, 100, "smtp");
  await endToEnd(relayB, pidsB, "relay", [wsSmtp], 1, 100, simReset);
  const smtpRaw = [];
  for (let round = 0; round < Math.min(RUNS, 3); round++) {
    const r = await endToEnd(relayB, pidsB, "relay", [wsSmtp], 1, SCALE_N, simReset);
    const received = await (await fetch(`${simInfo.httpUrl}/__sim/received?kind=smtp`)).json();
    r.sink_messages = received.length;
    r.sink_sessions = new Set(received.map((m) => m.session)).size;
    smtpRaw.push(r);
    log(`  smtp provider round ${round + 1}: ${r.msgs_per_s.toFixed(0)} msg/s, ${r.cpu_ms_per_msg.toFixed(2)} CPU ms/msg, ${r.sink_messages} messages on ${r.sink_sessions} sessions, ${r.sent}/${r.n} sent`);
  }
  const ssum = (key) => summarize(smtpRaw.map((r) => r[key]));
  results.end_to_end.smtp_provider = {
    n: SCALE_N,
    msgs_per_s: ssum("msgs_per_s"),
    cpu_ms_per_msg: ssum("cpu_ms_per_msg"),
    messages_per_session: summarize(smtpRaw.map((r) => r.sink_messages / Math.max(1, r.sink_sessions))),
    raw: smtpRaw,
  };

  log(`bench: scaling [${elapsed()}]`);
  results.scaling = [];
  for (const [workspaces, rcpts] of [[1, 1], [10, 1], [100, 1], [1, 3], [1, 10]]) {
    // A first, shorter run over the same workspaces warms them (their Durable Objects, the
    // isolate's caches); it is reported beside the row (for 100 workspaces it is their first use).
    const first = await endToEnd(relayB, pidsB, "relay", wsB.slice(0, workspaces), rcpts, Math.ceil(SCALE_N / 3), simReset);
    const h = await watchHeap(inspectorB, ISOLATE.relay, () => endToEnd(relayB, pidsB, "relay", wsB.slice(0, workspaces), rcpts, SCALE_N, simReset));
    const r = { ...h.value, heap_peak_used_mib: h.peak_used_mib };
    results.scaling.push({ workspaces, recipients: rcpts, ...r, warm_up: { n: first.n, msgs_per_s: first.msgs_per_s, cpu_ms_per_msg: first.cpu_ms_per_msg } });
    log(`  ${workspaces} ws × ${rcpts} rcpt: ${r.msgs_per_s.toFixed(0)} msg/s, p50 ${r.p50_ms.toFixed(0)} ms p99 ${r.p99_ms.toFixed(0)} ms, ${r.cpu_ms_per_msg.toFixed(2)} CPU ms/msg, ${r.sent}/${r.n} sent`);
  }
  results.cost = {
    cpu_ms_per_delivered: results.end_to_end.relay.cpu_ms_per_msg,
    minimal_cpu_ms_per_delivered: results.end_to_end.minimal.cpu_ms_per_msg,
    peak_rss_mib: Math.max(results.phase_a_peak_rss_mib, peakRssMiB(workerdPids())),
    // The isolate's V8 heap (what the 128 MB per-isolate limit applies to), polled through the
    // inspector during the end-to-end rounds and the scaling runs.
    relay_heap_peak_used_mib: Math.max(...e2eRaw.relay.map((r) => r.heap_peak_used_mib), ...results.scaling.map((r) => r.heap_peak_used_mib)),
    minimal_heap_peak_used_mib: Math.max(...e2eRaw.minimal.map((r) => r.heap_peak_used_mib)),
    workerd_processes: pidsB.length,
  };
  results.worker_logs.phase_b = relayB.logs;
  await relayB.mf.dispose();
  relayB = null;
  stop(sims.child);
}

function wrkTarget(s, relayUrl) {
  // The bench-only Worker is reached through Miniflare's router by its Host, like the relay.
  if (s.url.startsWith(`http://${BARE_HOST}`)) {
    return { url: relayUrl + s.url.slice(`http://${BARE_HOST}`.length), method: s.method, headers: { ...s.headers, Host: BARE_HOST }, body: s.body };
  }
  return s;
}

const ISOLATE = { relay: "core:user:relay", minimal: "core:user:bench-bare" };

const maxRowid = async (relay) => (await relay.query("SELECT coalesce(max(rowid), 0) AS m FROM messages"))[0].m;

/**
 * N messages accepted at CONNECTIONS in flight and delivered to the Mailgun simulator, through
 * the relay ("relay") or the minimal consumer ("minimal"). Throughput is N over first accept →
 * last sent; latency is each message's queued_at → its last recipient's sent_at.
 */
async function endToEnd(relay, pids, kind, workspaces, rcpts, n, simReset) {
  await simReset();
  const since = await maxRowid(relay);
  const c0 = cpuMs(pids);
  const wall0 = Date.now();
  const send = await sendN(n, CONNECTIONS, (i) => {
    const ws = workspaces[i % workspaces.length];
    const to = recipients(rcpts, `p${i}`);
    return kind === "relay"
      ? { url: `${relay.url}/v1/messages`, init: { method: "POST", headers: { authorization: `Bearer ${ws.key}`, "content-type": "application/json" }, body: apiBody(ws, to) } }
      : { url: `${relay.url}/write`, init: { method: "POST", headers: { host: BARE_HOST, "content-type": "application/json" }, body: bareBody(ws, to) } };
  });
  const accepted = n - send.failures.length;
  // The split of the CPU between accepting and delivering, from this same run: once the last
  // accept has answered, the process does only delivery, so the tail's CPU over the messages sent
  // in the tail is delivery alone, and what the accept window used beyond that many deliveries is
  // accept. Approximate: a batch in flight at the boundary has done part of its work before it.
  const cAccepted = cpuMs(pids);
  const sentAtAccepted = (await relay.query("SELECT count(*) AS c FROM messages WHERE rowid > ? AND status = 'sent'", since))[0].c;
  const deadline = Date.now() + 90_000;
  let sent = 0;
  while (Date.now() < deadline) {
    sent = (await relay.query("SELECT count(*) AS c FROM messages WHERE rowid > ? AND status = 'sent'", since))[0].c;
    if (sent >= accepted) break;
    await sleep(200);
  }
  const cEnd = cpuMs(pids);
  const cpu = cEnd - c0;
  const tail = sent - sentAtAccepted;
  const deliveryCpu = tail > 0 ? (cEnd - cAccepted) / tail : NaN;
  const rows = await relay.query(
    "SELECT m.queued_at AS q, max(coalesce(r.sent_at, m.updated_at)) AS s FROM messages m JOIN message_recipients r ON r.message_id = m.id WHERE m.rowid > ? AND m.status = 'sent' GROUP BY m.id",
    since,
  );
  const lat = rows.map((r) => r.s - r.q);
  const first = Math.min(...rows.map((r) => r.q));
  const last = Math.max(...rows.map((r) => r.s));
  return {
    kind,
    n,
    accepted,
    accept_failures: send.failures.slice(0, 3),
    sent,
    msgs_per_s: sent / Math.max(0.001, (last - first) / 1000),
    wall_s: (Date.now() - wall0) / 1000,
    p50_ms: percentile(lat, 50),
    p99_ms: percentile(lat, 99),
    cpu_ms_per_msg: cpu / Math.max(1, sent),
    // Meaningful when a good part of the messages is sent after the last accept (tail_msgs).
    delivery_cpu_ms_per_msg: deliveryCpu,
    accept_cpu_ms_per_msg: (cAccepted - c0 - sentAtAccepted * deliveryCpu) / Math.max(1, accepted),
    tail_msgs: tail,
  };
}

async function smtpSection(postfix, ws, relay) {
  const sinkPort = await freePort();
  const bridgePort = await freePort();
  const proxyPort = await freePort();
  const asRoot = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
  const sink = await start("smtp-sink", postfix.sink, [...asRoot, `127.0.0.1:${sinkPort}`, "256"], { env: postfix.env });
  await waitForPort(sinkPort);
  const bridge = await start(
    "smtp bridge",
    process.execPath,
    ["--experimental-strip-types", "--no-warnings", path.join(root, "containers", "smtp-bridge", "src", "main.ts")],
    {
      cwd: path.join(root, "containers", "smtp-bridge"),
      env: {
        ...process.env,
        NODE_ENV: "development",
        RELAY_URL: relay.url,
        BRIDGE_SMTP_HOST: "127.0.0.1",
        BRIDGE_SMTP_PORT: String(bridgePort),
        BRIDGE_HEALTH_PORT: "",
        BRIDGE_DEV_INSECURE_AUTH: "true",
        BRIDGE_LOG_LEVEL: "warn",
        BRIDGE_HOSTNAME: "bridge.bench",
      },
    },
  );
  await waitForPort(bridgePort);
  const proxy = await start("auth proxy", process.execPath, [path.join(root, "bench", "smtp-auth-proxy.mjs"), String(proxyPort), String(bridgePort), ws.key], {
    ready: (out) => out.includes("ready"),
  });
  const source = (port, n, tag) =>
    runToEnd(postfix.source, ["-s", String(CONNECTIONS), "-m", String(n), "-d", "-l", "300", "-f", `noreply@${ws.domain}`, "-t", "patient@example.net", "-S", `bench ${tag}`, "-M", "client.bench", `127.0.0.1:${port}`], {
      env: postfix.env,
    });
  const rate = (r, n) => (r.code === 0 ? n / (r.ms / 1000) : NaN);
  // warm-up
  await source(sinkPort, 200, "warm");
  await source(proxyPort, 200, "warm");
  const sinkRates = [];
  const bridgeRates = [];
  const apiRates = [];
  // The API side of the comparison: the bridge's own endpoint (POST /v1/messages/mime, raw
  // message + envelope), the same number of messages at the same concurrency, same round.
  const apiMime = async (round) => {
    const r = await sendN(SMTP_N, CONNECTIONS, (i) => ({
      url: `${relay.url}/v1/messages/mime?mail_from=${encodeURIComponent(`noreply@${ws.domain}`)}&rcpt_to=patient%40example.net`,
      init: {
        method: "POST",
        headers: { authorization: `Bearer ${ws.key}`, "content-type": "message/rfc822" },
        body: `Message-ID: <api-${round}-${i}-${Date.now()}@${ws.domain}>\r\n` + mime(`noreply@${ws.domain}`, ["patient@example.net"], `bench api ${round}`, "x".repeat(300)),
      },
    }));
    if (r.failures.length) problems.push(`API mime: ${r.failures.length} failures, e.g. ${r.failures[0]}`);
    return (SMTP_N - r.failures.length) / (r.ms / 1000);
  };
  const problems = [];
  let accepted = 0;
  let attempted = 0;
  for (let round = 0; round < RUNS; round++) {
    const s = await source(sinkPort, SMTP_N, `sink ${round}`);
    sinkRates.push(rate(s, SMTP_N));
    if (s.code !== 0) problems.push(`smtp-source → smtp-sink exited ${s.code}: ${s.out.slice(-300)}`);
    apiRates.push(await apiMime(round));
    const since = await maxRowid(relay);
    const b = await source(proxyPort, SMTP_N, `bridge ${round}`);
    const got = (await relay.query("SELECT count(*) AS c FROM messages WHERE rowid > ? AND source = 'smtp'", since))[0].c;
    accepted += got;
    attempted += SMTP_N;
    bridgeRates.push(b.code === 0 ? got / (b.ms / 1000) : NaN);
    if (b.code !== 0) problems.push(`smtp-source → bridge exited ${b.code}: ${b.out.slice(-300)}`);
    log(`  smtp round ${round + 1}: sink ${sinkRates.at(-1).toFixed(0)} msg/s, API mime ${apiRates.at(-1).toFixed(0)} msg/s, bridge→relay ${bridgeRates.at(-1).toFixed(0)} msg/s (${got}/${SMTP_N} new messages in the relay)`);
  }
  stop(proxy.child);
  stop(bridge.child);
  stop(sink.child);
  return {
    sessions: CONNECTIONS,
    messages_per_run: SMTP_N,
    sink_rps: summarize(sinkRates),
    bridge_rps: summarize(bridgeRates),
    api_mime_rps: summarize(apiRates),
    api_accept_rps: results.accept.rps.median,
    bridge_ratio_to_api: summarize(bridgeRates.map((b, i) => ratio(b, apiRates[i]))),
    bridge_ratio_to_sink: ratio(median(bridgeRates), median(sinkRates)),
    relay_messages_created: accepted,
    messages_sent: attempted,
    problems,
  };
}

try {
  await main();
  results.duration_s = (performance.now() - t0) / 1000;
  results.machine.loadavg_at_end = os.loadavg();
  const outDir = path.join(root, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  const md = renderMarkdown(results);
  writeFileSync(path.join(outDir, "latest.json"), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(path.join(outDir, "latest.md"), md);
  log("\n" + md);
  log(`bench: done in ${results.duration_s.toFixed(0)} s; wrote bench/results/latest.json and latest.md`);
  await cleanup();
  process.exit(0);
} catch (e) {
  console.error("bench failed:", e);
  await cleanup();
  process.exit(1);
}

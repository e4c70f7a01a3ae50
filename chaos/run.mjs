// `npm run chaos`: the relay under provider faults and SIGKILLs, checked against what really
// reached the providers. Loopback only, bounded in time; prints a table and exits non-zero
// unless lost = 0 and duplicate-other = 0. Knobs: chaos/README.md.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { request } from "../bench/lib/load.mjs";
import { benchRoot, freePort, stop } from "../bench/lib/procs.mjs";
import { startSimulators } from "../bench/lib/relay.mjs";
import { plan, rng, sendAll } from "./lib/load.mjs";
import { RelayProcess, snapshot, writeSecrets } from "./lib/relay.mjs";
import { deliveries, flakyRules, OUTAGE_SCOPE, outageRules, simControl } from "./lib/sims.mjs";
import { renderTable, tally } from "./lib/tally.mjs";

// --messages=200 is CHAOS_MESSAGES=200, and so on for every knob.
for (const a of process.argv.slice(2)) {
  const m = /^--([a-z0-9-]+)=(.*)$/.exec(a);
  if (!m) throw new Error(`unknown argument ${a} (use --name=value, see chaos/README.md)`);
  process.env[`CHAOS_${m[1].toUpperCase().replace(/-/g, "_")}`] = m[2];
}
const num = (name, dflt) => {
  const v = process.env[`CHAOS_${name}`];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`CHAOS_${name}: not a number: ${v}`);
  return n;
};
const K = {
  messages: num("MESSAGES", 2000),
  kills: num("KILLS", 3),
  killMinGapS: num("KILL_MIN_GAP_S", 10),
  killMaxGapS: num("KILL_MAX_GAP_S", 35),
  killWindowS: num("KILL_WINDOW_S", 30),
  seed: num("SEED", Date.now() % 1_000_000),
  smtpShare: num("SMTP_SHARE", 0.3),
  splitShare: num("SPLIT_SHARE", 0.1),
  apiConcurrency: num("API_CONCURRENCY", 8),
  smtpConcurrency: num("SMTP_CONCURRENCY", 4),
  p1ErrorPct: num("P1_ERROR_PCT", 30),
  p1HangPct: num("P1_HANG_PCT", 5),
  p1LatePct: num("P1_LATE_PCT", 0),
  outageS: num("OUTAGE_S", 45),
  timeoutMs: num("PROVIDER_TIMEOUT_MS", 5000),
  breakerOpenS: num("BREAKER_OPEN_S", 20),
  sendTimeoutS: num("SEND_TIMEOUT_S", 300),
  finalTimeoutS: num("FINAL_TIMEOUT_S", 300),
  p2: process.env.CHAOS_P2 || "smtp",
  source: process.env.CHAOS_SOURCE || "HEAD",
  keep: process.env.CHAOS_KEEP === "1",
};

const root = benchRoot();
const t0 = Date.now();
const started_at = new Date(t0).toISOString();
const log = (s) => console.log(`chaos +${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s ${s}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(path.join(tmpdir(), "relay-chaos-"));
const src = path.join(work, "src");
const stateDir = path.join(work, "state");
mkdirSync(stateDir);
const random = rng(K.seed);
const runId = `${K.seed.toString(36)}${Date.now().toString(36).slice(-4)}`;
let sims;
let relay;
let exitCode = 1;

async function api(method, pathname, token, body) {
  const res = await request(`${relay.base}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${pathname}: ${res.status} ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text);
}

/** One workspace, two providers by priority (1 flaky Mailgun, 2 the one with the outage), fast retries. */
async function setup(adminToken, info) {
  const domain = "chaos.example";
  const ws = await api("POST", "/v1/workspaces", adminToken, { slug: `chaos-${runId}`, display_name: "Chaos suite" });
  await api("POST", `/v1/workspaces/${ws.id}/domains`, adminToken, { domain, verified: true });
  const key = (await api("POST", `/v1/workspaces/${ws.id}/api-keys`, adminToken, { name: "chaos", scopes: ["send", "read", "admin"] })).key;
  await api("PATCH", "/v1/workspace", key, { limits: { daily: 100_000_000, user_daily: 100_000_000 } });
  await api("PATCH", "/v1/workspace", key, { retry_policy: { base_seconds: 2, factor: 2, cap_seconds: 15, max_age_seconds: 3600 } });
  await api("PATCH", "/v1/workspace", key, { routing: { strategy: "priority", max_failover: 1, breaker: { open_seconds: K.breakerOpenS } } });
  const p1 = { name: "p1-mailgun", type: "mailgun", domain: `mg1-${runId}.chaos.example` };
  const p2 = K.p2 === "mailgun" ? { name: "p2-mailgun", type: "mailgun", domain: `mg2-${runId}.chaos.example` } : { name: "p2-smtp", type: "smtp" };
  const body = (p, priority) =>
    p.type === "mailgun"
      ? { name: p.name, type: "mailgun", priority, config: { domain: p.domain, base_url: info.mailgun.baseUrl, timeout_ms: K.timeoutMs }, credentials: { api_key: info.mailgun.apiKey } }
      : { name: p.name, type: "smtp", priority, config: { host: "127.0.0.1", port: info.smtp.port, security: "none", verp: false, timeout_ms: K.timeoutMs } };
  for (const [p, prio] of [[p1, 1], [p2, 2]]) p.id = (await api("POST", "/v1/providers", key, body(p, prio))).id;
  return { key, domain, providers: [p1, p2] };
}

/** Calls the simulators answered or dropped so far (Mailgun requests + SMTP DATA). */
async function simCalls(sim) {
  const c = await sim.counts().catch(() => ({}));
  return (c.mailgun ?? 0) + (c["smtp-data"] ?? 0) + (c["smtp-connect"] ?? 0);
}

async function killLoop(sim, kills, isSending) {
  for (let k = 0; k < K.kills; k++) {
    await sleep((K.killMinGapS + random() * (K.killMaxGapS - K.killMinGapS)) * 1000);
    // Mid-delivery: wait (up to 30 s) until the providers are being called right now.
    let before = await simCalls(sim);
    for (let w = 0; w < 60; w++) {
      await sleep(500);
      const now = await simCalls(sim);
      if (now > before) break;
      before = now;
    }
    const c0 = await simCalls(sim);
    await sleep(300);
    const inFlight = (await simCalls(sim)) - c0;
    const at = relay.kill();
    log(`kill ${k + 1}/${K.kills} (${isSending() ? "while sending" : "after the last send"}; ${inFlight} provider calls in the 300 ms before)`);
    const kill = { at, simCallsInFlight: inFlight, readyAt: null };
    kills.push(kill);
    await relay.restart();
    kill.readyAt = Date.now();
    log(`relay up again after ${((kill.readyAt - at) / 1000).toFixed(1)} s`);
  }
}

/** Resolves with the time every message was final (no queued/sending/deferred left), or null at the deadline. */
async function waitFinal(key, deadline) {
  while (Date.now() < deadline) {
    try {
      const by = {};
      for (const status of ["queued", "sending", "deferred"]) {
        const page = await api("GET", `/v1/messages?status=${status}&limit=100`, key);
        if (page.data.length) by[status] = `${page.data.length}${page.next_cursor ? "+" : ""}`;
      }
      if (Object.keys(by).length === 0) return Date.now();
      log(`waiting: not final: ${Object.entries(by).map(([s, n]) => `${s} ${n}`).join(", ")}`);
    } catch (e) {
      log(`waiting: relay not answering (${String(e.message ?? e).slice(0, 80)})${relay.crashed ? `; it ${relay.crashed}` : ""}`);
    }
    await sleep(5000);
  }
  return null;
}

async function fetchDetails(key, ids) {
  const details = new Map();
  const queue = [...ids];
  const worker = async () => {
    while (queue.length) {
      const id = queue.shift();
      for (let tries = 0; tries < 5; tries++) {
        try {
          details.set(id, await api("GET", `/v1/messages/${id}`, key));
          break;
        } catch (e) {
          if (tries === 4) log(`could not read ${id}: ${e.message}`);
          await sleep(1000);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return details;
}

/** Error lines the relay logged (JSON level error, uncaught exceptions), for the table. */
function relayLogErrors(file) {
  if (!existsSync(file)) return { count: 0, first: [] };
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => /"level":"error"|Uncaught|✘ \[ERROR\]/.test(l));
  return { count: lines.length, first: lines.slice(0, 5).map((l) => l.slice(0, 300)) };
}

/** Every 5 s until stopped: each provider's breaker state and latest health check (GET /v1/providers). */
function sampleBreakers(key) {
  const samples = {};
  let on = true;
  const loop = (async () => {
    while (on) {
      try {
        for (const p of (await api("GET", "/v1/providers", key)).data) {
          const s = (samples[p.name] ??= { n: 0, open: 0, half_open: 0, unhealthy_checks: 0 });
          s.n++;
          if (p.breaker?.state === "open") s.open++;
          if (p.breaker?.state === "half_open") s.half_open++;
          if (p.health && p.health.status !== "healthy") s.unhealthy_checks++;
        }
      } catch {
        // the relay is down (a kill): no sample
      }
      await sleep(5000);
    }
  })();
  return { samples, stop: () => ((on = false), loop) };
}

const cleanup = () => {
  relay?.kill();
  if (sims) stop(sims.child);
};
process.on("SIGINT", () => (cleanup(), process.exit(130)));
process.on("SIGTERM", () => (cleanup(), process.exit(143)));

try {
  const commit = snapshot(root, src, K.source);
  log(`relay source ${commit ?? "working tree"} in ${src}; seed ${K.seed}`);
  sims = await startSimulators(root, ["--seed", String(K.seed)]);
  const info = sims.value;
  const sim = simControl(info.httpUrl);
  const adminToken = writeSecrets(stateDir);
  relay = new RelayProcess({
    src,
    stateDir,
    port: await freePort(),
    smtpPort: await freePort(),
    vars: { GLOBAL_DAILY_LIMIT: "100000000", GLOBAL_HOURLY_LIMIT: "100000000", GLOBAL_BURST_PER_SECOND: "1000000" },
  });
  await relay.start();
  log(`relay up on ${relay.base}, bridge on ${relay.smtpPort}`);
  const ws = await setup(adminToken, info);
  const [p1, p2] = ws.providers;
  await sim.addFaults(flakyRules(p1.domain, { errorPct: K.p1ErrorPct, hangPct: K.p1HangPct, latePct: K.p1LatePct }));
  if (K.outageS > 0) await sim.addFaults(outageRules(p2));
  const messages = plan({ n: K.messages, runId, random, smtpShare: K.smtpShare, splitShare: K.splitShare, domain: ws.domain });

  const sendStart = Date.now();
  log(`sending ${K.messages} messages; ${p1.name} fails ${K.p1ErrorPct}% (503) and hangs ${K.p1HangPct}%; ${p2.name} down for ${K.outageS} s`);
  const outage =
    K.outageS > 0
      ? sleep(K.outageS * 1000).then(async () => {
          await sim.clearFaults(p2.type === "smtp" ? OUTAGE_SCOPE : p2.domain);
          log(`${p2.name} outage over`);
        })
      : Promise.resolve();
  const breakers = sampleBreakers(ws.key);
  let sending = true;
  const kills = [];
  const killing = killLoop(sim, kills, () => sending);
  const ctx = { base: relay.base, smtpPort: relay.smtpPort, key: ws.key, deadline: sendStart + K.sendTimeoutS * 1000 };
  let lastShown = 0;
  await sendAll(ctx, messages, {
    apiConcurrency: K.apiConcurrency,
    smtpConcurrency: K.smtpConcurrency,
    onProgress: (done) => {
      if (Date.now() - lastShown > 10_000) (lastShown = Date.now(), log(`sent ${done}/${messages.length}`));
    },
  });
  sending = false;
  const sendMs = Date.now() - sendStart;
  log(`all ${messages.length} messages answered in ${(sendMs / 1000).toFixed(1)} s`);
  await killing;
  await outage;
  const lastKill = kills.length ? kills[kills.length - 1].at : Date.now();
  const finalAt = await waitFinal(ws.key, Math.max(Date.now(), lastKill) + K.finalTimeoutS * 1000);
  log(finalAt ? `every message final ${((finalAt - lastKill) / 1000).toFixed(1)} s after the last kill` : "timed out waiting for every message to be final");

  await breakers.stop();
  const simCounts = {};
  for (const p of ws.providers) {
    const c = await sim.counts(p.type === "mailgun" ? p.domain : `noreply@${ws.domain}`);
    simCounts[p.name] = p.type === "mailgun" ? `${c.mailgun ?? 0} calls` : `${c["smtp-mail"] ?? 0} transactions`;
  }
  const ids = [...new Set(messages.flatMap((m) => m.transactions.filter((tx) => tx.status === "accepted" && tx.id).map((tx) => tx.id)))];
  const details = await fetchDetails(ws.key, ids);
  const delivered = await deliveries(sim, ws.providers);
  const t = tally({ messages, details, delivered, kills: kills.map((k) => k.at), killWindowMs: K.killWindowS * 1000, providers: ws.providers });
  const run = {
    started_at,
    t0: sendStart,
    source: commit ?? "working tree",
    settings: `seed ${K.seed}, ${K.messages} messages, ${K.kills} kills, ${p1.name} ${K.p1ErrorPct}% 503 + ${K.p1HangPct}% hang${K.p1LatePct ? ` + ${K.p1LatePct}% taken but unanswered` : ""}, ${p2.name} down ${K.outageS} s, provider timeout ${K.timeoutMs} ms, breaker open ${K.breakerOpenS} s`,
    kills,
    latePct: K.p1LatePct,
    finalAfterLastKillMs: finalAt === null ? null : finalAt - lastKill,
    finalTimeoutMs: K.finalTimeoutS * 1000,
    durationMs: Date.now() - t0,
    providers: ws.providers.map((p) => ({ name: p.name, calls: simCounts[p.name], breaker: breakers.samples[p.name] })),
    relayLogErrors: relayLogErrors(path.join(stateDir, "relay.log")),
    sendMs,
  };
  console.log("\n" + renderTable(t, run) + "\n");
  for (const [name, list] of Object.entries(t.examples)) {
    if (list.length) console.log(`examples, ${name}:\n${list.map((x) => "  " + JSON.stringify(x)).join("\n")}`);
  }
  if (run.relayLogErrors.count) console.log(`relay log errors (first ${run.relayLogErrors.first.length}):\n${run.relayLogErrors.first.map((l) => "  " + l).join("\n")}`);
  const out = path.join(work, "result.json");
  writeFileSync(out, JSON.stringify({ knobs: K, run, tally: t }, null, 2));
  exitCode = t.lost === 0 && t.duplicate_other === 0 && finalAt !== null ? 0 : 1;
  if (exitCode !== 0 || K.keep) console.log(`kept ${work} (state, relay.log, result.json)`);
} catch (e) {
  console.error(e);
  console.log(`kept ${work} (state, relay.log)`);
  exitCode = 2;
} finally {
  cleanup();
  if (exitCode === 0 && !K.keep) rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);

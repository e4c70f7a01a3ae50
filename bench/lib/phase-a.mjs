// Phase A: no queue consumers, so accept is measured alone: the trivial route, the bare durable
// write, accept and the Rate Limiter's decisions in wrk rounds, each isolate's profile, then SMTP.
import path from "node:path";
import { cpuMs, peakRssMiB, workerdPids } from "./proc.mjs";
import { freePort } from "./procs.mjs";
import { wrk } from "./load.mjs";
import { BARE_HOST, seedWorkspaces, startRelay } from "./relay.mjs";
import { ratio, summarize } from "./stats.mjs";
import { profileIsolate } from "./inspect.mjs";
import { apiBody, bareBody } from "./messages.mjs";
import { smtpSection } from "./smtp.mjs";

/** Fills results.baselines, accept, limiter, raw, profiles, smtp, phase_a_peak_rss_mib and worker_logs. */
export async function phaseA(ctx) {
  const { root, tmp, outdir, settings, results, log, elapsed, wrkBin, postfix, simInfo, opened, dispose } = ctx;
  const { runs_a: RUNS_A, seconds: SECONDS, connections: CONNECTIONS } = settings;
  log(`bench: phase A (baselines, accept, SMTP) [${elapsed()}]`);
  const inspectorA = await freePort();
  // The outbox sweep would start re-enqueueing phase A's never-delivered messages a minute in,
  // work in the middle of later rounds that no round asked for: its grace is set past the phase.
  const relayA = await startRelay({
    root,
    outdir,
    stateDir: path.join(tmp, "state-a"),
    consumers: false,
    simInfo,
    inspectorPort: inspectorA,
    extraVars: { OUTBOX_GRACE_SECONDS: "86400" },
  });
  opened(relayA);
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
    results.smtp = await smtpSection(ctx, postfix, wsA, relayA, results.accept.rps.median);
  } catch (e) {
    results.smtp = { error: String(e?.message ?? e).slice(0, 2000) };
    log(`  SMTP section failed: ${results.smtp.error}`);
  }
  pidsA = workerdPids();
  results.phase_a_peak_rss_mib = peakRssMiB(pidsA);
  results.worker_logs = { phase_a: relayA.logs };
  await dispose(relayA);
}

function wrkTarget(s, relayUrl) {
  // The bench-only Worker is reached through Miniflare's router by its Host, like the relay.
  if (s.url.startsWith(`http://${BARE_HOST}`)) {
    return { url: relayUrl + s.url.slice(`http://${BARE_HOST}`.length), method: s.method, headers: { ...s.headers, Host: BARE_HOST }, body: s.body };
  }
  return s;
}

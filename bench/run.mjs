// `npm run bench`: how fast and how costly the relay is, each figure beside a baseline measured
// in the same run. Drives the Worker through Miniflare directly (see bench/lib/relay.mjs), the
// provider simulators on loopback, wrk and Postfix's smtp-source/smtp-sink as load. Writes
// bench/results/latest.json and latest.md and prints the table.
//
// Knobs (environment): BENCH_RUNS (5) rounds of end to end and SMTP, BENCH_RUNS_A (5) rounds of
// baselines + accept, BENCH_SECONDS (4) per wrk run, BENCH_CONNECTIONS (50), BENCH_E2E_N (600) messages per end-to-end run, BENCH_SCALE_N (300),
// BENCH_SMTP_N (600) messages per smtp-source run.
//
// The phases are in bench/lib/phase-a.mjs and phase-b.mjs (SMTP in smtp.mjs, one end-to-end run
// in end-to-end.mjs), then the store phase (store-phase.mjs: D1 beside MySQL, which needs the
// local server of `npm run mysql:local` and is skipped without one), then the growth phase
// (growth-phase.mjs: accept, list and /metrics at 10k, 100k and 1M history rows on both backends;
// BENCH_GROWTH_LEVELS, e.g. "1000,5000" for a quick check); this file reads the knobs, starts the
// tools and simulators, runs the phases in turn and writes the results.
// `npm run bench:store` (--only=store) runs the store phase alone, into bench/results/store.*;
// `npm run bench:growth` (--only=growth) the growth phase alone, into bench/results/growth.*.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchRoot, stop, stopAll } from "./lib/procs.mjs";
import { build, startSimulators, startupCpu } from "./lib/relay.mjs";
import { summarize } from "./lib/stats.mjs";
import { ensurePostfixTools, ensureWrk } from "./lib/tools.mjs";
import { renderMarkdown } from "./lib/report.mjs";
import { phaseA } from "./lib/phase-a.mjs";
import { phaseB } from "./lib/phase-b.mjs";
import { storePhase } from "./lib/store-phase.mjs";
import { renderStore } from "./lib/report-store.mjs";
import { growthPhase } from "./lib/growth-phase.mjs";
import { renderGrowth } from "./lib/report-growth.mjs";

const root = benchRoot();
const ONLY_STORE = process.argv.includes("--only=store");
const ONLY_GROWTH = process.argv.includes("--only=growth");
const ONLY = ONLY_STORE ? "store" : ONLY_GROWTH ? "growth" : null;
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

// The Miniflare instances still running, disposed on the way out (a phase disposes its own).
const relays = new Set();
let cleanupDone = false;
async function cleanup() {
  if (cleanupDone) return;
  cleanupDone = true;
  stopAll();
  for (const relay of relays) await relay.mf.dispose().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
}
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

async function main() {
  // ---- tools, build, bundle, start-up -------------------------------------------------------
  const wrkBin = ensureWrk(log);
  const postfix = ONLY ? null : ensurePostfixTools(path.join(root, "bench", ".tools"), log);
  log(`bench: building the Worker (wrangler deploy --dry-run) [${elapsed()}]`);
  const outdir = path.join(tmp, "dist");
  results.bundle = build(root, outdir);
  if (!ONLY) {
    const startups = [];
    for (let i = 0; i < 3; i++) startups.push(startupCpu(root, outdir, tmp, i));
    results.startup = { busy_ms: summarize(startups.map((s) => s.busy_ms)), span_ms: summarize(startups.map((s) => s.span_ms)) };
  }

  // ---- simulators ----------------------------------------------------------------------------
  const sims = await startSimulators(root);
  const simInfo = sims.value;
  const simReset = () => fetch(`${simInfo.httpUrl}/__sim/reset`, { method: "POST" }).then((r) => r.text());

  const ctx = {
    root,
    tmp,
    outdir,
    settings: results.settings,
    results,
    log,
    elapsed,
    wrkBin,
    postfix,
    simInfo,
    simReset,
    opened: (relay) => relays.add(relay),
    dispose: async (relay) => {
      relays.delete(relay);
      await relay.mf.dispose();
    },
  };
  if (!ONLY) {
    await phaseA(ctx);
    await phaseB(ctx);
  }
  if (ONLY !== "growth") await storePhase(ctx);
  if (ONLY !== "store") await growthPhase(ctx);
  stop(sims.child);
}

try {
  await main();
  results.duration_s = (performance.now() - t0) / 1000;
  results.machine.loadavg_at_end = os.loadavg();
  const outDir = path.join(root, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  const name = ONLY ?? "latest";
  const md =
    ONLY === "store"
      ? `# Relay storage benchmark — ${results.started_at}, commit ${results.commit}\n${renderStore(results.store)}\n`
      : ONLY === "growth"
        ? `# Relay growth benchmark — ${results.started_at}, commit ${results.commit}\n${renderGrowth(results.growth)}\n`
        : renderMarkdown(results);
  writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(path.join(outDir, `${name}.md`), md);
  log("\n" + md);
  log(`bench: done in ${results.duration_s.toFixed(0)} s; wrote bench/results/${name}.json and ${name}.md`);
  await cleanup();
  process.exit(0);
} catch (e) {
  console.error("bench failed:", e);
  await cleanup();
  process.exit(1);
}

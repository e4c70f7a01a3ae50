// `node bench/profile.mjs [accept|e2e]`: where one path's CPU goes, for working on it between
// full `npm run bench` runs. Builds the Worker unminified (readable function names), runs the
// path under load beside its baseline in the same Miniflare, and prints workerd CPU per request
// (or per delivered message) for both, plus the top self-time functions of the relay isolate.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { cpuMs, workerdPids } from "./lib/proc.mjs";
import { benchRoot, freePort, stopAll } from "./lib/procs.mjs";
import { sendN, wrk } from "./lib/load.mjs";
import { BARE_HOST, buildBare, seedWorkspaces, startRelay, startSimulators } from "./lib/relay.mjs";
import { ensureWrk } from "./lib/tools.mjs";
import { profileIsolate, watchHeap } from "./lib/inspect.mjs";

const root = benchRoot();
const what = process.argv[2] ?? "accept";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const N = Number(process.env.BENCH_E2E_N ?? 400);
const tmp = mkdtempSync(path.join(os.tmpdir(), "relay-profile-"));
const TEXT = "Your lab results are ready. Sign in to the patient portal to read them.\n".repeat(4);
const mime = (from, to) => `From: <${from}>\r\nTo: <${to}>\r\nSubject: Your results\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${TEXT}\r\n`;

const outdir = path.join(tmp, "dist");
const b = spawnSync("wrangler", ["deploy", "--dry-run", "--outdir", outdir, "--minify=false"], { cwd: root, encoding: "utf8" });
if (b.status !== 0) throw new Error(b.stderr);
buildBare(root, outdir);

const sims = await startSimulators(root);
const inspectorPort = await freePort();
const relay = await startRelay({ root, outdir, stateDir: path.join(tmp, "state"), consumers: what === "e2e", simInfo: sims.value, inspectorPort });
// BENCH_WORKSPACES: end-to-end messages spread round-robin over this many workspaces (scaling).
const WORKSPACES = what === "e2e" ? Number(process.env.BENCH_WORKSPACES ?? 1) : 1;
const all = await seedWorkspaces(relay, sims.value, WORKSPACES);
const [ws] = all;
const pids = workerdPids();
const auth = { authorization: `Bearer ${ws.key}`, "content-type": "application/json" };
// BENCH_RCPTS: recipients per message (the end-to-end path), as in the scaling section of run.mjs.
const RCPTS = Number(process.env.BENCH_RCPTS ?? 1);
const to = Array.from({ length: RCPTS }, (_, i) => (i === 0 ? "patient@example.net" : `patient${i}@example.net`));
const api = JSON.stringify({ from: `noreply@${ws.domain}`, to, subject: "Your results", text: TEXT });
const bare = JSON.stringify({ workspace_id: ws.id, domain: ws.domain, from: `noreply@${ws.domain}`, to, body: mime(`noreply@${ws.domain}`, "patient@example.net") });

try {
  if (what === "accept") {
    const bin = ensureWrk(console.log);
    const target = (name, url, headers, body) => ({ bin, url, method: "POST", headers, body, connections: 50, seconds: SECONDS, tmpDir: tmp, name });
    const bareT = target("bare", `${relay.url}/write`, { "content-type": "application/json", Host: BARE_HOST }, bare);
    const accT = target("accept", `${relay.url}/v1/messages`, auth, api);
    await wrk({ ...bareT, seconds: 1 });
    await wrk({ ...accT, seconds: 1 });
    for (let round = 0; round < 3; round++) {
      for (const t of [bareT, accT]) {
        const c0 = cpuMs(pids);
        const r = await wrk(t);
        console.log(`${t.name.padEnd(7)} ${r.rps.toFixed(0)} req/s p50 ${r.p50_ms.toFixed(0)} p99 ${r.p99_ms.toFixed(0)} ms cpu ${((cpuMs(pids) - c0) / r.requests).toFixed(2)} ms/req errors ${r.errors}`);
      }
    }
    const prof = await profileIsolate(inspectorPort, "core:user:relay", () => wrk({ ...accT, name: "prof" }), { top: Number(process.env.BENCH_TOP ?? 30) });
    console.log("top self:", prof.top_self.map((x) => `${x.fn} ${x.pct}%`).join("\n  "));
    console.log("top inclusive:", prof.top_inclusive.map((x) => `${x.fn} ${x.pct}%`).join("\n  "));
  } else {
    const sent = async () => Number((await relay.query("SELECT count(*) AS n FROM messages WHERE status = 'sent'"))[0].n);
    const run = async (label, fire) => {
      const before = await sent();
      const c0 = cpuMs(pids);
      const t0 = performance.now();
      const sent0 = await sendN(N, 20, fire);
      if (sent0.failures?.length) console.log(`${label}: ${sent0.failures.length} accept failures, e.g.`, sent0.failures.slice(0, 2));
      while ((await sent()) < before + N && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 100));
      const s = (performance.now() - t0) / 1000;
      console.log(`${label.padEnd(8)} ${(N / s).toFixed(0)} msg/s cpu ${((cpuMs(pids) - c0) / N).toFixed(2)} ms/msg`);
    };
    let turn = 0;
    const relayFire = () => {
      const w = all[turn++ % all.length];
      const body = JSON.stringify({ from: `noreply@${w.domain}`, to, subject: "Your results", text: TEXT });
      return { url: `${relay.url}/v1/messages`, init: { method: "POST", headers: { ...auth, authorization: `Bearer ${w.key}` }, body } };
    };
    const bareFire = () => ({ url: `${relay.url}/write`, init: { method: "POST", headers: { "content-type": "application/json", host: BARE_HOST }, body: bare } });
    for (let round = 0; round < 2; round++) {
      const m = await watchHeap(inspectorPort, "core:user:bench-bare", () => run("minimal", bareFire));
      const r = await watchHeap(inspectorPort, "core:user:relay", () => run("relay", relayFire));
      console.log(`isolate heap peak (used / total MiB): relay ${r.peak_used_mib} / ${r.peak_total_mib}, minimal ${m.peak_used_mib} / ${m.peak_total_mib}`);
    }
    const prof = await profileIsolate(inspectorPort, "core:user:relay", () => run("profiled", relayFire), { top: Number(process.env.BENCH_TOP ?? 30) });
    console.log("top self:", prof.top_self.map((x) => `${x.fn} ${x.pct}%`).join("\n  "));
    console.log("top inclusive:", prof.top_inclusive.map((x) => `${x.fn} ${x.pct}%`).join("\n  "));
  }
  if (relay.logs.errors.length) console.log("errors:", relay.logs.errors);
  console.log("recipient states:", await relay.query("SELECT status, last_error, count(*) AS n FROM message_recipients GROUP BY 1, 2 ORDER BY n DESC LIMIT 5"));
} finally {
  stopAll();
  await relay.mf.dispose();
  rmSync(tmp, { recursive: true, force: true });
}

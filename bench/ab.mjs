// `node bench/ab.mjs [REF]`: does a change make accept cheaper? Builds the working tree and REF
// (default HEAD) and runs both, and the bare durable write, in one Miniflare on one D1 database,
// interleaving wrk rounds so the machine's noise falls on all three alike. Prints each round and
// the medians: req/s and workerd CPU per request, and the working tree's ratio to REF and to the
// bare write. The full `npm run bench` is still what the figures come from.
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { cpuMs, workerdPids } from "./lib/proc.mjs";
import { benchRoot, stopAll } from "./lib/procs.mjs";
import { wrk } from "./lib/load.mjs";
import { BARE_HOST, buildBare, PRIMARY_HOST, VARIANT_HOST, seedWorkspaces, startRelay, startSimulators } from "./lib/relay.mjs";
import { median } from "./lib/stats.mjs";
import { ensureWrk } from "./lib/tools.mjs";

const root = benchRoot();
const ref = process.argv[2] ?? "HEAD";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const tmp = mkdtempSync(path.join(os.tmpdir(), "relay-ab-"));

function buildAt(dir, outdir) {
  const r = spawnSync("wrangler", ["deploy", "--dry-run", "--outdir", outdir], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  if (r.status !== 0) throw new Error(`build in ${dir} failed:\n${r.stdout}\n${r.stderr}`);
}

// REF's tree, exported with git archive (no worktree bookkeeping), sharing this node_modules.
const refDir = path.join(tmp, "ref");
execFileSync("sh", ["-c", `mkdir -p "${refDir}" && git -C "${root}" archive "${ref}" | tar -x -C "${refDir}"`]);
symlinkSync(path.join(root, "node_modules"), path.join(refDir, "node_modules"));
execFileSync(process.execPath, ["scripts/vendor.mjs"], { cwd: refDir, stdio: "ignore" }); // the lazily loaded bundles (gitignored)
const outA = path.join(tmp, "dist-tree");
const outB = path.join(tmp, "dist-ref");
buildAt(root, outA);
buildAt(refDir, outB);
buildBare(root, outA);

const sims = await startSimulators(root);
// No consumers and no outbox re-enqueue during the run: accept alone is measured.
const relay = await startRelay({ root, outdir: outA, stateDir: path.join(tmp, "state"), consumers: false, simInfo: sims.value, variantOutdir: outB, extraVars: { OUTBOX_GRACE_SECONDS: "86400" } });
try {
  const [ws] = await seedWorkspaces(relay, sims.value, 1);
  const pids = workerdPids();
  const bin = ensureWrk(console.log);
  const TEXT = "Your lab results are ready. Sign in to the patient portal to read them.\n".repeat(4);
  const to = ["patient@example.net"];
  const api = JSON.stringify({ from: `noreply@${ws.domain}`, to, subject: "Your results", text: TEXT });
  const bare = JSON.stringify({ workspace_id: ws.id, domain: ws.domain, from: `noreply@${ws.domain}`, to, body: `From: <noreply@${ws.domain}>\r\nTo: <${to[0]}>\r\nSubject: Your results\r\n\r\n${TEXT}` });
  const auth = { authorization: `Bearer ${ws.key}`, "content-type": "application/json" };
  const target = (name, path_, headers, body) => ({ bin, url: `${relay.url}${path_}`, method: "POST", headers, body, connections: 50, seconds: SECONDS, tmpDir: tmp, name });
  const targets = [
    target("bare", "/write", { "content-type": "application/json", Host: BARE_HOST }, bare),
    target("tree", "/v1/messages", { ...auth, Host: PRIMARY_HOST }, api),
    target(ref, "/v1/messages", { ...auth, Host: VARIANT_HOST }, api),
  ];
  for (const t of targets) {
    const w = await wrk({ ...t, seconds: 1 });
    if (w.ok === 0) throw new Error(`${t.name}: no request succeeded in warm-up`);
  }
  const rows = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // A different order each round, so no side always follows the same one.
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const c0 = cpuMs(pids);
      const r = await wrk(t);
      const cpu = (cpuMs(pids) - c0) / r.requests;
      rows[t.name].push({ rps: r.rps, cpu, errors: r.errors });
      console.log(`round ${round + 1} ${t.name.padEnd(10)} ${r.rps.toFixed(0).padStart(5)} req/s  cpu ${cpu.toFixed(2)} ms/req  errors ${r.errors}`);
    }
  }
  const med = (name, k) => median(rows[name].map((x) => x[k]));
  const pairRatio = (a, b, k) => median(rows[a].map((x, i) => x[k] / rows[b][i][k]));
  console.log("\nmedians:");
  for (const t of targets) console.log(`  ${t.name.padEnd(10)} ${med(t.name, "rps").toFixed(0).padStart(5)} req/s  cpu ${med(t.name, "cpu").toFixed(2)} ms/req`);
  console.log(`  tree / ${ref}: throughput ${(100 * pairRatio("tree", ref, "rps")).toFixed(1)}%, cpu ${(100 * pairRatio("tree", ref, "cpu")).toFixed(1)}% (paired by round)`);
  console.log(`  tree / bare: throughput ${(100 * pairRatio("tree", "bare", "rps")).toFixed(1)}%;  ${ref} / bare: ${(100 * pairRatio(ref, "bare", "rps")).toFixed(1)}%`);
} finally {
  stopAll();
  await relay.mf.dispose();
  rmSync(tmp, { recursive: true, force: true });
}

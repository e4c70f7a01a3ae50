// `node bench/regex-dlp.mjs` (about 10 s): CPU of one DLP scan over a 100 KB field inside
// workerd, pathological patterns beside a trivial one, on RE2 (what the relay runs) and, for
// contrast, the pre-RE2 engine (V8 RegExp) at the small sizes it survives. Target: < 50 ms per
// pathological scan. CPU is the workerd process's own (/proc utime + stime), per request, minus
// an empty request; each RE2 case runs REPS scans in one request so the 10 ms clock tick is small.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { bundleBenchWorker } from "./lib/relay.mjs";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { cpuMs, workerdPids } from "./lib/proc.mjs";
import { benchRoot } from "./lib/procs.mjs";

const root = benchRoot();
const REPS = Number(process.env.BENCH_REPS ?? 20);
const SIZE = Number(process.env.BENCH_SIZE ?? 100_000);
const tmp = mkdtempSync(path.join(os.tmpdir(), "relay-regex-"));
const out = path.join(tmp, "regex-dlp-worker.js");
bundleBenchWorker(path.join(root, "bench", "regex-dlp-worker.js"), out);

const mf = new Miniflare(convertV4MiniflareOptions({ name: "regex-dlp", modulesRoot: tmp, modules: [{ type: "ESModule", path: out }], compatibilityDate: "2026-11-01", compatibilityFlags: ["nodejs_compat"] }));
const base = (await mf.ready).href.replace(/\/$/, "");
const pids = workerdPids();

async function cpuOf(pathAndQuery) {
  const before = cpuMs(pids);
  const res = await fetch(`${base}${pathAndQuery}`);
  const body = await res.json();
  return { ms: cpuMs(pids) - before, matched: body.matched };
}
const q = (o) => new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)])).toString();

// Warm-up (JIT, first compile of each pattern) and the empty-request floor.
const CASES = [
  { label: "trivial x (baseline)", pattern: "x", input: "a_bang" },
  { label: "realistic \\bMRN-\\d{6,10}\\b", pattern: "\\bMRN-\\d{6,10}\\b", input: "text" },
  { label: "pathological ^(a+)+$", pattern: "^(a+)+$", input: "a_bang" },
  { label: "pathological (a|aa)+$", pattern: "(a|aa)+$", input: "a_bang" },
  { label: "pathological (.*a){12}", pattern: "(.*a){12}", input: "a_bang" },
  { label: "pathological ([a-z]+\\s?)+\\d{9}$", pattern: "([a-z]+\\s?)+\\d{9}$", input: "text" },
  // Near the program-size cap (core/tenant-regex.ts MAX_PROGRAM_SIZE): the most NFA work per char.
  { label: "largest allowed [\\p{L}\\d]{390}!", pattern: "[\\p{L}\\d]{390}!", input: "text" },
  { label: "largest allowed [\\s\\S]{390}\\d", pattern: "[\\s\\S]{390}\\d", input: "text" },
  { label: "largest allowed (?i)(?:[a-z]+ ){60}\\d", pattern: "(?i)(?:[a-z]+ ){60}\\d", input: "text" },
];
for (const c of CASES) await cpuOf(`/dlp?${q({ pattern: c.pattern, input: c.input, size: SIZE, reps: 2 })}`);
let floor = Infinity;
for (let i = 0; i < 5; i++) floor = Math.min(floor, (await cpuOf(`/dlp?${q({ pattern: "x", size: 1, reps: 1 })}`)).ms);

const rows = [];
for (const c of CASES) {
  const r = await cpuOf(`/dlp?${q({ pattern: c.pattern, input: c.input, size: SIZE, reps: REPS })}`);
  rows.push({ engine: "RE2 (relay)", case: c.label, size: SIZE, "cpu ms / scan": ((r.ms - floor) / REPS).toFixed(2), matched: r.matched });
}
// The old engine: exponential, so only tiny inputs, once each.
for (const n of [20, 22, 24]) {
  const r = await cpuOf(`/v8?${q({ pattern: "^(a+)+$", input: "a_bang", size: n })}`);
  rows.push({ engine: "V8 RegExp (before)", case: "pathological ^(a+)+$", size: n, "cpu ms / scan": (r.ms - floor).toFixed(2), matched: r.matched });
}
console.table(rows);
const worst = Math.max(...rows.filter((r) => r.engine.startsWith("RE2")).map((r) => Number(r["cpu ms / scan"])));
console.log(`worst RE2 scan of ${SIZE} chars: ${worst.toFixed(2)} ms (target < 50 ms): ${worst < 50 ? "met" : "MISSED"}`);
await mf.dispose();
rmSync(tmp, { recursive: true, force: true });

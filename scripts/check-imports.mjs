// The dependency direction of DESIGN.md, checked over the TypeScript import graph of the
// Worker's source (tests, benchmarks and the SMTP bridge aside):
//   core imports nothing of ours; db imports core only; workers/* and durable-objects import
//   both; nothing imports workers/api but workers/index.ts and workers/api itself; no cycles.
// Type-only imports count too: a cycle of types still means two files that cannot be read apart.
// Exits 1 and names every offending arrow and cycle. `npm run check:imports` (part of `npm test`).
// Written here rather than taken from dependency-cruiser: the rules are five lines, and the
// TypeScript compiler the project already has reads its imports exactly.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const root = path.resolve(import.meta.dirname, "..");
const SOURCE_DIRS = ["core", "db", "workers", "durable-objects"];
const SKIP = new Set(["node_modules", "vendor"]);

function sourceFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (SKIP.has(name)) continue;
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

const rel = (p) => path.relative(root, p).split(path.sep).join("/");

function resolve(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, path.join(base, "index.ts"), base.replace(/\.js$/, ".ts")]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null; // generated (workers/vendor) or not TypeScript
}

const graph = new Map();
for (const file of SOURCE_DIRS.flatMap((d) => sourceFiles(path.join(root, d)))) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  const targets = importedFiles.filter((i) => i.fileName.startsWith(".")).map((i) => resolve(file, i.fileName)).filter(Boolean);
  graph.set(rel(file), [...new Set(targets.map(rel))]);
}

const layer = (f) => f.split("/")[0];
const problems = [];
for (const [from, targets] of graph) {
  for (const to of targets) {
    if (layer(from) === "core" && layer(to) !== "core") problems.push(`arrow up: ${from} → ${to} (core imports nothing of ours)`);
    else if (layer(from) === "db" && !["db", "core"].includes(layer(to))) problems.push(`arrow up: ${from} → ${to} (db imports only core)`);
    else if (to.startsWith("workers/api/") && !from.startsWith("workers/api/") && from !== "workers/index.ts") {
      problems.push(`arrow into the API: ${from} → ${to} (only workers/index.ts imports workers/api)`);
    }
  }
}

// Cycles: Tarjan's strongly connected components; every component of more than one file is one.
let index = 0;
const stack = [];
const meta = new Map();
function strongConnect(v) {
  meta.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!meta.has(w)) {
      strongConnect(w);
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
    } else if (meta.get(w).onStack) meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
  }
  if (meta.get(v).low === meta.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      meta.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) problems.push(`cycle: ${component.sort().join(" ↔ ")}`);
  }
}
for (const v of graph.keys()) if (!meta.has(v)) strongConnect(v);

if (problems.length > 0) {
  console.error(`import graph: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(`import graph: ${graph.size} files, no cycles, no arrows up`);

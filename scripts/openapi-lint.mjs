// Lints the OpenAPI document with Redocly's recommended ruleset (`npm run lint:openapi`, part of
// `npm test`). The document is the one the Worker serves, rendered in-process by
// scripts/openapi-document.mjs (no server, no Miniflare, no network).
// Fails on any error and on any warning, except those listed with a reason in
// .redocly.lint-ignore.yaml (Redocly reads that file itself; ignored problems are not reported).
// The document stays at .wrangler/openapi/openapi.json for a look (the ignore file names that
// path). Runs at once in one tree are safe: the bundle is per process, the document is renamed
// into place whole and nothing is deleted that another run may be reading.
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderDocument, root } from "./openapi-document.mjs";

const outDir = path.join(root, ".wrangler", "openapi");
const docFile = path.join(outDir, "openapi.json");
const started = Date.now();

mkdirSync(outDir, { recursive: true });
let doc;
try {
  doc = await renderDocument();
} catch (e) {
  console.error(`openapi-lint: ${e.message}`);
  process.exit(1);
}
writeFileSync(`${docFile}.${process.pid}`, JSON.stringify(doc, null, 2));
renameSync(`${docFile}.${process.pid}`, docFile);

const redocly = path.join(root, "node_modules", ".bin", "redocly");
const run = spawnSync(redocly, ["lint", docFile, "--config", path.join(root, "redocly.yaml"), "--format", "json"], {
  cwd: root,
  encoding: "utf8",
  env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_NOTIFICATIONS: "true", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
});
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  console.error(run.stdout, run.stderr);
  console.error("openapi-lint: redocly gave no JSON report");
  process.exit(1);
}
const problems = report.problems ?? [];
for (const p of problems) {
  const where = (p.location ?? []).map((l) => l.pointer).filter(Boolean).join(", ");
  console.error(`${p.severity} ${p.ruleId}: ${p.message}${where ? ` (${where})` : ""}`);
}
const byRule = {};
for (const p of problems) byRule[p.ruleId] = (byRule[p.ruleId] ?? 0) + 1;
const t = report.totals ?? {};
const ms = Date.now() - started;
if (problems.length > 0) {
  console.error(`openapi-lint: ${t.errors ?? 0} errors, ${t.warnings ?? 0} warnings (${JSON.stringify(byRule)}), ${t.ignored ?? 0} ignored; ${ms} ms`);
  process.exit(1);
}
console.log(`openapi-lint: 0 problems (${t.ignored ?? 0} ignored, see .redocly.lint-ignore.yaml); ${ms} ms`);

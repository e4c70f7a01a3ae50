// Lints the OpenAPI document with Redocly's recommended ruleset (`npm run lint:openapi`, part of
// `npm test`). The document is the one the Worker serves: workers/api/app.ts is bundled for Node
// (the two `cloudflare:` modules it reaches are stubbed; nothing of them runs for this route) and
// asked for /openapi.json in-process, so no server, no Miniflare and no network.
// Fails on any error and on any warning, except those listed with a reason in
// .redocly.lint-ignore.yaml (Redocly reads that file itself; ignored problems are not reported).
// The document stays at .wrangler/openapi/openapi.json for a look (the ignore file names that
// path). Runs at once in one tree are safe: the bundle is per process, the document is renamed
// into place whole and nothing is deleted that another run may be reading.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const root = path.resolve(import.meta.dirname, "..");
const outDir = path.join(root, ".wrangler", "openapi");
const docFile = path.join(outDir, "openapi.json");
const started = Date.now();

mkdirSync(outDir, { recursive: true });
const bundle = path.join(outDir, `app.${process.pid}.mjs`);
await build({
  entryPoints: [path.join(root, "workers", "api", "app.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  outfile: bundle,
  packages: "external",
  logLevel: "error",
  plugins: [
    {
      name: "cloudflare-stubs",
      setup(b) {
        b.onResolve({ filter: /^cloudflare:/ }, (a) => ({ path: a.path, namespace: "cf-stub" }));
        b.onLoad({ filter: /.*/, namespace: "cf-stub" }, () => ({
          contents: "export const env = {}; export class DurableObject {}; export function connect() { throw new Error('no sockets here'); }",
          loader: "js",
        }));
      },
    },
  ],
});
const { app } = await import(pathToFileURL(bundle).href);
rmSync(bundle, { force: true });
// Quiet the access log line this request writes.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = () => true;
// A D1 stand-in: the database middleware makes its (lazy) handle for every request.
const res = await app.request("/openapi.json", {}, { DB: {} });
process.stdout.write = write;
if (res.status !== 200) {
  console.error(`openapi-lint: /openapi.json answered ${res.status}: ${await res.text()}`);
  process.exit(1);
}
writeFileSync(`${docFile}.${process.pid}`, JSON.stringify(await res.json(), null, 2));
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

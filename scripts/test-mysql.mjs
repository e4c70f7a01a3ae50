// The MySQL part of `npm test` (after the D1 suite), when a MySQL server answers: test/mysql/
// inside workerd through the Hyperdrive binding (vitest.mysql.config.ts: the store conformance
// suite, migrations, query plans), then the end-to-end tests with the relay on the MySQL store
// (vitest.mysql-e2e.config.ts). Arguments after `--` go to both runs (e.g. a file filter). Without one it is
// skipped with a message, except under CI, where it fails: CI must test both stores.
import { spawnSync } from "node:child_process";
import path from "node:path";
import mysql from "mysql2/promise";

const root = path.resolve(import.meta.dirname, "..");
const url = process.env.RELAY_MYSQL_TEST_URL ?? "mysql://relay:relay@127.0.0.1:3306/relay_test";
const server = new URL(url);
server.pathname = "/";

let reason = null;
try {
  const conn = await mysql.createConnection({ uri: server.toString(), connectTimeout: 3000 });
  await conn.end();
} catch (e) {
  reason = e.code ?? e.message;
}

if (reason) {
  const where = `${server.hostname}:${server.port || 3306}`;
  if (process.env.CI) {
    console.error(`test-mysql: FAILED: no MySQL server for the MySQL tests at ${where} (${reason}), and CI must run them; .ci/run starts one with scripts/mysql-local.mjs`);
    process.exit(1);
  }
  console.error(`test-mysql: SKIPPED the MySQL tests (test/mysql/): no MySQL server at ${where} (${reason}). Start one with \`npm run mysql:local\`.`);
  process.exit(0);
}

const started = Date.now();
// The Worker loads the MySQL store as a module of its own (workers/vendor/mysql-store.js): built
// from the current db/mysql/store before the end-to-end run evaluates it.
const vendor = spawnSync(process.execPath, [path.join(root, "scripts", "vendor.mjs")], { cwd: root, stdio: "inherit" });
if (vendor.status !== 0) process.exit(vendor.status ?? 1);
const args = process.argv.slice(2);
let status = 0;
for (const config of ["vitest.mysql.config.ts", "vitest.mysql-e2e.config.ts"]) {
  // --passWithNoTests: a file filter may match files of only one of the two runs.
  // vitest under this same Node (22), not whatever `node` the PATH finds first.
  const r = spawnSync(process.execPath, [path.join(root, "node_modules", "vitest", "vitest.mjs"), "run", "--config", config, "--passWithNoTests", ...args], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) status = r.status ?? 1;
}
// The D1 → MySQL copy (scripts/store-copy.mjs) in plain Node, last (it empties the same test
// database), on a whole run only: not when test files were named.
if (status === 0 && args.length === 0) {
  const copy = spawnSync(process.execPath, ["--test", path.join(root, "scripts", "store-copy.test.mjs")], { cwd: root, stdio: "inherit", env: { ...process.env, RELAY_MYSQL_TEST_URL: url } });
  if (copy.status !== 0) status = copy.status ?? 1;
}
console.error(`test-mysql: the MySQL tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(status);

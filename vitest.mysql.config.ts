// The MySQL tests (test/mysql/): inside workerd like every other test, against a real MySQL 8 /
// MariaDB reached through the Hyperdrive binding. `npm test` runs them after the D1 suite when a
// server answers (scripts/test-mysql.mjs); `npm run mysql:local` starts one.
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { mysqlMigrations } from "./vitest.workers";

// The MySQL tests' database: one of its own (its name must end in _test), emptied at the start of
// every run by test/mysql/global-setup.ts, which reads it from here. The default is the server of
// `npm run mysql:local`.
process.env.RELAY_MYSQL_TEST_URL ??= "mysql://relay:relay@127.0.0.1:3306/relay_test";
const MYSQL_TEST_URL = process.env.RELAY_MYSQL_TEST_URL;

export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      main: "./workers/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        hyperdrives: { HYPERDRIVE: MYSQL_TEST_URL },
        bindings: {
          // Read here in Node (workerd has no file system), applied inside workerd by test/mysql/setup.ts.
          TEST_MYSQL_MIGRATIONS: mysqlMigrations(),
          ADMIN_TOKEN: "test-admin-token",
          DATA_KEYS: JSON.stringify({ k1: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" }),
        },
      },
    })),
  ],
  test: {
    // mysql2 tries an optional require of `cardinal` (a pretty-printer) and goes on without it;
    // the pool prints "Failed to require .../mysql2/lib/cardinal" once per file. Harmless:
    // prebundling mysql2 through Vite's optimizer to silence it fails on node:stream.
    include: ["test/mysql/**/*.test.ts"],
    setupFiles: ["./test/mysql/setup.ts"],
    globalSetup: ["./test/mysql/global-setup.ts"],
  },
});

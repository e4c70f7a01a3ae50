import path from "node:path";
import { configDefaults, defineConfig } from "vitest/config";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { outboundService, queueConsumers, TEST_BINDINGS } from "./vitest.workers";

// Pure unit tests of core/ (no bindings, no Worker, no simulators) run in plain Node: a workerd
// per test file costs about 3 s of start-up (Miniflare, the module graph, the migrations) for
// tests that take milliseconds. Everything else runs inside workerd.
// scripts/ tests run the repository's scripts as processes (scripts/openapi-compat.test.ts).
const NODE_UNITS = ["core/**/*.test.ts", "scripts/**/*.test.ts"];

export default defineConfig({
  test: {
    // The relay logs one JSON line per request and delivery: shown for a failing test only, so
    // the output of `npm test` is the test report.
    silent: "passed-only",
    projects: [
      {
        test: { name: "core", environment: "node", include: NODE_UNITS },
      },
      {
        plugins: [
          cloudflareTest(async () => ({
            main: "./workers/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations(path.join(import.meta.dirname, "migrations")),
                ...TEST_BINDINGS,
              },
              queueConsumers,
              outboundService,
            },
          })),
        ],
        test: {
          name: "workerd",
          include: ["test/**/*.test.ts", "db/**/*.test.ts", "workers/**/*.test.ts", "durable-objects/**/*.test.ts"],
          // The MySQL tests need a MySQL server and have a config of their own (vitest.mysql.config.ts).
          exclude: [...configDefaults.exclude, "test/mysql/**"],
          setupFiles: ["./test/apply-migrations.ts"],
          globalSetup: ["./test/global-setup.ts"],
        },
      },
    ],
  },
});

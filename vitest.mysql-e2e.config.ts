// The end-to-end tests again, with the relay on the MySQL store (STORE = "mysql"): accept → queue
// → provider simulator → sent, the API's reads and admin, webhooks, through the Worker's real
// handlers and the Hyperdrive binding to a real MySQL/MariaDB. Only test files that drive the
// relay through its API run here: the others read or seed D1 directly to look behind the API.
// scripts/test-mysql.mjs runs this after vitest.mysql.config.ts, on the same test database.
import path from "node:path";
import { defineConfig } from "vitest/config";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { mysqlMigrations, outboundService, queueConsumers, TEST_BINDINGS } from "./vitest.workers";

process.env.RELAY_MYSQL_TEST_URL ??= "mysql://relay:relay@127.0.0.1:3306/relay_test";

/** Every file here also runs on D1 (vitest.config.ts); the same assertions hold on MySQL. */
export const MYSQL_E2E_FILES = [
  "test/smoke.test.ts",
  "test/api-auth.test.ts",
  "test/api-isolation.test.ts",
  "test/api-validation.test.ts",
  "test/message-id-dedupe.test.ts",
  "test/delivery-giveup.test.ts",
  "test/delivery-mailgun.test.ts",
  "test/fanout.test.ts",
  "test/routing.test.ts",
  "test/raw-smuggling.test.ts",
  "test/sender-identification.test.ts",
  "test/variables.test.ts",
  "test/webhooks-standard.test.ts",
  "test/delivery-gmail.test.ts",
  "test/delivery-test-endpoint.test.ts",
  "test/inbound-mailgun.test.ts",
  "test/provider-quota.test.ts",
  "test/phi-routing.test.ts",
  "test/security-review.test.ts",
  "test/security-logs.test.ts",
  "test/user-limit.test.ts",
  "test/metrics-exposition.test.ts",
  "test/typed-client.test.ts",
  "test/upload-aborted.test.ts",
  "test/trending.test.ts",
  "test/llm-redirect.test.ts",
  "test/webhook-event-schemas.test.ts",
];

export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      main: "./workers/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        hyperdrives: { HYPERDRIVE: process.env.RELAY_MYSQL_TEST_URL! },
        bindings: {
          ...TEST_BINDINGS,
          STORE: "mysql",
          // Applied by test/mysql/setup.ts; the D1 ones too, so anything still reading D1 fails
          // on an assertion about MySQL's data rather than on a missing table.
          TEST_MYSQL_MIGRATIONS: mysqlMigrations(),
          TEST_MIGRATIONS: await readD1Migrations(path.join(import.meta.dirname, "migrations")),
        },
        queueConsumers,
        outboundService,
      },
    })),
  ],
  test: {
    name: "workerd-mysql",
    silent: "passed-only",
    include: MYSQL_E2E_FILES,
    setupFiles: ["./test/mysql/setup.ts", "./test/apply-migrations.ts"],
    globalSetup: ["./test/global-setup.ts", "./test/mysql/global-setup.ts"],
  },
});

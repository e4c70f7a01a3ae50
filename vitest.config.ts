import path from "node:path";
import { configDefaults, defineConfig } from "vitest/config";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";

// Test-only secrets: a fixed admin token and a fixed data key so tests are repeatable.
const TEST_DATA_KEYS = JSON.stringify({ k1: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" });

export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      main: "./workers/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations(path.join(import.meta.dirname, "migrations")),
          ADMIN_TOKEN: "test-admin-token",
          DATA_KEYS: TEST_DATA_KEYS,
          LOG_TOKEN_KEY: "test-log-token-key-0123456789",
          METRICS_TOKEN: "test-metrics-token",
          SENTRY_DSN: "https://publickey@sentry.test/42",
          // Small limits so the oversize and R2 paths are exercised with small test bodies.
          MAX_MESSAGE_BYTES: "1048576",
          INLINE_BODY_MAX_BYTES: "4096",
        },
        // Loopback goes to the provider simulators; anything else unmocked is a test bug.
        outboundService: async (req: Request) => {
          const { hostname } = new URL(req.url);
          if (hostname === "127.0.0.1" || hostname === "localhost") {
            // Buffered: Node's fetch rejects a streamed body without `duplex`.
            return fetch(req.url, {
              method: req.method,
              headers: req.headers,
              body: req.body ? await req.arrayBuffer() : undefined,
              redirect: "manual",
            });
          }
          return new Response("unmocked " + req.url, { status: 599 });
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts", "core/**/*.test.ts", "db/**/*.test.ts", "workers/**/*.test.ts", "durable-objects/**/*.test.ts"],
    // The MySQL tests need a MySQL server and have a config of their own (vitest.mysql.config.ts).
    exclude: [...configDefaults.exclude, "test/mysql/**"],
    setupFiles: ["./test/apply-migrations.ts"],
    globalSetup: ["./test/global-setup.ts"],
    // The relay logs one JSON line per request and delivery: shown for a failing test only, so
    // the output of `npm test` is the test report.
    silent: "passed-only",
  },
});

// What every test pool that runs the Worker inside workerd shares (vitest.config.ts on D1,
// vitest.mysql-e2e.config.ts on MySQL): the Worker's test bindings, the background queue
// consumers' short wait, and the outbound fetches that reach the provider simulators.
import path from "node:path";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { unstable_readConfig } from "wrangler";

// Test-only secrets: a fixed admin token and a fixed data key so tests are repeatable.
export const TEST_DATA_KEYS = JSON.stringify({ k1: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" });

export const TEST_BINDINGS = {
  ADMIN_TOKEN: "test-admin-token",
  DATA_KEYS: TEST_DATA_KEYS,
  LOG_TOKEN_KEY: "test-log-token-key-0123456789",
  METRICS_TOKEN: "test-metrics-token",
  SENTRY_DSN: "https://publickey@sentry.test/42",
  // Small limits so the oversize and R2 paths are exercised with small test bodies.
  MAX_MESSAGE_BYTES: "1048576",
  INLINE_BODY_MAX_BYTES: "4096",
};

// Miniflare's queue broker holds a batch open for max_batch_timeout (1 s in wrangler.toml) before
// it hands it to the consumer, so every message a test sends waited a second before its delivery
// began. Tests that need several jobs in one batch build the batch (createMessageBatch); the
// background consumers keep wrangler.toml's settings but wait 50 ms.
const TEST_BATCH_TIMEOUT_S = 0.05;
type Consumer = { queue: string; max_batch_size?: number; max_retries?: number; dead_letter_queue?: string; retry_delay?: number };
const consumers: Consumer[] = unstable_readConfig({ config: "./wrangler.toml" }).queues.consumers ?? [];
export const queueConsumers = Object.fromEntries(
  consumers.map((c) => [
    c.queue,
    // Wrangler's own translation to Miniflare's options, but for the wait.
    { maxBatchSize: c.max_batch_size, maxBatchTimeout: TEST_BATCH_TIMEOUT_S, maxRetries: c.max_retries, deadLetterQueue: c.dead_letter_queue, retryDelay: c.retry_delay },
  ]),
);

/** Loopback goes to the provider simulators; anything else unmocked is a test bug. */
export async function outboundService(req: Request): Promise<Response> {
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
}

/**
 * migrations-mysql/ as a binding (TEST_MYSQL_MIGRATIONS): read here in Node, since workerd has no
 * file system, and applied inside workerd by test/mysql/setup.ts.
 */
export const mysqlMigrations = () =>
  readMigrationFiles({ migrationsFolder: path.join(import.meta.dirname, "migrations-mysql") }).map(({ sql, folderMillis, hash }) => ({ sql, folderMillis, hash }));

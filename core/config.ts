// Deployment configuration: every Worker var and optional secret the relay reads, in one schema,
// validated once per isolate (per env object). A bad value fails loudly, with its name, at the
// first request that reads the configuration, instead of being replaced by a default quietly.
// Callers read the section they need (`readConfig(env).webhooks`, `.inbound`, ...). Bindings
// (DB, BODIES, queues, objects) are not configuration, and the secrets that are key material
// are read where they are used and checked there: DATA_KEYS (core/crypto.ts loadKeyring),
// ADMIN_TOKEN (workers/api/auth.ts), LOG_TOKEN_KEY (workers/log.ts, which must never throw).
import { z } from "@hono/zod-openapi";
import { RelayError } from "./errors";

const intVar = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);
const numVar = (def: number, min: number, max: number) => z.coerce.number().min(min).max(max).default(def);
const flagVar = (def: "true" | "false") => z.enum(["true", "false"]).default(def);
/** A secret that may be absent; an empty string counts as absent. */
const optionalSecret = z.string().optional().transform((v) => (v ? v : undefined));

const configSchema = z.object({
  /** Where state lives: D1 (the default, embedded) or MySQL/MariaDB through the HYPERDRIVE binding. */
  STORE: z.enum(["d1", "mysql"]).default("d1"),
  MAX_MESSAGE_BYTES: intVar(25 * 1024 * 1024, 1024, 100 * 1024 * 1024),
  INLINE_BODY_MAX_BYTES: intVar(64 * 1024, 0, 1024 * 1024),
  OUTBOX_GRACE_SECONDS: intVar(60, 1, 86_400),
  SWEEP_INTERVAL_SECONDS: intVar(30, 1, 3600),
  DATA_KEY_ID: z.string().min(1).default("k1"),
  DELIVERY_MEMORY_BUDGET_MB: intVar(64, 8, 1024),
  HEALTH_CHECK_INTERVAL_SECONDS: intVar(300, 10, 86_400),
  // Global sending limits across every workspace (recipients), enforced in GLOBAL_LIMIT_SHARDS shards.
  GLOBAL_DAILY_LIMIT: intVar(100_000, 1, 1_000_000_000),
  GLOBAL_HOURLY_LIMIT: intVar(5_000, 1, 1_000_000_000),
  GLOBAL_BURST_PER_SECOND: intVar(100, 1, 1_000_000),
  GLOBAL_LIMIT_SHARDS: intVar(4, 1, 64),
  DNS_RESOLVER_URL: z.string().url().default("https://cloudflare-dns.com/dns-query"),
  // Webhook delivery.
  WEBHOOK_TIMEOUT_MS: intVar(10_000, 100, 60_000),
  /** The first try right after an event is recorded waits at most this long; the sweep retries. */
  WEBHOOK_IMMEDIATE_TIMEOUT_MS: intVar(3_000, 100, 30_000),
  /** An event is given up this long after it was created. */
  WEBHOOK_MAX_AGE_HOURS: numVar(24, 0.01, 24 * 14),
  /** An endpoint failing without a single success for this long is disabled. */
  WEBHOOK_DISABLE_AFTER_HOURS: numVar(24, 0.01, 24 * 30),
  /** Allow http:// and private/loopback hosts (development and tests only: SSRF). */
  WEBHOOK_ALLOW_PRIVATE_URLS: flagVar("false"),
  // Inbound mail.
  /** Comma-separated submission addresses; `*@domain` takes any local part (matched to a workspace slug). */
  SUBMISSION_ADDRESSES: z.string().default(""),
  /** Domain of the VERP bounce addresses (`bounces+<id>@BOUNCE_DOMAIN`). */
  BOUNCE_DOMAIN: z.string().default(""),
  /** authserv-id of the Authentication-Results header we trust (the one Email Routing adds). */
  EMAIL_AUTHSERV_ID: z.string().default("mx.cloudflare.net"),
  /** Hard bounces of one address before it is suppressed. */
  HARD_BOUNCE_SUPPRESS_AFTER: intVar(1, 1, 100),
  /** Slug of the workspace that takes submissions from sender domains no workspace verified; empty: refuse them. */
  DEFAULT_WORKSPACE: z.string().default(""),
  // Optional secrets.
  METRICS_TOKEN: optionalSecret,
  SENTRY_DSN: optionalSecret,
});

export interface GlobalLimits {
  daily: number;
  hourly: number;
  burstPerSecond: number;
  shards: number;
}

export interface WebhookConfig {
  timeoutMs: number;
  immediateTimeoutMs: number;
  maxAgeMs: number;
  disableAfterMs: number;
  allowPrivateUrls: boolean;
}

export interface InboundConfig {
  submission: { exact: Set<string>; wildcardDomains: Set<string> };
  bounceDomain: string | null;
  authservId: string;
  suppressAfter: number;
  defaultWorkspace: string | null;
}

export interface RelayConfig {
  store: "d1" | "mysql";
  maxMessageBytes: number;
  inlineBodyMaxBytes: number;
  outboxGraceMs: number;
  sweepIntervalMs: number;
  dataKeyId: string;
  /** Message bytes (times their in-memory copies) one queue batch may hold at once. */
  deliveryMemoryBudgetBytes: number;
  healthCheckIntervalMs: number;
  globalLimits: GlobalLimits;
  dnsResolverUrl: string;
  webhooks: WebhookConfig;
  inbound: InboundConfig;
  /** Bearer token of GET /metrics; without it the endpoint is off. */
  metricsToken: string | undefined;
  sentryDsn: string | undefined;
}

const cache = new WeakMap<object, RelayConfig>();

export function readConfig(env: object): RelayConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RelayError("internal_error", `configuration ${issue.path.join(".")}: ${issue.message}`);
  }
  const v = parsed.data;
  const config: RelayConfig = {
    store: v.STORE,
    maxMessageBytes: v.MAX_MESSAGE_BYTES,
    inlineBodyMaxBytes: v.INLINE_BODY_MAX_BYTES,
    outboxGraceMs: v.OUTBOX_GRACE_SECONDS * 1000,
    sweepIntervalMs: v.SWEEP_INTERVAL_SECONDS * 1000,
    dataKeyId: v.DATA_KEY_ID,
    deliveryMemoryBudgetBytes: v.DELIVERY_MEMORY_BUDGET_MB * 1024 * 1024,
    healthCheckIntervalMs: v.HEALTH_CHECK_INTERVAL_SECONDS * 1000,
    globalLimits: { daily: v.GLOBAL_DAILY_LIMIT, hourly: v.GLOBAL_HOURLY_LIMIT, burstPerSecond: v.GLOBAL_BURST_PER_SECOND, shards: v.GLOBAL_LIMIT_SHARDS },
    dnsResolverUrl: v.DNS_RESOLVER_URL,
    webhooks: {
      timeoutMs: v.WEBHOOK_TIMEOUT_MS,
      immediateTimeoutMs: v.WEBHOOK_IMMEDIATE_TIMEOUT_MS,
      maxAgeMs: v.WEBHOOK_MAX_AGE_HOURS * 3_600_000,
      disableAfterMs: v.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
      allowPrivateUrls: v.WEBHOOK_ALLOW_PRIVATE_URLS === "true",
    },
    inbound: inboundSection(v),
    metricsToken: v.METRICS_TOKEN,
    sentryDsn: v.SENTRY_DSN,
  };
  cache.set(env, config);
  return config;
}

function inboundSection(v: z.infer<typeof configSchema>): InboundConfig {
  const exact = new Set<string>();
  const wildcardDomains = new Set<string>();
  for (const a of v.SUBMISSION_ADDRESSES.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (a.startsWith("*@")) wildcardDomains.add(a.slice(2));
    else exact.add(a);
  }
  return {
    submission: { exact, wildcardDomains },
    bounceDomain: v.BOUNCE_DOMAIN.trim().toLowerCase() || null,
    authservId: v.EMAIL_AUTHSERV_ID.trim().toLowerCase(),
    suppressAfter: v.HARD_BOUNCE_SUPPRESS_AFTER,
    defaultWorkspace: v.DEFAULT_WORKSPACE.trim().toLowerCase() || null,
  };
}

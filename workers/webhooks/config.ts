// Webhook delivery settings from Worker vars (validated once per isolate).
import { z } from "zod";

const schema = z.object({
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** The first try right after an event is recorded waits at most this long; the sweep retries. */
  WEBHOOK_IMMEDIATE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(3_000),
  /** An event is given up this long after it was created. */
  WEBHOOK_MAX_AGE_HOURS: z.coerce.number().min(0.01).max(24 * 14).default(24),
  /** An endpoint failing without a single success for this long is disabled. */
  WEBHOOK_DISABLE_AFTER_HOURS: z.coerce.number().min(0.01).max(24 * 30).default(24),
  /** Allow http:// and private/loopback hosts (development and tests only: SSRF). */
  WEBHOOK_ALLOW_PRIVATE_URLS: z.enum(["true", "false"]).default("false"),
});

export interface WebhookConfig {
  timeoutMs: number;
  immediateTimeoutMs: number;
  maxAgeMs: number;
  disableAfterMs: number;
  allowPrivateUrls: boolean;
}

const cache = new WeakMap<object, WebhookConfig>();

export function webhookConfig(env: object): WebhookConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const v = schema.parse(env);
  const c: WebhookConfig = {
    timeoutMs: v.WEBHOOK_TIMEOUT_MS,
    immediateTimeoutMs: v.WEBHOOK_IMMEDIATE_TIMEOUT_MS,
    maxAgeMs: v.WEBHOOK_MAX_AGE_HOURS * 3_600_000,
    disableAfterMs: v.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
    allowPrivateUrls: v.WEBHOOK_ALLOW_PRIVATE_URLS === "true",
  };
  cache.set(env, c);
  return c;
}

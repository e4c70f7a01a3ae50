// Retry policy as data (KumoMTA-style): exponential backoff with a cap and a give-up age.
// Default gives up after 5 days, as RFC 5321 §4.5.4.1 suggests ("at least 4-5 days").
import { z } from "@hono/zod-openapi";

export const retryPolicySchema = z
  .object({
    base_seconds: z.number().int().min(1).max(3600).default(60),
    factor: z.number().min(1).max(10).default(2),
    cap_seconds: z.number().int().min(1).max(86_400).default(3600),
    max_age_seconds: z.number().int().min(60).max(30 * 86_400).default(5 * 86_400),
  })
  .strict();

export type RetryPolicy = z.infer<typeof retryPolicySchema>;
export const DEFAULT_RETRY_POLICY: RetryPolicy = retryPolicySchema.parse({});

/** Cloudflare Queues accept at most a 12 h delay; longer waits are chained by the consumer. */
export const QUEUE_MAX_DELAY_SECONDS = 43_200;

export type RetryDecision = { retry: true; retryAt: number } | { retry: false; reason: "max_age" };

/**
 * attempt is the number of attempts already made (1 after the first failure).
 * A provider's Retry-After is honoured when it is later than our own backoff.
 */
export function nextRetry(
  policy: RetryPolicy,
  attempt: number,
  acceptedAt: number,
  now: number,
  retryAfterMs?: number,
): RetryDecision {
  const backoff = Math.min(policy.cap_seconds, policy.base_seconds * policy.factor ** Math.max(0, attempt - 1)) * 1000;
  const retryAt = now + Math.max(backoff, retryAfterMs ?? 0);
  if (retryAt - acceptedAt > policy.max_age_seconds * 1000) return { retry: false, reason: "max_age" };
  return { retry: true, retryAt };
}

/** Delay for Queue.retry / send, in whole seconds within the queue's limit. */
export const queueDelaySeconds = (retryAt: number, now: number): number =>
  Math.min(QUEUE_MAX_DELAY_SECONDS, Math.max(0, Math.ceil((retryAt - now) / 1000)));

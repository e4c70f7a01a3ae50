// Deployment configuration from Worker vars, validated once per isolate: a bad value fails
// loudly at the first request instead of misbehaving quietly.
import { z } from "@hono/zod-openapi";
import { RelayError } from "./errors";

const intVar = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const configSchema = z.object({
  MAX_MESSAGE_BYTES: intVar(25 * 1024 * 1024, 1024, 100 * 1024 * 1024),
  INLINE_BODY_MAX_BYTES: intVar(64 * 1024, 0, 1024 * 1024),
  OUTBOX_GRACE_SECONDS: intVar(60, 1, 86_400),
  SWEEP_INTERVAL_SECONDS: intVar(30, 1, 3600),
  DATA_KEY_ID: z.string().min(1).default("k1"),
  DELIVERY_MEMORY_BUDGET_MB: intVar(64, 8, 1024),
});

export interface RelayConfig {
  maxMessageBytes: number;
  inlineBodyMaxBytes: number;
  outboxGraceMs: number;
  sweepIntervalMs: number;
  dataKeyId: string;
  /** Message bytes (times their in-memory copies) one queue batch may hold at once. */
  deliveryMemoryBudgetBytes: number;
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
    maxMessageBytes: v.MAX_MESSAGE_BYTES,
    inlineBodyMaxBytes: v.INLINE_BODY_MAX_BYTES,
    outboxGraceMs: v.OUTBOX_GRACE_SECONDS * 1000,
    sweepIntervalMs: v.SWEEP_INTERVAL_SECONDS * 1000,
    dataKeyId: v.DATA_KEY_ID,
    deliveryMemoryBudgetBytes: v.DELIVERY_MEMORY_BUDGET_MB * 1024 * 1024,
  };
  cache.set(env, config);
  return config;
}

// The limiter Durable Objects' inputs (durable-objects/workspace-limiter.ts, global-limiter.ts,
// provider-state.ts's quota), as zod schemas typed against the core types they carry, so the two
// cannot drift. Kept to shapes and ranges: a batch of 50 items is parsed on every delivery's
// limiter call, and a refinement (a time zone looked up in Intl, say) would cost more than the
// call's own work. A time zone the limiter does not know fails in windows.ts as before.
import { z } from "@hono/zod-openapi";
import type { Consumption, LimitRule } from "./ledger";

const count = z.number().int().nonnegative();
const instant = z.number().nonnegative();
/** A consumption key (the message id, prefixed by its layer) or a rule name. */
export const limitKeySchema = z.string().min(1).max(512);

export const limitRuleSchema: z.ZodType<LimitRule> = z.discriminatedUnion("kind", [
  z.object({ name: limitKeySchema, kind: z.literal("window"), period: z.enum(["hour", "day"]), max: count }),
  z.object({ name: limitKeySchema, kind: z.literal("rate"), perSecond: z.number().nonnegative(), burst: z.number().nonnegative() }),
]);

export const limitRulesSchema = z.array(limitRuleSchema).max(100);

export const consumptionSchema: z.ZodType<Consumption> = z.object({
  name: limitKeySchema,
  windowStart: instant.optional(),
  n: z.number().nonnegative(),
  gcraMs: z.number().nonnegative().optional(),
});

/** What a caller gives back: a lease's items, or many single units at once (a guard, not a tuning). */
export const consumptionsSchema = z.array(consumptionSchema).max(10_000);

export const consumeItemSchema = z.object({ key: limitKeySchema, rules: limitRulesSchema, n: count, tz: z.string().min(1).max(64), now: instant });
export type ConsumeItem = z.infer<typeof consumeItemSchema>;

/** A batch of consumes (workers/do-calls.ts coalesces at most 50; the bound is a guard, not a tuning). */
export const consumeItemsSchema = z.array(consumeItemSchema).max(1000);

/** A provider's quota, checked with its breaker in one permit. */
export const quotaSchema = z.object({ key: limitKeySchema, rules: limitRulesSchema, n: count }).nullable();

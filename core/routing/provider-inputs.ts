// The ProviderState Durable Object's inputs (durable-objects/provider-state.ts), as zod schemas
// typed against the core types they carry. Shapes and ranges only, no refinements: acquireMany
// and releaseMany parse up to 50 items on every delivery batch. Measured in workerd
// (test/do-inputs.test.ts logs it): 6-9 µs an item, about what the RPC's own structured clone of
// the item costs; 0.3-0.5 ms for a batch of 50, beside 4-7 ms for the acquireMany call itself.
import { z } from "@hono/zod-openapi";
import type { LimitRule } from "../limits/ledger";
import { quotaSchema } from "../limits/inputs";
import { breakerConfigSchema, type BreakerConfig, type CallOutcome } from "./breaker";
import type { GrantRef } from "./provider-state";
import type { CallReportInput } from "./takeover";

/** One acquire of acquireMany (workers/do-calls.ts): the arguments of acquire(). */
export interface AcquireItem {
  workspaceId: string;
  providerId: string;
  cfg: BreakerConfig;
  quota: { key: string; rules: LimitRule[]; n: number } | null;
  /** How long the permit is held if the call never reports back (the provider's timeout + margin). */
  leaseMs?: number;
  /** What the call is for (message id, or message:recipient for a per-recipient copy). */
  callKey?: string;
  now?: number;
}

/** One release of releaseMany: the arguments of release(). */
export interface ReleaseItem {
  workspaceId: string;
  providerId: string;
  cfg: BreakerConfig;
  grant: GrantRef;
  outcome: CallOutcome | "neutral";
  latencyMs: number;
  now?: number;
  /** What the provider answered, kept for a takeover if the consumer dies before recording it. */
  report?: CallReportInput;
}

const id = z.string().min(1).max(256);
const instant = z.number().nonnegative();
/** Call keys: a message id, or message:recipient. */
const callKey = z.string().min(1).max(512);

export const grantRefSchema: z.ZodType<GrantRef> = z.object({
  permit: z.enum(["normal", "trial"]),
  startedAt: instant,
  leaseId: z.string().min(1).max(64).optional(),
});

export const callReportInputSchema: z.ZodType<CallReportInput> = z.object({
  key: callKey,
  recipients: z.array(id).max(10_000),
  startedAt: instant,
  sent: z.boolean(),
  providerMessageId: z.string().max(4096).nullable().optional(),
});

export const outcomeSchema = z.enum(["success", "failure", "neutral"]);

export const acquireArgsSchema = z.object({
  workspaceId: id,
  providerId: id,
  cfg: breakerConfigSchema,
  quota: quotaSchema,
  now: instant,
  leaseMs: z.number().positive(),
  callKey: callKey.optional(),
});

export const releaseArgsSchema = z.object({
  workspaceId: id,
  providerId: id,
  cfg: breakerConfigSchema,
  grant: grantRefSchema,
  outcome: outcomeSchema,
  latencyMs: z.number().nonnegative(),
  now: instant,
  report: callReportInputSchema.optional(),
});

/** One item of acquireMany/releaseMany: the arguments of one acquire/release, `now` and `leaseMs` optional as there. */
export const acquireItemSchema = acquireArgsSchema.extend({ now: instant.optional(), leaseMs: z.number().positive().optional() });
export const releaseItemSchema = releaseArgsSchema.extend({ now: instant.optional() });
acquireItemSchema satisfies z.ZodType<AcquireItem>;
releaseItemSchema satisfies z.ZodType<ReleaseItem>;

/** A batch (workers/do-calls.ts coalesces at most 50; the bound is a guard, not a tuning). */
export const acquireItemsSchema = z.array(acquireItemSchema).max(1000);
export const releaseItemsSchema = z.array(releaseItemSchema).max(1000);

export const cancelArgsSchema = z.object({ workspaceId: id, providerId: id, grant: grantRefSchema });
export const providerArgsSchema = z.object({ workspaceId: id, providerId: id, now: instant });
export const keysArgsSchema = z.object({ keys: z.array(callKey).max(10_000), now: instant });
export const nowArgsSchema = z.object({ now: instant });

// One Durable Object per workspace: the workspace's and its users' counters (check-and-consume
// keyed by message id, with refunds), and the round-robin position so every Worker instance
// takes turns in the same order. Each method validates its input (core/limits/inputs.ts).
import { DurableObject } from "cloudflare:workers";
import { z } from "@hono/zod-openapi";
import type { Consumption, Decision, LimitRule } from "../core/limits/ledger";
import { consumeItemSchema, consumeItemsSchema, consumptionsSchema, limitKeySchema, limitRulesSchema } from "../core/limits/inputs";
import { parseDoInput } from "../core/do-input";
import { LedgerStore, type ConsumeItem, type LeaseAnswer } from "./ledger-store";

const leaseArgs = z.object({
  rules: limitRulesSchema,
  n: z.number().int().nonnegative(),
  extraWant: z.number().int().nonnegative(),
  tz: z.string().min(1).max(64),
  now: z.number().nonnegative(),
  returned: consumptionsSchema,
});
const giveBackArgs = z.object({ returned: consumptionsSchema });
const refundArgs = z.object({ key: limitKeySchema });

export class WorkspaceLimiter extends DurableObject<Env> {
  private readonly ledger = new LedgerStore(this.ctx.storage);

  consume(key: string, rules: LimitRule[], n: number, tz: string, now = Date.now()): Promise<Decision> {
    const c = parseDoInput(consumeItemSchema, { key, rules, n, tz, now }, "WorkspaceLimiter.consume");
    return this.ledger.consume(c.key, c.rules, c.n, c.tz, c.now);
  }

  /** Several consumes in one call (the delivery consumer coalesces a queue batch's: workers/do-calls.ts). */
  consumeMany(items: ConsumeItem[]): Promise<Decision[]> {
    return this.ledger.consumeMany(parseDoInput(consumeItemsSchema, items, "WorkspaceLimiter.consumeMany"));
  }

  /** The user layer at accept: consume n, and maybe lease more to the caller's isolate (workers/user-limit.ts). */
  lease(rules: LimitRule[], n: number, extraWant: number, tz: string, now: number, returned: Consumption[] = []): Promise<LeaseAnswer> {
    const c = parseDoInput(leaseArgs, { rules, n, extraWant, tz, now, returned }, "WorkspaceLimiter.lease");
    return this.ledger.lease(c.rules, c.n, c.extraWant, c.tz, c.now, c.returned);
  }

  /** Gives back units taken by lease() and not used. */
  giveBack(returned: Consumption[]): Promise<void> {
    return this.ledger.giveBack(parseDoInput(giveBackArgs, { returned }, "WorkspaceLimiter.giveBack").returned);
  }

  refund(key: string): Promise<void> {
    return this.ledger.refund(parseDoInput(refundArgs, { key }, "WorkspaceLimiter.refund").key);
  }

  /** Returns the current round-robin position and advances it (serialised by the object). No input to validate. */
  async nextRoundRobin(): Promise<number> {
    const position = (await this.ctx.storage.get<number>("rr")) ?? 0;
    await this.ctx.storage.put("rr", position + 1);
    return position;
  }
}

export const getWorkspaceLimiter = (env: Env, workspaceId: string) => env.WORKSPACE_LIMITER.getByName(workspaceId);

// Global limits, spread over several Durable Objects: one object tops out near 1,000 requests/s,
// so a single global counter would cap the whole relay. Each message is counted in one shard
// (chosen by a hash of its id) against 1/N of each limit.
//
// The trade-off: shards fill independently, so a message can be deferred by its full shard while
// others still have room. Nothing ever exceeds the global limit; in the worst case the relay
// defers with up to (N-1)/N of the limit unused. With ids hashed evenly the shards fill at
// nearly the same rate and the slack is small (measured in test/limits.test.ts). Each method
// validates its input (core/limits/inputs.ts).
import { DurableObject } from "cloudflare:workers";
import { z } from "@hono/zod-openapi";
import type { Decision, LimitRule } from "../core/limits/ledger";
import { consumeItemsSchema, limitKeySchema, limitRulesSchema } from "../core/limits/inputs";
import { parseDoInput } from "../core/do-input";
import { LedgerStore, type ConsumeItem } from "./ledger-store";

const consumeArgs = z.object({ key: limitKeySchema, rules: limitRulesSchema, n: z.number().int().nonnegative(), now: z.number().nonnegative() });
const refundArgs = z.object({ key: limitKeySchema });

export class GlobalLimiter extends DurableObject<Env> {
  private readonly ledger = new LedgerStore(this.ctx.storage);

  consume(key: string, rules: LimitRule[], n: number, now = Date.now()): Promise<Decision> {
    const c = parseDoInput(consumeArgs, { key, rules, n, now }, "GlobalLimiter.consume");
    return this.ledger.consume(c.key, c.rules, c.n, "UTC", c.now);
  }

  /** Several consumes in one call (the delivery consumer coalesces a queue batch's: workers/do-calls.ts). */
  consumeMany(items: ConsumeItem[]): Promise<Decision[]> {
    return this.ledger.consumeMany(parseDoInput(consumeItemsSchema, items, "GlobalLimiter.consumeMany"));
  }

  refund(key: string): Promise<void> {
    return this.ledger.refund(parseDoInput(refundArgs, { key }, "GlobalLimiter.refund").key);
  }
}

/** FNV-1a: a stable, well-spread hash of the message id picks the shard. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export const globalShardName = (key: string, shards: number) => `global-${shardOf(key, shards)}`;
export const getGlobalLimiter = (env: Env, key: string, shards: number) => env.GLOBAL_LIMITER.getByName(globalShardName(key, shards));

// One Durable Object per workspace: the workspace's and its users' counters (check-and-consume
// keyed by message id, with refunds), and the round-robin position so every Worker instance
// takes turns in the same order.
import { DurableObject } from "cloudflare:workers";
import type { Decision, LimitRule } from "../core/limits/ledger";
import { LedgerStore, type ConsumeItem, type LeaseAnswer } from "./ledger-store";
import type { Consumption } from "../core/limits/ledger";

export class WorkspaceLimiter extends DurableObject<Env> {
  private readonly ledger = new LedgerStore(this.ctx.storage);

  consume(key: string, rules: LimitRule[], n: number, tz: string, now = Date.now()): Promise<Decision> {
    return this.ledger.consume(key, rules, n, tz, now);
  }

  /** Several consumes in one call (the delivery consumer coalesces a queue batch's: workers/do-calls.ts). */
  consumeMany(items: ConsumeItem[]): Promise<Decision[]> {
    return this.ledger.consumeMany(items);
  }

  /** The user layer at accept: consume n, and maybe lease more to the caller's isolate (workers/user-limit.ts). */
  lease(rules: LimitRule[], n: number, extraWant: number, tz: string, now: number, returned: Consumption[] = []): Promise<LeaseAnswer> {
    return this.ledger.lease(rules, n, extraWant, tz, now, returned);
  }

  /** Gives back units taken by lease() and not used. */
  giveBack(returned: Consumption[]): Promise<void> {
    return this.ledger.giveBack(returned);
  }

  refund(key: string): Promise<void> {
    return this.ledger.refund(key);
  }

  /** Returns the current round-robin position and advances it (serialised by the object). */
  async nextRoundRobin(): Promise<number> {
    const position = (await this.ctx.storage.get<number>("rr")) ?? 0;
    await this.ctx.storage.put("rr", position + 1);
    return position;
  }
}

export const getWorkspaceLimiter = (env: Env, workspaceId: string) => env.WORKSPACE_LIMITER.getByName(workspaceId);

// Persistence for a limiter ledger (core/limits/ledger.ts) inside a Durable Object. The object
// runs one event at a time and its storage calls hold the input gate, so check-and-consume is
// atomic without locks.
import { consume, emptyLedger, refund, type Decision, type LedgerState, type LimitRule } from "../core/limits/ledger";

export class LedgerStore {
  private cached: LedgerState | null = null;
  constructor(private readonly storage: DurableObjectStorage) {}

  private async state(): Promise<LedgerState> {
    this.cached ??= (await this.storage.get<LedgerState>("ledger")) ?? emptyLedger();
    return this.cached;
  }

  async consume(key: string, rules: LimitRule[], n: number, tz: string, now: number): Promise<Decision> {
    const r = consume(await this.state(), key, rules, n, now, tz);
    if (r.decision.allowed && !r.decision.repeated) {
      this.cached = r.state;
      await this.storage.put("ledger", r.state);
    }
    return r.decision;
  }

  async refund(key: string): Promise<void> {
    const s = await this.state();
    const next = refund(s, key);
    if (next !== s) {
      this.cached = next;
      await this.storage.put("ledger", next);
    }
  }
}

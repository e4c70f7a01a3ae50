// Persistence for limiter counters inside a Durable Object. The counters are one small value;
// each consumption is one SQLite row keyed by its key (message id), so "was this key already
// counted?" is an indexed lookup and old keys are deleted in bulk, not copied on every call.
// The object runs one event at a time and its storage calls hold the input gate, so
// check-and-consume is atomic without locks. Not an object itself: the limiter objects that hold
// one validate their input (core/limits/inputs.ts) before calling it.
import { consume, emptyCounters, KEY_TTL_MS, refund, roomLeft, type Consumption, type Counters, type Decision, type LimitRule } from "../core/limits/ledger";
import type { ConsumeItem } from "../core/limits/inputs";

export type { ConsumeItem };

const PRUNE_EVERY = 500;

/** A lease takes at most this share of the room left. */
const LEASE_SHARE = 8;

export interface LeaseAnswer {
  decision: Decision;
  /** Units granted beyond n, to be used by the caller or returned. */
  extra: number;
  /** What n + extra consumed (scale by units to return some). */
  items: Consumption[];
}

export class LedgerStore {
  private cached: Counters | null = null;
  private sincePrune = 0;
  private ready = false;

  constructor(private readonly storage: DurableObjectStorage) {}

  private init(): void {
    if (this.ready) return;
    this.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS consumed (key TEXT PRIMARY KEY, at INTEGER NOT NULL, items TEXT NOT NULL); CREATE INDEX IF NOT EXISTS consumed_at ON consumed(at);",
    );
    this.ready = true;
  }

  private async counters(): Promise<Counters> {
    this.cached ??= (await this.storage.get<Counters>("counters")) ?? emptyCounters();
    return this.cached;
  }

  consume(key: string, rules: LimitRule[], n: number, tz: string, now: number): Promise<Decision> {
    return this.consumeMany([{ key, rules, n, tz, now }]).then((d) => d[0]!);
  }

  /**
   * Several check-and-consumes in order, as if called one after another (a repeated key is
   * answered `repeated`, also within the list), with one counters write for all of them.
   */
  async consumeMany(items: ConsumeItem[]): Promise<Decision[]> {
    this.init();
    let state = await this.counters();
    let changed = false;
    const out: Decision[] = [];
    for (const { key, rules, n, tz, now } of items) {
      if (this.storage.sql.exec("SELECT 1 FROM consumed WHERE key = ?", key).toArray().length > 0) {
        out.push({ allowed: true, repeated: true });
        continue;
      }
      const r = consume(state, rules, n, now, tz);
      out.push(r.decision);
      if (!r.decision.allowed) continue;
      state = r.state;
      changed = true;
      this.storage.sql.exec("INSERT INTO consumed (key, at, items) VALUES (?, ?, ?)", key, now, JSON.stringify(r.items));
      if (++this.sincePrune >= PRUNE_EVERY) {
        this.sincePrune = 0;
        this.storage.sql.exec("DELETE FROM consumed WHERE at < ?", now - KEY_TTL_MS);
      }
    }
    if (changed) {
      this.cached = state;
      await this.storage.put("counters", state);
    }
    return out;
  }

  /**
   * A consumption of `n` with no key (the caller's id is fresh, so it cannot repeat), plus up to
   * `extraWant` more units handed out as a lease (workers/user-limit.ts), never more than
   * 1/LEASE_SHARE of the room left, so near the limit every unit is asked for one by one.
   * `returned` is what the caller gives back first (an earlier lease's unused units, or a
   * refused commit's). Returns the consumption of n + extra as items, for returning later.
   */
  async lease(rules: LimitRule[], n: number, extraWant: number, tz: string, now: number, returned: Consumption[] = []): Promise<LeaseAnswer> {
    let state = await this.counters();
    if (returned.length) state = refund(state, returned);
    const extra = Math.max(0, Math.min(extraWant, Math.floor((roomLeft(state, rules, now, tz) - n) / LEASE_SHARE)));
    const r = consume(state, rules, n + extra, now, tz);
    if (r.decision.allowed) state = r.state;
    if (r.decision.allowed || returned.length) {
      this.cached = state;
      await this.storage.put("counters", state);
    }
    return r.decision.allowed ? { decision: r.decision, extra, items: r.items } : { decision: r.decision, extra: 0, items: [] };
  }

  /** Gives back units taken by lease() and not used. */
  async giveBack(returned: Consumption[]): Promise<void> {
    if (returned.length === 0) return;
    this.cached = refund(await this.counters(), returned);
    await this.storage.put("counters", this.cached);
  }

  async refund(key: string): Promise<void> {
    this.init();
    const row = this.storage.sql.exec<{ items: string }>("SELECT items FROM consumed WHERE key = ?", key).toArray()[0];
    if (!row) return;
    this.cached = refund(await this.counters(), JSON.parse(row.items) as Consumption[]);
    this.storage.sql.exec("DELETE FROM consumed WHERE key = ?", key);
    await this.storage.put("counters", this.cached);
  }
}

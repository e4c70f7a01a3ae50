// Coalescing: calls made at nearly the same moment for the same target become one call carrying
// all their items. The delivery consumer runs a queue batch's messages side by side, and they
// reach each step (load, limit, claim, breaker, record) together; one round trip for the batch
// instead of one per message is what makes a delivered message cheap (bench/profile.mjs: each
// Durable Object or D1 round trip costs the isolate about as much CPU as the provider call).
//
// Written here rather than taken from a library: DataLoader-style batchers key results by id and
// cache them, which is wrong for writes (every item is its own call, answered in order, never
// cached), and the flush must be a timer turn, not a microtask, to catch callers whose previous
// step finished on a different I/O event.

export interface CoalescerOptions<I> {
  /** Items per call at most; a full group is sent at once. */
  maxItems: number;
  /** With `weigh`: a group is sent before an item would take it over this total. */
  maxWeight?: number;
  weigh?: (item: I) => number;
  /** When a new group is sent if it does not fill up (default: the next timer turn). */
  schedule?: (flush: () => void) => void;
}

interface Group<I, O> {
  items: I[];
  weight: number;
  settle: { resolve: (o: O) => void; reject: (e: unknown) => void }[];
}

export class Coalescer<I, O> {
  private readonly open = new Map<string, Group<I, O>>();
  private readonly schedule: (flush: () => void) => void;

  /**
   * `run` gets one target's items in call order and answers one result per item, in order; if it
   * throws, every caller in the group gets the error (a caller-specific failure is `run`'s to
   * separate, as db/coalescing-d1.ts does).
   */
  constructor(
    private readonly run: (key: string, items: I[]) => Promise<O[]>,
    private readonly options: CoalescerOptions<I>,
  ) {
    this.schedule = options.schedule ?? ((flush) => void setTimeout(flush, 0));
  }

  call(key: string, item: I): Promise<O> {
    const weight = this.options.weigh?.(item) ?? 0;
    let group = this.open.get(key);
    if (group && this.options.maxWeight !== undefined && group.weight + weight > this.options.maxWeight) {
      this.flush(key, group);
      group = undefined;
    }
    if (!group) {
      const fresh: Group<I, O> = { items: [], weight: 0, settle: [] };
      this.open.set(key, fresh);
      this.schedule(() => this.flush(key, fresh));
      group = fresh;
    }
    const g = group;
    const answer = new Promise<O>((resolve, reject) => g.settle.push({ resolve, reject }));
    g.items.push(item);
    g.weight += weight;
    if (g.items.length >= this.options.maxItems) this.flush(key, g);
    return answer;
  }

  private flush(key: string, group: Group<I, O>): void {
    if (this.open.get(key) !== group) return; // already sent (it filled up)
    this.open.delete(key);
    const { items, settle } = group;
    // A synchronous throw in `run` becomes a rejection too.
    new Promise<O[]>((r) => r(this.run(key, items))).then(
      (outs) => {
        if (outs.length !== items.length) {
          const e = new Error(`coalesced call answered ${outs.length} results for ${items.length} items`);
          for (const s of settle) s.reject(e);
          return;
        }
        settle.forEach((s, i) => s.resolve(outs[i]!));
      },
      (e) => {
        for (const s of settle) s.reject(e);
      },
    );
  }
}

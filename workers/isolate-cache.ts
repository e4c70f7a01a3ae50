// Isolate-local read-through caches for the accept path's per-request lookups (the API key and
// the workspace's send settings). Every accepted message used to pay two extra D1 round trips
// for data that changes a few times a day; the benchmark showed them as a third of accept's CPU.
//
// Freshness: an entry lives at most its TTL. Any configuration write handled by THIS isolate
// bumps the generation (see `invalidateIsolateCaches`, called by the API after every mutating
// request other than message submission), so a change is seen at once where it was made and
// within the TTL everywhere else. Workers KV's cacheTtl or the Cache API would add a network
// hop per read and give the same bounded staleness, so a Map is enough here.
let generation = 0;

/** Forget every cached entry in this isolate (a setting, key, domain or provider changed). */
export function invalidateIsolateCaches(): void {
  generation++;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
  generation: number;
}

export class IsolateCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string, now: number): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now || e.generation !== generation) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, now: number): void {
    // Oldest first out (Map keeps insertion order): bounded memory whatever the key count.
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + this.ttlMs, generation });
  }

  /** Reads through: `load` runs on a miss, and concurrent misses for one key share one load. */
  async read(key: string, now: number, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key, now);
    if (hit !== undefined) return hit;
    let pending = this.loading.get(key);
    if (!pending) {
      const gen = generation;
      pending = load().finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
      const value = await pending;
      // A write during the load may have made it stale: use it for this request, keep it not.
      if (gen === generation) this.set(key, value, now);
      return value;
    }
    return pending;
  }

  private readonly loading = new Map<string, Promise<V>>();
}

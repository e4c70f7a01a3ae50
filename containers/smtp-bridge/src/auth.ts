// AUTH decisions: the password is a relay API key, checked with GET /v1/me and cached briefly
// (keyed by its SHA-256, never the key). Failed attempts are counted per client source (an IPv4
// address, an IPv6 /64) and per username *from that source*; over either limit, that source's
// further attempts are refused without asking the relay. Nothing one source does can lock out a
// key used from another source: usernames are shared by convention ("apikey"), so a global
// per-username count would let anyone lock every client out, and no in-memory exemption list
// survives a restart.
import net from "node:net";
import { keyHash } from "./log.ts";
import type { KeyCheck, RelayClient } from "./relay-client.ts";

/** An authenticated session's credential. The key sits in a private field: never logged or serialized. */
export class Credential {
  readonly #apiKey: string;
  readonly workspaceId: string;
  readonly keyId: string;
  readonly keyHash: string;
  constructor(apiKey: string, workspaceId: string, keyId: string, keyHash: string) {
    this.#apiKey = apiKey;
    this.workspaceId = workspaceId;
    this.keyId = keyId;
    this.keyHash = keyHash;
  }
  bearer(): string {
    return this.#apiKey;
  }
  toJSON(): { workspaceId: string; keyId: string } {
    return { workspaceId: this.workspaceId, keyId: this.keyId };
  }
}

export type AuthDecision =
  | { kind: "ok"; credential: Credential }
  | { kind: "invalid" }
  | { kind: "no_scope" }
  | { kind: "blocked"; by: "ip" | "user" }
  | { kind: "unavailable"; reason: string };

/** Counts failures per key in a fixed window that starts with the first failure. */
export class FailureLimiter {
  readonly #entries = new Map<string, { count: number; since: number }>();
  readonly max: number;
  readonly windowMs: number;
  readonly now: () => number;
  readonly capacity: number;
  constructor(max: number, windowMs: number, now: () => number = Date.now, capacity = 100_000) {
    this.max = max;
    this.windowMs = windowMs;
    this.now = now;
    this.capacity = capacity;
  }

  blocked(key: string): boolean {
    const entry = this.#live(key);
    return entry !== undefined && entry.count >= this.max;
  }

  fail(key: string): void {
    const entry = this.#live(key);
    if (entry) {
      entry.count++;
      return;
    }
    if (this.#entries.size >= this.capacity) this.#sweep();
    this.#entries.set(key, { count: 1, since: this.now() });
  }

  #live(key: string): { count: number; since: number } | undefined {
    const entry = this.#entries.get(key);
    if (entry && this.now() - entry.since >= this.windowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.#entries) {
      if (now - entry.since >= this.windowMs) this.#entries.delete(key);
    }
    // still full of live entries: drop the oldest quarter rather than grow without bound
    if (this.#entries.size >= this.capacity) {
      let drop = Math.ceil(this.capacity / 4);
      for (const key of this.#entries.keys()) {
        if (drop-- <= 0) break;
        this.#entries.delete(key);
      }
    }
  }
}

/** A TTL map with a size bound; insertion order doubles as age order. */
class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly now: () => number;
  readonly capacity: number;
  constructor(now: () => number, capacity: number) {
    this.now = now;
    this.capacity = capacity;
  }
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }
  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expires: this.now() + ttlMs });
  }
  delete(key: string): void {
    this.#entries.delete(key);
  }
}

type CachedCheck = Extract<KeyCheck, { kind: "valid" } | { kind: "invalid" }>;

export interface AuthGateOptions {
  positiveTtlMs: number;
  negativeTtlMs: number;
  maxFailuresPerIp: number;
  maxFailuresPerUser: number;
  failureWindowMs: number;
  now?: () => number;
}

/**
 * Where attempts come from, for counting: an IPv4 address, or an IPv6 address's /64 (one host
 * usually holds a whole /64, so counting single IPv6 addresses would cost an attacker nothing).
 */
export function sourceOf(address: string): string {
  const plain = address.replace(/%.*$/, "").replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  if (!net.isIPv6(plain)) return plain;
  const [head = "", tail = ""] = plain.toLowerCase().split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])));
  const left = groups(head);
  const right = plain.includes("::") ? groups(tail) : [];
  const all = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return all.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":") + "::/64";
}

export class AuthGate {
  readonly #relay: Pick<RelayClient, "checkKey">;
  readonly #options: AuthGateOptions;
  readonly #cache: TtlCache<CachedCheck>;
  readonly #inflight = new Map<string, Promise<KeyCheck>>();
  readonly #bySource: FailureLimiter;
  readonly #byUserAtSource: FailureLimiter;

  constructor(relay: Pick<RelayClient, "checkKey">, options: AuthGateOptions) {
    const now = options.now ?? Date.now;
    this.#relay = relay;
    this.#options = options;
    this.#cache = new TtlCache(now, 10_000);
    this.#bySource = new FailureLimiter(options.maxFailuresPerIp, options.failureWindowMs, now);
    this.#byUserAtSource = new FailureLimiter(options.maxFailuresPerUser, options.failureWindowMs, now);
  }

  async authenticate(ip: string, username: string, apiKey: string): Promise<AuthDecision> {
    const hash = keyHash(apiKey);
    const source = sourceOf(ip);
    // A source never contains NUL, so no username can make its pair collide with another source's.
    const userKey = `${username.toLowerCase()}\0${source}`;
    if (this.#bySource.blocked(source)) return { kind: "blocked", by: "ip" };
    if (this.#byUserAtSource.blocked(userKey)) return { kind: "blocked", by: "user" };

    const check = apiKey === "" ? ({ kind: "invalid", status: 401 } as const) : await this.#check(hash, apiKey);
    switch (check.kind) {
      case "unavailable":
        return { kind: "unavailable", reason: check.reason };
      case "invalid":
        this.#bySource.fail(source);
        this.#byUserAtSource.fail(userKey);
        return { kind: "invalid" };
      case "valid":
        // The relay treats `admin` as holding every scope; so does the bridge.
        if (!check.scopes.includes("send") && !check.scopes.includes("admin")) {
          this.#bySource.fail(source);
          this.#byUserAtSource.fail(userKey);
          return { kind: "no_scope" };
        }
        return { kind: "ok", credential: new Credential(apiKey, check.workspaceId, check.keyId, hash) };
    }
  }

  /** The relay refused a key it had accepted (revoked): forget the cached answer. */
  forget(hash: string): void {
    this.#cache.delete(hash);
  }

  async #check(hash: string, apiKey: string): Promise<KeyCheck> {
    const cached = this.#cache.get(hash);
    if (cached) return cached;
    // Many sessions of one client authenticate at once: ask the relay once.
    const pending = this.#inflight.get(hash);
    if (pending) return pending;
    const request = this.#relay.checkKey(apiKey).then((result) => {
      if (result.kind === "valid") this.#cache.set(hash, result, this.#options.positiveTtlMs);
      if (result.kind === "invalid") this.#cache.set(hash, result, this.#options.negativeTtlMs);
      return result;
    });
    this.#inflight.set(hash, request);
    try {
      return await request;
    } finally {
      this.#inflight.delete(hash);
    }
  }
}

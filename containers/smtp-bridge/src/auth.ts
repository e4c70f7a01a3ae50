// AUTH decisions: the password is a relay API key, checked with GET /v1/me and cached briefly
// (keyed by its SHA-256, never the key). Failed attempts are counted per client IP and per
// username within a window; over the limit, further attempts are refused without asking the relay.
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

// How long a key that once passed stays "known" for the per-username lockout (see below).
const TRUSTED_KEY_TTL_MS = 24 * 3600 * 1000;

export class AuthGate {
  readonly #relay: Pick<RelayClient, "checkKey">;
  readonly #options: AuthGateOptions;
  readonly #cache: TtlCache<CachedCheck>;
  readonly #trusted: TtlCache<true>;
  readonly #inflight = new Map<string, Promise<KeyCheck>>();
  readonly #byIp: FailureLimiter;
  readonly #byUser: FailureLimiter;

  constructor(relay: Pick<RelayClient, "checkKey">, options: AuthGateOptions) {
    const now = options.now ?? Date.now;
    this.#relay = relay;
    this.#options = options;
    this.#cache = new TtlCache(now, 10_000);
    this.#trusted = new TtlCache(now, 10_000);
    this.#byIp = new FailureLimiter(options.maxFailuresPerIp, options.failureWindowMs, now);
    this.#byUser = new FailureLimiter(options.maxFailuresPerUser, options.failureWindowMs, now);
  }

  async authenticate(ip: string, username: string, apiKey: string): Promise<AuthDecision> {
    const hash = keyHash(apiKey);
    const userKey = username.toLowerCase();
    if (this.#byIp.blocked(ip)) return { kind: "blocked", by: "ip" };
    // Usernames are free text and often shared ("apikey"), so a per-username lockout would let
    // anyone lock every client out. Keys that passed recently are exempt; the lockout then only
    // stops guessing under that username.
    if (this.#byUser.blocked(userKey) && !this.#trusted.get(hash)) return { kind: "blocked", by: "user" };

    const check = apiKey === "" ? ({ kind: "invalid", status: 401 } as const) : await this.#check(hash, apiKey);
    switch (check.kind) {
      case "unavailable":
        return { kind: "unavailable", reason: check.reason };
      case "invalid":
        this.#byIp.fail(ip);
        this.#byUser.fail(userKey);
        return { kind: "invalid" };
      case "valid":
        // The relay treats `admin` as holding every scope; so does the bridge.
        if (!check.scopes.includes("send") && !check.scopes.includes("admin")) {
          this.#byIp.fail(ip);
          this.#byUser.fail(userKey);
          return { kind: "no_scope" };
        }
        this.#trusted.set(hash, true, TRUSTED_KEY_TTL_MS);
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

// The user layer at accept (a user's daily limit, refused with 429), with capacity leased to
// the isolate. Asking the workspace's Durable Object for every message cost about 0.55 ms of
// CPU per accept (the RPC plus its storage write), a fifth of the whole request (bench/profile.mjs). So a
// user sending in bursts is handed a small block of units with the answer, and the next
// messages within LEASE_TTL_MS are counted here.
//
// What keeps it exact:
// - Leased units are consumed in the object when they are handed out, so the limit is never
//   exceeded, whatever the isolates do.
// - A lease is at most 1/8 of the room left (durable-objects/ledger-store.ts), so near the limit
//   units are asked for one by one; a first message after a quiet spell gets no lease at all.
// - Unused units go back when the lease ends: with the next call for the same user, or after
//   LEASE_TTL_MS through the request's waitUntil. Only an isolate that dies while holding a lease
//   loses its units (at most LEASE_MAX) until the window rolls over.
// Without waitUntil (callers that cannot run work after their answer) every message asks the
// object, as before.
import { scaleItems, type Consumption, type Decision, type LimitRule } from "../core/limits/ledger";
import { getWorkspaceLimiter } from "../durable-objects/workspace-limiter";
import type { LeaseAnswer } from "../durable-objects/ledger-store";
import type { Defer } from "./defer";

/** Units leased at most at once. */
const LEASE_MAX = 32;
/** How long a lease is used before its rest goes back. */
const LEASE_TTL_MS = 2_000;
/** A user counts as sending in a burst when its previous message was this recent. */
const BURST_GAP_MS = 1_000;

interface Lease {
  left: number;
  /** Its rest went back to the object: a refund must go there too. */
  closed: boolean;
  items: Consumption[];
  expiresAt: number;
  workspaceId: string;
}

const leases = new Map<string, Lease>();
const lastAsked = new Map<string, number>();
const inflight = new Map<string, Promise<void>>();

export interface UserConsumption {
  decision: Decision;
  /** Gives the units back (the message was not stored). */
  refund(): Promise<void>;
}

export async function consumeUserLimit(
  env: Env,
  workspaceId: string,
  owner: string,
  rules: LimitRule[],
  n: number,
  tz: string,
  now: number,
  defer?: Defer,
): Promise<UserConsumption> {
  const key = `${workspaceId}\u0000${owner}\u0000${tz}\u0000${JSON.stringify(rules)}`;
  // One lease request per user in flight per isolate: requests arriving meanwhile wait for it
  // and take from it, rather than each taking a lease (which would hand the room out in blocks).
  for (let waited = 0; ; waited++) {
    const local = take(env, key, n, now);
    if (local) return local;
    const pending = inflight.get(key);
    if (!pending || waited >= 3) break;
    await pending;
  }

  const stale = leases.get(key);
  let returned: Consumption[] = [];
  if (stale) {
    if (stale.left > 0) returned = scaleItems(stale.items, stale.left);
    stale.left = 0;
    stale.closed = true;
    leases.delete(key);
  }
  const bursting = defer !== undefined && !inflight.has(key) && now - (lastAsked.get(key) ?? -Infinity) < BURST_GAP_MS;
  lastAsked.set(key, now);
  if (lastAsked.size > 10_000) lastAsked.clear();

  const limiter = getWorkspaceLimiter(env, workspaceId);
  let release = () => {};
  if (bursting) inflight.set(key, new Promise<void>((r) => (release = r)));
  let answer: LeaseAnswer;
  try {
    answer = await limiter.lease(rules, n, bursting ? LEASE_MAX : 0, tz, now, returned);
    if (answer.decision.allowed && answer.extra > 0 && defer) {
      const lease: Lease = { left: answer.extra, closed: false, items: answer.items, expiresAt: now + LEASE_TTL_MS, workspaceId };
      leases.set(key, lease);
      defer(
        new Promise((r) => setTimeout(r, LEASE_TTL_MS)).then(() => {
          if (leases.get(key) === lease) leases.delete(key);
          return giveBack(env, lease);
        }),
      );
    }
  } finally {
    if (bursting) {
      inflight.delete(key);
      release();
    }
  }
  if (!answer.decision.allowed) {
    // A lease taken meanwhile by another request of this isolate may still hold units.
    return take(env, key, n, now) ?? { decision: answer.decision, refund: async () => {} };
  }
  const mine = scaleItems(answer.items, n);
  return { decision: answer.decision, refund: () => limiter.giveBack(mine) };
}

/** n units from this isolate's live lease for the key, if it has them. */
function take(env: Env, key: string, n: number, now: number): UserConsumption | null {
  const lease = leases.get(key);
  if (!lease || lease.closed || lease.expiresAt <= now || lease.left < n) return null;
  lease.left -= n;
  return {
    decision: { allowed: true, repeated: false },
    refund: async () => {
      if (lease.closed) await getWorkspaceLimiter(env, lease.workspaceId).giveBack(scaleItems(lease.items, n));
      else lease.left += n; // goes back with the rest of the lease
    },
  };
}

/** Returns a lease's unused units to the object (once). */
async function giveBack(env: Env, lease: Lease): Promise<void> {
  if (lease.closed) return;
  lease.closed = true;
  const left = lease.left;
  lease.left = 0;
  if (left <= 0) return;
  await getWorkspaceLimiter(env, lease.workspaceId).giveBack(scaleItems(lease.items, left));
}

// Call leases, pure: a breaker's trial permits and a provider's in-flight calls are each held for
// a lease sized to the provider's own call timeout (plus a small margin), not for minutes. A call
// that died (its Worker was killed mid-call and never reported back) loses its lease when the
// lease ends, so a half-open breaker is never left with every trial permit held by dead calls.
//
// A lease that ends early while its call is still alive (a provider slower than its timeout
// says) costs at most one extra trial or one miscounted load: these leases bound the breaker's
// parallelism, not a recipient's sends (that is the recipient claim in db/messages/delivery.ts).

import { callDeadlineMs } from "../deadline";

export interface Lease {
  /** When the call was granted; identifies the permit when the call reports back. */
  startedAt: number;
  /** When the lease ends if the call never reports back. */
  until: number;
  /** What the call was for (the delivery's message, or message:recipient for a per-recipient copy). */
  key?: string;
  /**
   * The permit's own identity, unique per grant: a report takes back exactly its own lease by it.
   * Inside workerd the clock stands still between I/O, so a batch's calls share one startedAt.
   */
  id?: string;
}

/** A call whose lease ended without an answer: the provider may or may not have taken it. */
export interface Orphan {
  key: string;
  at: number;
}

/** Added to a provider's timeout: the report back from a call that just timed out still arrives in time. */
export const LEASE_MARGIN_MS = 5_000;
/** Timeout of a provider whose configuration names none (Mailgun's and SMTP's default). */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 30_000;
/** Lease of a call whose provider is not known (a caller that does not say). */
export const DEFAULT_CALL_LEASE_MS = DEFAULT_PROVIDER_TIMEOUT_MS + LEASE_MARGIN_MS;
/**
 * Orphans are remembered this long and at most this many per provider: a lapsed claim is taken
 * over within minutes of the crash, and the list rides in the object's one stored value, which
 * every call writes, so it stays small (a killed consumer leaves at most its batch's calls).
 */
export const ORPHAN_TTL_MS = 60 * 60 * 1000;
export const MAX_ORPHANS = 200;

/**
 * How long a call to this provider can take at most, plus the margin: its configured timeout_ms,
 * which is a hard deadline on the whole call (core/deadline.ts: Gmail's token exchange and send,
 * an SMTP session from connect to the end of its transaction, together).
 */
export function callLeaseMs(type: string, config: unknown): number {
  return callDeadlineMs(type, config) + LEASE_MARGIN_MS;
}

export const lease = (now: number, leaseMs: number, key?: string, id?: string): Lease => ({
  startedAt: now,
  until: now + leaseMs,
  ...(key === undefined ? {} : { key }),
  ...(id === undefined ? {} : { id }),
});

export const liveLeases = (leases: readonly Lease[], now: number): Lease[] => leases.filter((l) => l.until > now);

/**
 * Removes the lease a report is about: the one with this `id` when the grant carries one (never
 * another call's, though several were granted in the same millisecond); without an id (a grant
 * from before ids, or anonymous trial permits, which are interchangeable) the first one granted
 * at `startedAt`, one without an id of its own first.
 */
export function takeLease(leases: readonly Lease[], startedAt: number, id?: string): Lease[] {
  const anonymous = () => {
    const j = leases.findIndex((l) => l.startedAt === startedAt && l.id === undefined);
    return j >= 0 ? j : leases.findIndex((l) => l.startedAt === startedAt);
  };
  const i = id !== undefined ? leases.findIndex((l) => l.id === id) : anonymous();
  return i < 0 ? [...leases] : [...leases.slice(0, i), ...leases.slice(i + 1)];
}

/**
 * Ends the leases that ran out: the live ones stay, the ended ones with a key become orphans
 * (kept for ORPHAN_TTL_MS, newest MAX_ORPHANS), so a later delivery of the same message can be
 * sent to the provider it was in flight on.
 */
export function expireLeases(leases: readonly Lease[], orphans: readonly Orphan[], now: number): { leases: Lease[]; orphans: Orphan[] } {
  const live = liveLeases(leases, now);
  const ended = leases.filter((l) => l.until <= now && l.key !== undefined).map((l) => ({ key: l.key!, at: l.until }));
  const kept = [...orphans.filter((o) => now - o.at < ORPHAN_TTL_MS), ...ended].slice(-MAX_ORPHANS);
  return { leases: live.length === leases.length ? [...leases] : live, orphans: kept };
}

/** Stored state written before leases had an end: a start time alone, held for the old two minutes. */
export function normalizeLeases(raw: readonly unknown[] | undefined, legacyTtlMs = 2 * 60 * 1000): Lease[] {
  return (raw ?? []).map((x) => (typeof x === "number" ? { startedAt: x, until: x + legacyTtlMs } : (x as Lease)));
}

// A limiter's counters and its one operation: check every rule, and consume from all of them
// or none. Which keys (message ids) already consumed is the caller's record (the Durable
// Object keeps one row per key); this file only says what a consumption changed, so it can be
// remembered and refunded exactly.
import { checkCounter, checkGcra, type Counter, type Period } from "./windows";

export type LimitRule =
  | { name: string; kind: "window"; period: Period; max: number }
  | { name: string; kind: "rate"; perSecond: number; burst: number };

export interface Consumption {
  name: string;
  windowStart?: number;
  n: number;
  gcraMs?: number;
}

export interface Counters {
  counters: Record<string, Counter>;
  tats: Record<string, number>;
}

export const emptyCounters = (): Counters => ({ counters: {}, tats: {} });

export type Decision = { allowed: true; repeated: boolean } | { allowed: false; retryAt: number; rule: string };

/** How long a consumption key is remembered (longer than any retry of one message takes to be retried). */
export const KEY_TTL_MS = 6 * 24 * 3_600_000;

export function consume(
  s: Counters,
  rules: LimitRule[],
  n: number,
  now: number,
  tz = "UTC",
): { state: Counters; decision: Decision; items: Consumption[] } {
  const counters = { ...s.counters };
  const tats = { ...s.tats };
  const items: Consumption[] = [];
  for (const rule of rules) {
    if (rule.kind === "window") {
      const r = checkCounter(counters[rule.name], { period: rule.period, max: rule.max }, n, now, tz);
      if (!r.ok) return { state: s, decision: { allowed: false, retryAt: r.retryAt, rule: rule.name }, items: [] };
      counters[rule.name] = r.next;
      items.push({ name: rule.name, windowStart: r.next.windowStart, n });
    } else {
      const r = checkGcra(tats[rule.name], rule.perSecond, rule.burst, n, now);
      if (!r.ok) return { state: s, decision: { allowed: false, retryAt: r.retryAt, rule: rule.name }, items: [] };
      tats[rule.name] = r.tat;
      items.push({ name: rule.name, n, gcraMs: (1000 / rule.perSecond) * n });
    }
  }
  return { state: { counters, tats }, decision: { allowed: true, repeated: false }, items };
}

/** How many units every rule could still take now (window rules; a rate rule does not cap it). */
export function roomLeft(s: Counters, rules: LimitRule[], now: number, tz = "UTC"): number {
  let room = Infinity;
  for (const rule of rules) {
    if (rule.kind !== "window") continue;
    const r = checkCounter(s.counters[rule.name], { period: rule.period, max: rule.max }, 0, now, tz);
    room = Math.min(room, r.ok ? rule.max - r.next.count : 0);
  }
  return Number.isFinite(room) ? Math.max(0, room) : 0;
}

/** The part of a consumption's items that `units` of it account for (to give back part of it). */
export function scaleItems(items: Consumption[], units: number): Consumption[] {
  return items.map((i) => {
    const per = i.n > 0 ? units / i.n : 0;
    return { ...i, n: units, ...(i.gcraMs !== undefined ? { gcraMs: i.gcraMs * per } : {}) };
  });
}

/** Gives back what one consumption took (a later layer refused, or the message was not kept). */
export function refund(s: Counters, items: Consumption[]): Counters {
  const counters = { ...s.counters };
  const tats = { ...s.tats };
  for (const item of items) {
    const counter = counters[item.name];
    if (item.windowStart !== undefined && counter && counter.windowStart === item.windowStart) {
      counters[item.name] = { ...counter, count: Math.max(0, counter.count - item.n) };
    }
    if (item.gcraMs !== undefined && tats[item.name] !== undefined) tats[item.name] = tats[item.name]! - item.gcraMs;
  }
  return { counters, tats };
}

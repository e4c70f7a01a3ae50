// A limiter's whole state and its one operation: check every rule, and consume from all of
// them or none. Consumption is remembered by key (message id), so a queue redelivery or a
// retry of the same message never counts twice, and a later layer's refusal can refund it.
import { checkCounter, checkGcra, type Counter, type Period } from "./windows";

export type LimitRule =
  | { name: string; kind: "window"; period: Period; max: number }
  | { name: string; kind: "rate"; perSecond: number; burst: number };

interface Consumed {
  at: number;
  items: { name: string; windowStart?: number; n: number; gcraMs?: number }[];
}

export interface LedgerState {
  counters: Record<string, Counter>;
  tats: Record<string, number>;
  consumed: Record<string, Consumed>;
}

export const emptyLedger = (): LedgerState => ({ counters: {}, tats: {}, consumed: {} });

export type Decision = { allowed: true; repeated: boolean } | { allowed: false; retryAt: number; rule: string };

/** How long a consumption key is remembered (longer than any retry of one message takes to be retried). */
export const KEY_TTL_MS = 6 * 24 * 3_600_000;

export function consume(s: LedgerState, key: string, rules: LimitRule[], n: number, now: number, tz = "UTC"): { state: LedgerState; decision: Decision } {
  if (s.consumed[key]) return { state: s, decision: { allowed: true, repeated: true } };
  const counters = { ...s.counters };
  const tats = { ...s.tats };
  const items: Consumed["items"] = [];
  for (const rule of rules) {
    if (rule.kind === "window") {
      const r = checkCounter(counters[rule.name], { period: rule.period, max: rule.max }, n, now, tz);
      if (!r.ok) return { state: s, decision: { allowed: false, retryAt: r.retryAt, rule: rule.name } };
      counters[rule.name] = r.next;
      items.push({ name: rule.name, windowStart: r.next.windowStart, n });
    } else {
      const r = checkGcra(tats[rule.name], rule.perSecond, rule.burst, n, now);
      if (!r.ok) return { state: s, decision: { allowed: false, retryAt: r.retryAt, rule: rule.name } };
      tats[rule.name] = r.tat;
      items.push({ name: rule.name, n, gcraMs: (1000 / rule.perSecond) * n });
    }
  }
  return { state: { counters, tats, consumed: { ...prune(s.consumed, now), [key]: { at: now, items } } }, decision: { allowed: true, repeated: false } };
}

/** Gives back what `key` consumed (when a later layer refused, or the message was not kept). */
export function refund(s: LedgerState, key: string): LedgerState {
  const c = s.consumed[key];
  if (!c) return s;
  const counters = { ...s.counters };
  const tats = { ...s.tats };
  for (const item of c.items) {
    const counter = counters[item.name];
    if (item.windowStart !== undefined && counter && counter.windowStart === item.windowStart) {
      counters[item.name] = { ...counter, count: Math.max(0, counter.count - item.n) };
    }
    if (item.gcraMs !== undefined && tats[item.name] !== undefined) tats[item.name] = tats[item.name]! - item.gcraMs;
  }
  const consumed = { ...s.consumed };
  delete consumed[key];
  return { counters, tats, consumed };
}

function prune(consumed: Record<string, Consumed>, now: number): Record<string, Consumed> {
  const keys = Object.keys(consumed);
  if (keys.length < 1000) return consumed;
  return Object.fromEntries(Object.entries(consumed).filter(([, c]) => now - c.at < KEY_TTL_MS));
}

/** What a rule has left in the current window (for the API). */
export function usage(s: LedgerState, rule: LimitRule, now: number, windowStartOf: (now: number, p: Period) => number): number {
  if (rule.kind !== "window") return 0;
  const c = s.counters[rule.name];
  return c && c.windowStart === windowStartOf(now, rule.period) ? c.count : 0;
}

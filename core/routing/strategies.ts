// Routing strategies, pure: candidates and whatever state a strategy needs go in, an ordered
// list comes out (first = the choice, the rest = the failover order). Priority order is the
// tie-breaker everywhere so results are stable.
import { z } from "@hono/zod-openapi";

export interface Candidate {
  id: string;
  priority: number;
  weight: number;
}

export interface Load {
  inFlight: number;
  /** Recent mean latency in ms (EWMA); null when unknown. */
  latencyMs: number | null;
}

export const STRATEGIES = ["priority", "round_robin", "weighted", "least_loaded", "domain_based"] as const;
export type StrategyName = (typeof STRATEGIES)[number];

// "*.nhs.uk" matches any subdomain of nhs.uk (not nhs.uk itself); "gmail.com" matches exactly.
const PATTERN = /^(\*\.)?(?!-)[a-z0-9-]{1,63}(\.(?!-)[a-z0-9-]{1,63})*$/;

export const domainRuleSchema = z
  .object({
    pattern: z
      .string()
      .transform((p) => p.toLowerCase())
      .refine((p) => PATTERN.test(p), "a domain such as gmail.com or a wildcard such as *.nhs.uk"),
    provider_id: z.string().min(1),
  })
  .strict();

export type DomainRule = z.infer<typeof domainRuleSchema>;

export const byPriority = <C extends Candidate>(cands: readonly C[]): C[] =>
  [...cands].sort((a, b) => a.priority - b.priority);

/** Rotates the priority order by `position`, so successive calls start at successive providers. */
export function roundRobin<C extends Candidate>(cands: readonly C[], position: number): C[] {
  const sorted = byPriority(cands);
  if (sorted.length === 0) return sorted;
  const start = ((position % sorted.length) + sorted.length) % sorted.length;
  return [...sorted.slice(start), ...sorted.slice(0, start)];
}

/** Weighted random choice (rng in [0,1)); weight 0 is never chosen first. The rest follow by priority. */
export function weighted<C extends Candidate>(cands: readonly C[], rng: () => number): C[] {
  const sorted = byPriority(cands);
  const total = sorted.reduce((n, c) => n + Math.max(0, c.weight), 0);
  if (total <= 0) return sorted;
  let r = rng() * total;
  let chosen = sorted[sorted.length - 1]!;
  for (const c of sorted) {
    const w = Math.max(0, c.weight);
    if (r < w) {
      chosen = c;
      break;
    }
    r -= w;
  }
  return [chosen, ...sorted.filter((c) => c !== chosen)];
}

/** Fewest calls in flight first; then lower recent latency (unknown latency counts as slowest); then priority. */
export function leastLoaded<C extends Candidate>(cands: readonly C[], loads: ReadonlyMap<string, Load>): C[] {
  const sorted = byPriority(cands);
  const key = (c: C) => loads.get(c.id) ?? { inFlight: 0, latencyMs: null };
  return sorted
    .map((c, i) => ({ c, i, l: key(c) }))
    .sort((a, b) => a.l.inFlight - b.l.inFlight || (a.l.latencyMs ?? Infinity) - (b.l.latencyMs ?? Infinity) || a.i - b.i)
    .map((x) => x.c);
}

export function matchesDomain(pattern: string, domain: string): boolean {
  const d = domain.toLowerCase();
  if (pattern.startsWith("*.")) return d.endsWith(pattern.slice(1)) && d.length > pattern.length - 1;
  return d === pattern;
}

/**
 * The first rule whose pattern matches the recipient's domain picks the provider; otherwise
 * the default provider (if set); the others follow by priority. Exact patterns are tried
 * before wildcards so "mail.nhs.uk" can override "*.nhs.uk".
 */
export function domainBased<C extends Candidate>(cands: readonly C[], rules: readonly DomainRule[], defaultId: string | null, recipientDomain: string): C[] {
  const sorted = byPriority(cands);
  const ordered = [...rules.filter((r) => !r.pattern.startsWith("*.")), ...rules.filter((r) => r.pattern.startsWith("*."))];
  const rule = ordered.find((r) => matchesDomain(r.pattern, recipientDomain) && sorted.some((c) => c.id === r.provider_id));
  const pick = rule?.provider_id ?? (defaultId && sorted.some((c) => c.id === defaultId) ? defaultId : null);
  if (!pick) return sorted;
  return [...sorted.filter((c) => c.id === pick), ...sorted.filter((c) => c.id !== pick)];
}

/** A seeded RNG (mulberry32) for reproducible weighted draws in tests and simulations. */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

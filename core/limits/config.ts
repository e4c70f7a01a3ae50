// Limit settings and the rules they become. Defaults are the spec's: global 100,000/day,
// 5,000/hour, burst 100/s; workspace 10,000/day; user 500/day. Units are recipients (emails),
// not API calls: a message to 3 people counts 3.
import { z } from "@hono/zod-openapi";
import type { GlobalLimits } from "../config";
import type { LimitRule } from "./ledger";
import { isValidTimeZone } from "./windows";

export const workspaceLimitsSchema = z
  .object({
    time_zone: z.string().refine(isValidTimeZone, "an IANA time zone such as Europe/London").default("UTC"),
    daily: z.number().int().min(0).max(100_000_000).default(10_000),
    hourly: z.number().int().min(0).max(100_000_000).nullable().default(null),
    /** Per user (the credential's owner; a key without a user counts as its own user). */
    user_daily: z.number().int().min(0).max(100_000_000).default(500),
    /** Per-user overrides by user id or API key id, e.g. {"usr_…": 2000, "key_…": 10000}. */
    user_overrides: z.record(z.string().min(1).max(64), z.number().int().min(0).max(100_000_000)).default({}),
  })
  .strict();

export type WorkspaceLimits = z.infer<typeof workspaceLimitsSchema>;
export const DEFAULT_WORKSPACE_LIMITS: WorkspaceLimits = workspaceLimitsSchema.parse({});

/** One shard's share of each global limit (rounded up, so small limits stay usable). */
export function globalShardRules(g: GlobalLimits): LimitRule[] {
  const share = (n: number) => Math.ceil(n / g.shards);
  return [
    { name: "global:rate", kind: "rate", perSecond: share(g.burstPerSecond), burst: share(g.burstPerSecond) },
    { name: "global:hour", kind: "window", period: "hour", max: share(g.hourly) },
    { name: "global:day", kind: "window", period: "day", max: share(g.daily) },
  ];
}

export function workspaceRules(l: WorkspaceLimits): LimitRule[] {
  const rules: LimitRule[] = [{ name: "workspace:day", kind: "window", period: "day", max: l.daily }];
  if (l.hourly !== null) rules.push({ name: "workspace:hour", kind: "window", period: "hour", max: l.hourly });
  return rules;
}

export function userRules(l: WorkspaceLimits, owner: string): LimitRule[] {
  return [{ name: `user:${owner}:day`, kind: "window", period: "day", max: l.user_overrides[owner] ?? l.user_daily }];
}

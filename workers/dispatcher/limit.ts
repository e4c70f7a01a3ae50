// The limit step (spec §4): global, then workspace. Over either means defer until the window
// opens — accepted mail is never refused here (the user layer refuses at accept time).
// Both consumptions are keyed by the message id, so redelivery never counts twice, and the
// global one is refunded when the workspace refuses (all or nothing).
import { globalShardRules, readGlobalLimits, workspaceRules, type WorkspaceLimits } from "../../core/limits/config";
import { getGlobalLimiter } from "../../durable-objects/global-limiter";
import { getWorkspaceLimiter } from "../../durable-objects/workspace-limiter";
import { consumeGlobal, consumeWorkspace } from "../do-calls";

export interface LimitHold {
  retryAt: number;
  rule: string;
}

export async function checkSendLimits(env: Env, workspaceId: string, messageId: string, n: number, limits: WorkspaceLimits, now: number): Promise<LimitHold | null> {
  const g = readGlobalLimits(env);
  // Both layers at once (one round trip of latency, not two); a refusal by either refunds the
  // other, so the pair stays all or nothing.
  // Coalesced with the rest of the queue batch's messages (workers/do-calls.ts).
  const [gd, wd] = await Promise.all([
    consumeGlobal(env, messageId, g.shards, `global:${messageId}`, globalShardRules(g), n, now),
    consumeWorkspace(env, workspaceId, { key: `workspace:${messageId}`, rules: workspaceRules(limits), n, tz: limits.time_zone, now }),
  ]);
  if (gd.allowed && wd.allowed) return null;
  // Stubs only here: naming an object hashes its name, work the allowed case (nearly every
  // message, whose consumes went through the batch's coalescer) does not need.
  await Promise.all([
    gd.allowed ? getGlobalLimiter(env, messageId, g.shards).refund(`global:${messageId}`) : null,
    wd.allowed ? getWorkspaceLimiter(env, workspaceId).refund(`workspace:${messageId}`) : null,
  ]);
  // Named after the global rule when both refuse (the workspace cannot change it); wait for both.
  if (!gd.allowed) return { retryAt: wd.allowed ? gd.retryAt : Math.max(gd.retryAt, wd.retryAt), rule: gd.rule };
  if (!wd.allowed) return { retryAt: wd.retryAt, rule: wd.rule };
  return null;
}

const RULE_NAMES: Record<string, string> = {
  "global:rate": "the relay's burst limit",
  "global:hour": "the relay's hourly limit",
  "global:day": "the relay's daily limit",
  "workspace:hour": "the workspace's hourly limit",
  "workspace:day": "the workspace's daily limit",
};

export const describeHold = (h: LimitHold) => `${RULE_NAMES[h.rule] ?? h.rule} is reached; sending resumes at ${new Date(h.retryAt).toISOString()}`;

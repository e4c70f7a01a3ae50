// limit (spec §4): the global and the workspace limits. Over either means the recipients wait
// for the window to open: accepted mail is never refused here (the user layer refuses at accept
// time). Both consumptions are keyed by the message id, so redelivery never counts twice, and
// each is refunded when the other refuses (all or nothing).
//
// The limits are asked as soon as the claim is known and answered in `hold`, after the body
// load and the render, so the Durable Object round trips overlap them instead of adding to them
// (an LLM call, which costs, waits for the answer first: steps/enrich.ts).
import { limitDeferral } from "../../../core/delivery/outcome";
import { readConfig } from "../../../core/config";
import { globalShardRules, workspaceRules, type WorkspaceLimits } from "../../../core/limits/config";
import { queueDelaySeconds } from "../../../core/retry-policy";
import { pinnedProvider } from "../../../core/routing/release";
import { getGlobalLimiter } from "../../../durable-objects/global-limiter";
import { getWorkspaceLimiter } from "../../../durable-objects/workspace-limiter";
import type { DoCalls } from "../../do-calls";
import { log } from "../../log";
import type { BatchContext } from "../batch-context";
import { asked, type Claimed, type JobOutcome, type LimitHold, type Limited, type Ready, type Rendered, type Stop } from "../delivery";


/** Asks both limits for the job's pending recipients; the answer is awaited by `hold`. */
export function limit(ctx: BatchContext, d: Claimed): Limited {
  const { workspaceId, id } = d.message;
  return { ...d, limits: asked(checkSendLimits(ctx.env, ctx.calls, workspaceId, id, d.pending.length, d.settings.limits, d.now)) };
}

/** The limits' answer. Over one, the first permit (asked beside the render) goes back unused. */
export async function hold(ctx: BatchContext, d: Rendered): Promise<Ready | Stop> {
  const held = await d.limits;
  if (held) {
    const first = await d.firstPermit?.catch(() => null);
    const grant = await first?.grant.catch(() => null);
    if (first && grant?.allowed) await ctx.calls.cancelPermit(d.message.workspaceId, first.provider.id, grant).catch(() => {});
    return { stop: "limited", d, hold: held };
  }
  const [routeGroups, first] = await Promise.all([d.groups, d.firstPermit]);
  return { ...d, routeGroups, first };
}

export async function checkSendLimits(env: Env, calls: DoCalls, workspaceId: string, messageId: string, n: number, limits: WorkspaceLimits, now: number): Promise<LimitHold | null> {
  const g = readConfig(env).globalLimits;
  // Both layers at once (one round trip of latency, not two); a refusal by either refunds the
  // other, so the pair stays all or nothing.
  // Coalesced with the rest of the queue batch's messages (workers/do-calls.ts).
  const [gd, wd] = await Promise.all([
    calls.consumeGlobal(messageId, g.shards, `global:${messageId}`, globalShardRules(g), n, now),
    calls.consumeWorkspace(workspaceId, { key: `workspace:${messageId}`, rules: workspaceRules(limits), n, tz: limits.time_zone, now }),
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

/** Records the wait: every recipient still waiting is deferred until the window opens. */
export async function recordLimitHold(ctx: BatchContext, d: Claimed, hold: LimitHold): Promise<JobOutcome> {
  const { message } = d;
  const at = ctx.now();
  const mine = new Set(d.claimed.map((r) => r.id));
  // Recipients another consumer holds (`sending`, not claimed here) are left to it.
  const waiting = d.pending.filter((r) => r.status !== "sending" || mine.has(r.id));
  const reason = describeHold(hold);
  const { outcomes, attempt } = limitDeferral(message, waiting, mine, reason, d.job.deliveryId, at);
  await ctx.store.delivery.recordDelivery({
    workspaceId: message.workspaceId,
    messageId: message.id,
    at,
    outcomes,
    otherStatuses: d.recipients.filter((r) => !waiting.includes(r)).map((r) => r.status),
    attempts: [attempt],
    notBefore: hold.retryAt,
    enqueuedAt: hold.retryAt,
    // The window's opening is known now: the limit's own retry time is exact, nothing releases it
    // earlier. A pin (a lapsed call's provider) is kept: the next attempt still goes there.
    waitingOn: pinnedProvider(message.waitingOn) ? message.waitingOn : `limit:${hold.rule}`,
    lastError: reason,
    countAttempt: false,
  });
  log.info("delivery_deferred_by_limit", { message_id: message.id, rule: hold.rule, retry_at: hold.retryAt });
  return { kind: "later", delaySeconds: queueDelaySeconds(hold.retryAt, at), reason };
}

// One delivery job as a list of named steps (after Postal's outgoing message processor):
// load → render → route → deliver → record. Each step returns a value; the consumer maps the
// final outcome to ack / re-enqueue. Later work fills enrich, limit and smarter routing in
// between without changing the shape.
import { readConfig } from "../../core/config";
import { decodeContent, type MessageContent } from "../../core/content";
import { loadKeyring } from "../../core/crypto";
import { renderMime } from "../../core/mime-render";
import { readRawHeaders } from "../mime-parse";
import { nextRetry, queueDelaySeconds, type RetryPolicy } from "../../core/retry-policy";
import { isPending, type RecipientStatus } from "../../core/status";
import { parseWorkspaceConfig } from "../../core/workspace-config";
import { newId } from "../../core/ids";
import { loadBody } from "../../db/body-store";
import type { Db } from "../../db/client";
import {
  claimLapsesAt,
  insertAttempt,
  loadAndClaim,
  renewClaim,
  loadWorkspaceForDelivery,
  releaseClaim,
  markDueAt,
  type NewAttempt,
  recordDelivery,
  type MessageRecipientRow,
  type MessageRow,
  type RecipientOutcome,
} from "../../db/messages";
import type { ProviderRow } from "../../db/providers";
import { log } from "../log";
import { applyTrending, pickTrendingQuestion } from "../../core/trending";
import { contentUsesVariables, loadRecipientVariables, personalCopy } from "../template-variables";
import { personalizeMessage } from "../llm/personalize";
import { afterRecord } from "./after-record";
import { deliveryEventStatements } from "../recipient-events";
import { encodeVerp } from "../../core/verp";
import { checkSendLimits, describeHold, type LimitHold } from "./limit";
import { quotaFor, quotaRules } from "../../core/limits/quota";
import { deliverGroup, phiProviders, phiRefusal, planRoute, type GroupOutcome, type RouteGroup } from "./route";
import { acquirePermit, cancelPermit } from "../do-calls";
import { callLeaseMs } from "../../core/routing/leases";
import { orphanedOn, planTakeover } from "../../core/routing/takeover";
import { callDeadlineMs, CLAIM_MARGIN_MS, defaultDeadlineMs, needsRenewal, withDeadline } from "../../core/deadline";
import { messageWaitsOn, pinnedProvider, pinTo, waitsOn } from "../../core/routing/release";
import { getProviderState } from "../../durable-objects/provider-state";
import { buildProvider } from "./build-provider";
import { providerFetch } from "./providers/transport";
import type { OutboundMessage, Provider, SendResult } from "./providers/types";

/**
 * The claim on a job's recipients (`sending`, lease_until): taken with a lease covering the
 * first provider call (db/messages.ts loadAndClaim), renewed right before every call to the
 * call's hard deadline plus a margin (core/deadline.ts). A call never outlives its deadline, so
 * a claim is never free while a call for its recipients is in flight, and a consumer that dies
 * frees its recipients within one call's deadline + margin.
 */
interface Claim {
  /** The claim's identity: the recipients' updated_at it stamped. */
  claimedAt: number;
  /** When it lapses, as this job last wrote it. */
  leaseUntil: number;
}

const CLAIM_LEASE = { defaultDeadlineMs, marginMs: CLAIM_MARGIN_MS };

export type JobOutcome =
  | { kind: "done"; status: string }
  | { kind: "later"; delaySeconds: number; reason: string };

export interface PipelineDeps {
  env: Env;
  db: Db;
  now: () => number;
  /**
   * The workspace's delivery facts, shared by the jobs of one queue batch (the consumer
   * memoizes them per workspace); read per job when absent.
   */
  workspaceFacts?: (workspaceId: string) => Promise<WorkspaceFacts>;
}

export type WorkspaceFacts = Awaited<ReturnType<typeof loadWorkspaceFacts>>;

/** Settings (parsed), providers and quotas: one read per workspace per batch. */
export async function loadWorkspaceFacts(db: Db, workspaceId: string) {
  const facts = await loadWorkspaceForDelivery(db, workspaceId);
  return { ...facts, settings: parseWorkspaceConfig(facts.workspaceConfig) };
}

type Loaded = NonNullable<Awaited<ReturnType<typeof loadAndClaim>>> & WorkspaceFacts;

export async function runDelivery(deps: PipelineDeps, workspaceId: string, messageId: string, deliveryId: string): Promise<JobOutcome> {
  // 1. load, and claim before calling anyone (same round trip): a recipient already `sent` is
  // never claimed again, and nothing is claimed for a job that arrived before its message is due.
  const now = deps.now();
  // Both reads go out in the same turn: in a queue batch they share one D1 round trip.
  const [job, facts] = await Promise.all([
    loadAndClaim(deps.db, workspaceId, messageId, now, CLAIM_LEASE, now + 1000),
    (deps.workspaceFacts ?? ((ws: string) => loadWorkspaceFacts(deps.db, ws)))(workspaceId),
  ]);
  if (!job) return { kind: "done", status: "missing" };
  const loaded: Loaded = { ...job, ...facts };
  const { message, claimed } = loaded;
  if (message.notBefore !== null && message.notBefore > now + 1000) {
    // A deferral longer than the queue's maximum delay arrives early: wait again.
    return wait(deps, message, queueDelaySeconds(message.notBefore, now), "not yet due");
  }
  const pending = loaded.recipients.filter((r) => isPending(r.status));
  if (pending.length === 0) return { kind: "done", status: message.status };
  if (claimed.length === 0) {
    // Another consumer holds them (or held them and died): look again when its claim lapses.
    const held = pending.filter((r) => r.status === "sending");
    const leaseEnd = Math.min(...(held.length ? held : pending).map(claimLapsesAt));
    return wait(deps, message, queueDelaySeconds(leaseEnd + 1000, now), "recipients in flight elsewhere");
  }
  // Until a provider is called, a failure hands the claim back (the queue's retry then finds
  // the recipients pending instead of waiting out the lease); after that, the lease stands, so
  // a crash between the call and the record can never lead to a quick second send.
  const call = { started: false };
  const claim: Claim = { claimedAt: now, leaseUntil: Math.min(...claimed.map((r) => r.leaseUntil ?? now)) };
  try {
    return await deliverClaimed(deps, loaded, pending, deliveryId, now, call, claim);
  } catch (e) {
    if (!call.started) {
      const before = new Map(loaded.recipients.map((r) => [r.id, r.status]));
      await releaseClaim(deps.db, workspaceId, messageId, claimed.map((r) => ({ id: r.id, status: before.get(r.id) ?? "queued" })), message.status, now).catch(() => {});
    }
    throw e;
  }
}

async function deliverClaimed(deps: PipelineDeps, loaded: Loaded, pending: MessageRecipientRow[], deliveryId: string, now: number, call: { started: boolean }, claim: Claim): Promise<JobOutcome> {
  const config = readConfig(deps.env);
  const { message, claimed } = loaded;
  const workspaceId = message.workspaceId;
  const messageId = message.id;
  const settings = loaded.settings;
  // Compliance routing: PHI (flagged by the sender or by DLP) goes only through BAA-covered
  // providers (route.ts phiProviders); with none configured the recipients fail, before any call.
  const phi = message.containsPhi || message.tags.includes("dlp:flagged");
  const refusal = phi ? phiRefusal(settings.routing, loaded.providers) : null;
  if (refusal) {
    const others = loaded.recipients.filter((r) => !claimed.some((c) => c.id === r.id)).map((r) => r.status);
    return record(deps, loaded, settings.retry_policy, claimed, others, [{ group: { recipients: claimed, order: [] }, outcome: { kind: "refused", reason: refusal } }], deliveryId);
  }

  // limit: global and workspace windows; over means wait for the window, not fail. Asked here
  // and awaited after the render, so the Durable Object round trips overlap the body load and
  // render instead of adding to them (and before any LLM call, which costs).
  const limitCheck = checkSendLimits(deps.env, workspaceId, messageId, pending.length, settings.limits, now);
  limitCheck.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"

  // 2. render
  const ring = await loadKeyring(deps.env.DATA_KEYS, config.dataKeyId);
  let content = decodeContent(await loadBody(deps.env.BODIES, ring, workspaceId, messageId, message));
  // <<TRENDING_QUESTION>>: one question per message, the same for every recipient and retry.
  if (content.kind === "structured") content = applyTrending(content, pickTrendingQuestion(settings.trending_questions, message.id, message.queuedAt));
  // LLM personalization (opt-in): the shared content once, before any recipient's values go in. Never throws.
  if (content.kind === "structured" && message.personalize) {
    const hold = await limitCheck;
    if (hold) return deferForLimit(deps, loaded, pending, hold, deliveryId, claimed);
    content = await personalizeMessage({ db: deps.db, ring, now: deps.now }, message, loaded.recipients.map((r) => r.email), content, settings.llm);
  }
  const renderOpts = { messageIdHeader: message.messageIdHeader, date: new Date(message.queuedAt) };
  // Templated structured content goes out as one copy per recipient (rendered below, after
  // routing); anything else is rendered once for everyone. Raw MIME is never templated.
  const fanOut = content.kind === "structured" && contentUsesVariables(content);
  // 3. route, asked now: it needs only the claim and the providers. For the common case (one
  // group, one copy) the first provider's permit is asked beside the limits and the render too,
  // so its Durable Object round trip does not come after them.
  const routed = planRoute(deps.env, workspaceId, settings.routing, phi ? phiProviders(settings.routing, loaded.providers) : loaded.providers, claimed);
  routed.catch(() => {}); // awaited below
  // A recipient taken over from a claim that lapsed (its consumer died, perhaps mid-call): when
  // its provider's report of the call reached that provider's object (2xx, with its message id)
  // it is recorded `sent` from that answer and not sent again; otherwise it goes to the provider
  // its call was in flight on (or answered a failure), and this attempt to it only: the same
  // message again (same Message-ID) lets that provider's own duplicate detection work, where
  // another provider would surely deliver a second copy. Asked only on this recovery path.
  const pin = pinnedProvider(message.waitingOn);
  const lapsed = lapsedClaims(loaded);
  const takeover = lapsed.length > 0 ? routed.then((gs) => sameProviderFirst(deps.env, loaded, lapsed, gs, deps.now(), pin, deps.now)) : null;
  const route = takeover ? takeover.then((t) => t.groups) : pin ? routed.then((gs) => pinGroups(gs, pin)) : routed;
  route.catch(() => {}); // awaited below
  const quotaOf = (provider: ProviderRow, key: string, n: number) => ({
    key,
    rules: quotaRules(quotaFor(provider.type, loaded.quotas.filter((q) => q.providerId === provider.id))),
    n,
  });
  const early = fanOut
    ? null
    : route.then((gs) => {
        const first = gs.length === 1 ? gs[0]!.order[0] : undefined;
        const lease = first ? { leaseMs: callLeaseMs(first.type, first.config), key: messageId } : undefined;
        return first ? { provider: first, grant: acquirePermit(deps.env, workspaceId, first.id, settings.routing.breaker, quotaOf(first, `provider:${messageId}`, claimed.length), lease) } : null;
      });
  early?.then((e) => e?.grant).catch(() => {}); // awaited below
  const raw = fanOut ? null : await renderMime(content, renderOpts);

  const hold = await limitCheck;
  if (hold) {
    // The early permit was not used: hand it back without an outcome.
    const e = await early?.catch(() => null);
    const grant = await e?.grant.catch(() => null);
    if (e && grant?.allowed) await cancelPermit(deps.env, workspaceId, e.provider.id, grant).catch(() => {});
    return deferForLimit(deps, loaded, pending, hold, deliveryId, claimed);
  }
  const others = loaded.recipients.filter((r) => !claimed.some((c) => c.id === r.id)).map((r) => r.status);
  let groups = await route;
  const earlyGrant = await early;
  // Fan-out: one group (one provider call) per recipient, each with its own rendered copy.
  // Copies are rendered when their call is made (attachments would not fit in memory 500 times
  // over), and at most FAN_OUT_CONCURRENCY calls run at once.
  const copies = new Map<string, MessageContent>();
  if (fanOut && content.kind === "structured") {
    groups = groups.flatMap((g) => g.recipients.map((r) => ({ recipients: [r], order: g.order })));
    const profiles = await loadRecipientVariables(deps.db, ring, workspaceId, claimed.map((r) => r.email));
    for (const r of claimed) copies.set(r.id, personalCopy(content, r.email, profiles.get(r.email.toLowerCase()) ?? {}, settings.variables));
  }

  // 4. deliver (groups in parallel: domain-based routing can split a message across providers)
  // Breaker reports run beside the record write below (see deliverGroup); a lost report costs
  // the breaker one outcome and its permit expires, so it is logged, not retried.
  const reports: Promise<unknown>[] = [];
  const background = (work: Promise<unknown>) =>
    void reports.push(work.catch((e) => log.error("breaker_report_failed", { message_id: messageId, error: e instanceof Error ? e.message : String(e) })));
  const delivered = await mapLimit(
    groups,
    fanOut ? FAN_OUT_CONCURRENCY : groups.length,
    async (group): Promise<Delivered> => {
      if (group.order.length === 0) return { group, outcome: { kind: "called", calls: [] } };
      const copy = copies.get(group.recipients[0]!.id);
      const outbound = copy
        ? await outboundFor(message, copy, await renderMime(copy, renderOpts), group.recipients, deliveryId)
        : await outboundFor(message, content, raw!, group.recipients, deliveryId);
      const outcome = await deliverGroup(deps.env, workspaceId, settings.routing, group.order, message.forceSend || settings.routing.force_send, deps.now, async (provider) => {
        const started = deps.now();
        call.started = true;
        const result = providerFault(await sendSafely(provider, await buildProvider(deps.env, ring, provider), envelopeFor(deps.env, provider, outbound, message, group.recipients), deps.now));
        if (result.status === "transient") {
          log.warn("provider_transient", { message_id: messageId, provider_id: provider.id, reason: result.reason });
          await recordAttempt(deps, { loaded, provider, claimed: group.recipients, deliveryId, result, started, others });
        }
        return result;
      }, (provider) =>
        // A per-recipient copy is its own consumption (the key is remembered, so one key per message would count only the first copy).
        quotaOf(provider, copy ? `provider:${messageId}:${group.recipients[0]!.id}` : `provider:${messageId}`, group.recipients.length),
      background, earlyGrant && earlyGrant.provider.id === group.order[0]?.id ? earlyGrant.grant : undefined, copy ? `${messageId}:${group.recipients[0]!.id}` : messageId,
      (provider) => holdClaim(deps, message, claim, provider, group.recipients), group.recipients.map((r) => r.id));
      return { group, outcome };
    },
  );
  if (takeover) delivered.push(...(await takeover).reconciled);

  // 5. record
  const [outcome] = await Promise.all([record(deps, loaded, settings.retry_policy, claimed, others, delivered, deliveryId), Promise.all(reports)]);
  return outcome;
}

/**
 * Right before a call: the claim must outlast the call's deadline. When it does not already
 * (the first call usually is covered by the claim itself), it is renewed to now + deadline +
 * margin, in one small statement (coalesced with the batch's other jobs). False when another
 * consumer took any of these recipients over meanwhile: this job must not call for them.
 */
async function holdClaim(deps: PipelineDeps, message: MessageRow, claim: Claim, provider: ProviderRow, recipients: MessageRecipientRow[]): Promise<boolean> {
  const deadline = callDeadlineMs(provider.type, provider.config);
  const at = deps.now();
  if (!needsRenewal(claim.leaseUntil, at, deadline)) return true;
  const until = at + deadline + CLAIM_MARGIN_MS;
  const held = await renewClaim(deps.db, message.workspaceId, message.id, claim.claimedAt, until);
  claim.leaseUntil = Math.max(claim.leaseUntil, until);
  if (recipients.every((r) => held.has(r.id))) return true;
  log.warn("claim_lost", { message_id: message.id, provider_id: provider.id });
  return false;
}

/** Provider calls in flight at once for one message's per-recipient copies. */
export const FAN_OUT_CONCURRENCY = 6;

/** Maps with at most `limit` calls in flight; results keep the input order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

interface Delivered {
  group: RouteGroup;
  outcome: GroupOutcome;
  /**
   * Not called: the provider's own report (2xx, with this id) of the lapsed claim's call reached
   * its object, the record did not (the consumer died in between). Recorded `sent` from it.
   */
  reconciled?: { providerId: string; providerMessageId: string; /** The attempt's detail, when not the report's. */ detail?: string };
}

/** Over a global or workspace limit: recipients wait (no attempt spent) until the window opens. */
async function deferForLimit(
  deps: PipelineDeps,
  loaded: Loaded,
  pending: MessageRecipientRow[],
  hold: LimitHold,
  deliveryId: string,
  /** Recipients this job claimed meanwhile (they go back to waiting too). */
  claimed: MessageRecipientRow[],
): Promise<JobOutcome> {
  const { message } = loaded;
  const at = deps.now();
  const mine = new Set(claimed.map((r) => r.id));
  // Recipients another consumer holds (`sending`, not claimed here) are left to it.
  const waiting = pending.filter((r) => r.status !== "sending" || mine.has(r.id));
  const reason = describeHold(hold);
  await recordDelivery(deps.db, {
    workspaceId: message.workspaceId,
    messageId: message.id,
    at,
    outcomes: waiting.map((r) => ({ id: r.id, status: "deferred", lastError: reason, ...(mine.has(r.id) ? { uncountAttempt: true } : {}) })),
    otherStatuses: loaded.recipients.filter((r) => !waiting.includes(r)).map((r) => r.status),
    attempts: [{ ...attemptRow(message, null, waiting, deliveryId, { status: "transient", reason }, at, at), outcome: "deferred" }],
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

/** Claimed recipients that were `sending` before this claim: their consumer's lease lapsed (it died, perhaps mid-call). */
const lapsedClaims = (loaded: Loaded) => {
  const before = new Map(loaded.recipients.map((r) => [r.id, r.status]));
  return loaded.claimed.filter((r) => before.get(r.id) === "sending");
};

/**
 * The takeover of recipients whose claim lapsed, from what the providers' objects know of its
 * calls (core/routing/takeover.ts planTakeover): a recipient whose call's provider reported a
 * 2xx is recorded `sent` with that provider and message id, without a call; the others go to the
 * provider a lapsed call was in flight on (its lease ended without a report) or answered a
 * failure, for each group that may use it, and to no other until that provider has been called:
 * if its breaker refuses, the group is deferred pinned to it and released when it half-opens;
 * after the call, routing is as usual. Without an answer the order stands. One round trip per
 * enabled provider, on this rare path only. Before a resend of a call that ended unreported
 * (never after a reported failure), a provider that can be asked (Provider.reconcile: Mailgun's
 * events by Message-ID) is asked: the recipients it names as taken are recorded `sent` from its
 * answer, the others resent; an error or no answer within its deadline resends them all.
 */
async function sameProviderFirst(
  env: Env,
  loaded: Loaded,
  lapsed: MessageRecipientRow[],
  groups: RouteGroup[],
  now: number,
  /** The provider an earlier takeover pinned this message to (waiting_on "pin:<id>"), if any. */
  pin: string | null,
  clock: () => number,
): Promise<{ groups: RouteGroup[]; reconciled: Delivered[] }> {
  const { workspaceId, id: messageId } = loaded.message;
  const keys = [messageId, ...loaded.claimed.map((r) => `${messageId}:${r.id}`)];
  // Every enabled provider, not only this route's: the dead call may have been a failover's.
  const candidates = [...new Map([...groups.flatMap((g) => g.order), ...loaded.providers].map((p) => [p.id, p])).values()];
  const evidence = await Promise.all(
    candidates.map(async (p) => ({
      providerId: p.id,
      ...(await getProviderState(env, workspaceId, p.id).takeoverEvidence(keys).catch(() => ({ unreported: [], reports: [] }))),
    })),
  );
  // The lapsed claim's stamp is the row's updated_at as it was read, before this claim.
  const before = new Map(loaded.recipients.map((r) => [r.id, r.updatedAt]));
  const plan = planTakeover(messageId, lapsed.map((r) => ({ id: r.id, claimedAt: before.get(r.id) ?? r.updatedAt })), evidence, now);
  const done = new Map(plan.reconciled.map((r) => [r.recipientId, r]));
  const reconciled = [...groupBy(plan.reconciled, (r) => `${r.providerId}\u0000${r.providerMessageId}`).values()].map((rs): Delivered => {
    const recipients = rs.map((r) => loaded.claimed.find((c) => c.id === r.recipientId)!);
    return { group: { recipients, order: [] }, outcome: { kind: "called", calls: [] }, reconciled: { providerId: rs[0]!.providerId, providerMessageId: rs[0]!.providerMessageId } };
  });
  if (reconciled.length) log.info("takeover_reconciled", { message_id: messageId, recipients: done.size, provider_ids: [...new Set(plan.reconciled.map((r) => r.providerId))].join(",") });
  // Unreported calls on the provider a resend goes to: ask it first, when it can be asked.
  const askRow = plan.resendTo ? candidates.find((p) => p.id === plan.resendTo) : undefined;
  const orphans = askRow ? orphanedOn(messageId, lapsed.filter((r) => !done.has(r.id)).map((r) => r.id), evidence, askRow.id) : [];
  if (askRow && orphans.length) {
    const rows = orphans.map((id) => loaded.claimed.find((c) => c.id === id)!);
    const taken = await askProvider(env, askRow, loaded.message.messageIdHeader, rows, clock);
    const found = rows.flatMap((r) => {
      const providerMessageId = taken.get(r.email.toLowerCase());
      return providerMessageId ? [{ r, providerMessageId }] : [];
    });
    const detail = `reconciled from ${askRow.type === "mailgun" ? "Mailgun" : askRow.type} events after a restart: the call's consumer died with it in flight and unreported, and the provider names this recipient as accepted; not sent again`;
    for (const [providerMessageId, fs] of groupBy(found, (f) => f.providerMessageId)) {
      reconciled.push({ group: { recipients: fs.map((f) => f.r), order: [] }, outcome: { kind: "called", calls: [] }, reconciled: { providerId: askRow.id, providerMessageId, detail } });
    }
    for (const f of found) done.set(f.r.id, { recipientId: f.r.id, providerId: askRow.id, providerMessageId: f.providerMessageId });
    log.info("takeover_asked_provider", { message_id: messageId, provider_id: askRow.id, asked: orphans.length, taken: found.length });
  }
  const rest = done.size ? groups.map((g) => ({ ...g, recipients: g.recipients.filter((r) => !done.has(r.id)) })).filter((g) => g.recipients.length > 0) : groups;
  const resendTo = plan.resendTo ?? pin;
  if (!resendTo) return { groups: rest, reconciled };
  if (plan.resendTo) log.info("resend_to_same_provider", { message_id: messageId, provider_id: resendTo });
  return { groups: pinGroups(rest, resendTo), reconciled };
}

/**
 * Which of these recipients the provider says it already took the message for (Provider.reconcile),
 * under the provider's call deadline. Empty when it cannot be asked, errs or does not answer in
 * time: they are then resent, never lost.
 */
async function askProvider(env: Env, row: ProviderRow, messageIdHeader: string, recipients: MessageRecipientRow[], now: () => number): Promise<Map<string, string>> {
  try {
    const provider = await buildProvider(env, await loadKeyring(env.DATA_KEYS, readConfig(env).dataKeyId), row);
    if (!provider.reconcile) return new Map();
    const reconcile = provider.reconcile.bind(provider);
    const deadline = callDeadlineMs(row.type, row.config);
    const taken = await withDeadline<Map<string, string> | null>(deadline, (signal) => reconcile(messageIdHeader, recipients.map((r) => r.email), { now, fetch: providerFetch, signal }), () => null);
    if (!taken) log.warn("takeover_ask_failed", { provider_id: row.id, error: `no answer within ${deadline} ms` });
    return taken ?? new Map();
  } catch (e) {
    log.warn("takeover_ask_failed", { provider_id: row.id, error: e instanceof Error ? e.message : String(e) });
    return new Map();
  }
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of items) out.set(key(i), [...(out.get(key(i)) ?? []), i]);
  return out;
}

// Orders that are a pin (one provider, for a lapsed call's resend): a refusal by its breaker
// defers the group pinned to it (waiting_on "pin:<id>"), so the next attempt goes there too.
const pinnedOrders = new WeakSet<ProviderRow[]>();

function pinGroups(groups: RouteGroup[], providerId: string): RouteGroup[] {
  return groups.map((g) => {
    const p = g.order.find((x) => x.id === providerId);
    if (!p) return g;
    const order = [p];
    pinnedOrders.add(order);
    return { ...g, order };
  });
}

/** A job that will run again later: record when, so the outbox does not add a second job meanwhile. */
async function wait(deps: PipelineDeps, message: MessageRow, delaySeconds: number, reason: string): Promise<JobOutcome> {
  await markDueAt(deps.db, message.workspaceId, message.id, deps.now() + delaySeconds * 1000);
  return { kind: "later", delaySeconds, reason };
}

/**
 * Through an SMTP smarthost the envelope sender is a VERP address (bounces+<id>@BOUNCE_DOMAIN),
 * so a bounce names the delivery it is about. API providers (Mailgun, Gmail) report bounces
 * through their own webhooks and keep the message's sender.
 */
function envelopeFor(env: Env, provider: ProviderRow, outbound: OutboundMessage, message: MessageRow, recipients: MessageRecipientRow[]): OutboundMessage {
  const domain = (env as { BOUNCE_DOMAIN?: string }).BOUNCE_DOMAIN;
  if (provider.type !== "smtp" || !domain || (provider.config as { verp?: boolean }).verp === false) return outbound;
  return { ...outbound, envelopeFrom: encodeVerp(recipients.length === 1 ? recipients[0]!.id : message.id, domain) };
}

/**
 * A provider refusing because of its own configuration (rejected credentials, unknown domain,
 * mail service disabled) says nothing about the message: it is treated as the provider failing
 * (transient), so the call fails over to the next provider, the breaker counts it, and with no
 * other provider the message waits and retries (until the operator fixes the provider or the
 * retry policy gives up) instead of failing its recipients.
 */
export function providerFault(result: SendResult): SendResult {
  if (result.status !== "permanent" || !result.configuration) return result;
  return { status: "transient", reason: `provider configuration error: ${result.reason}` };
}

/**
 * One provider call under its hard deadline (core/deadline.ts): when the provider's timeout_ms
 * passes, its requests and sockets are aborted and the call is a transient timeout, so the
 * claim renewed for it (deadline + margin) always outlives it.
 */
async function sendSafely(row: ProviderRow, provider: Provider, message: OutboundMessage, now: () => number): Promise<SendResult> {
  const deadline = callDeadlineMs(row.type, row.config);
  try {
    return await withDeadline(
      deadline,
      (signal) => provider.send(message, { now, fetch: providerFetch, signal }),
      (): SendResult => ({ status: "transient", reason: `${row.type} call abandoned: no answer within its deadline of ${deadline} ms (timeout)` }),
    );
  } catch (e) {
    // Providers return values for expected failures; anything thrown is unexpected and is
    // treated as transient so the message is retried rather than lost.
    return { status: "transient", reason: `provider error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

// Re-exported for the callers that build a provider beside a delivery (workers/api/provider-test.ts).
export { buildProvider };

async function outboundFor(
  message: MessageRow,
  content: MessageContent,
  raw: Uint8Array,
  claimed: MessageRecipientRow[],
  deliveryId: string,
): Promise<OutboundMessage> {
  const base = {
    id: message.id,
    deliveryId,
    raw,
    messageIdHeader: message.messageIdHeader,
    envelopeFrom: message.envelopeFrom ?? message.fromEmail,
    recipients: claimed.map((r) => r.email),
    tags: message.tags,
    metadata: message.metadata,
  };
  if (content.kind === "structured") {
    return {
      ...base,
      from: content.from.address,
      to: content.to.map((m) => m.address),
      cc: content.cc.map((m) => m.address),
      ...(content.replyTo ? { replyTo: content.replyTo.address } : {}),
      subject: content.subject,
      ...(content.text !== undefined ? { text: content.text } : {}),
      ...(content.html !== undefined ? { html: content.html } : {}),
      headers: Object.fromEntries(content.headers),
      attachments: [],
    };
  }
  const h = await readRawHeaders(raw);
  return { ...base, from: h.from.address, to: h.to, cc: h.cc, subject: h.subject ?? "", headers: {}, attachments: [] };
}

interface AttemptInput {
  loaded: Loaded;
  provider: ProviderRow;
  claimed: MessageRecipientRow[];
  deliveryId: string;
  result: SendResult;
  started: number;
  others: RecipientStatus[];
}

// A failed-over attempt is written on its own so every provider call leaves a row, even if the
// process dies before the final outcome is recorded.
async function recordAttempt(deps: PipelineDeps, a: AttemptInput): Promise<void> {
  if (a.result.status !== "transient") return; // final attempts are written with the outcome
  await insertAttempt(deps.db, attemptRow(a.loaded.message, a.provider, a.claimed, a.deliveryId, a.result, a.started, deps.now()));
}

function attemptRow(
  message: MessageRow,
  provider: ProviderRow | null,
  claimed: MessageRecipientRow[],
  deliveryId: string,
  result: SendResult,
  started: number,
  at: number,
): NewAttempt {
  return {
    id: newId("da"),
    messageId: message.id,
    workspaceId: message.workspaceId,
    deliveryId,
    providerId: provider?.id ?? null,
    recipients: claimed.map((r) => r.email),
    outcome: result.status,
    detail: result.status === "sent" ? null : result.reason.slice(0, 1000),
    providerMessageId: result.status === "sent" ? result.providerMessageId : result.status === "permanent" ? (result.providerMessageId ?? null) : null,
    latencyMs: Math.max(0, at - started),
    startedAt: started,
    finishedAt: at,
  };
}

interface GroupRecord {
  outcomes: RecipientOutcome[];
  attempt?: ReturnType<typeof attemptRow>;
  /** When this group wants another job (now for an immediate resend). */
  retryAt?: number;
  /** What a later retry waits on (messages.waiting_on): its provider's recovery releases it sooner. */
  waitingOn?: string;
  lastError: string | null;
  providerId: string | null;
  called: boolean;
}

/** One route group's recipients after its calls: sent, failed, or deferred until when. */
function recordGroup(loaded: Loaded, policy: RetryPolicy, d: Delivered, deliveryId: string, at: number): GroupRecord {
  const { message } = loaded;
  const claimed = d.group.recipients;
  if (d.reconciled) {
    // No call now, and the claim's attempt is taken back: the dead consumer's call was the attempt.
    const { providerId, providerMessageId } = d.reconciled;
    const attempt = {
      ...attemptRow(message, null, claimed, deliveryId, { status: "sent", providerMessageId }, at, at),
      providerId,
      detail: d.reconciled.detail ?? "reconciled after a restart: the provider answered 2xx with this id before its consumer died unrecorded; not sent again",
    };
    return { outcomes: claimed.map((r) => ({ id: r.id, status: "sent", providerId, providerMessageId, lastError: null, uncountAttempt: true })), attempt, lastError: null, providerId, called: false };
  }
  if (d.outcome.kind === "refused") {
    const result: SendResult = { status: "permanent", reason: d.outcome.reason };
    const lastError = d.outcome.reason;
    return { outcomes: claimed.map((r) => ({ id: r.id, status: "failed", lastError })), attempt: attemptRow(message, null, claimed, deliveryId, result, at, at), lastError, providerId: null, called: false };
  }
  if (d.outcome.kind === "lost") {
    // Another consumer holds these recipients now: their outcome is its to record.
    return { outcomes: [], lastError: null, providerId: null, called: d.outcome.calls.length > 0 };
  }
  if (d.outcome.kind === "blocked") {
    // No provider would take a call: wait for the earliest to let one through (no attempt spent).
    const reason = `no provider can take it now (${d.outcome.reason})`;
    if (d.outcome.retryAt - message.queuedAt > policy.max_age_seconds * 1000) {
      const gaveUp = `gave up: ${reason} past the maximum age`;
      return { outcomes: claimed.map((r) => ({ id: r.id, status: "failed", lastError: gaveUp })), lastError: gaveUp, providerId: null, called: false };
    }
    const result: SendResult = { status: "transient", reason };
    return {
      outcomes: claimed.map((r) => ({ id: r.id, status: "deferred", lastError: reason })),
      attempt: { ...attemptRow(message, null, claimed, deliveryId, result, at, at), outcome: "deferred" as const },
      retryAt: d.outcome.retryAt,
      waitingOn: pinnedOrders.has(d.group.order) ? pinTo(d.group.order[0]!.id) : waitsOn(d.group.order.map((p) => p.id)),
      lastError: reason,
      providerId: null,
      called: false,
    };
  }
  const lastCall = d.outcome.calls[d.outcome.calls.length - 1];
  const provider = lastCall?.provider ?? null;
  const result: SendResult = lastCall?.result ?? { status: "transient", reason: "no enabled provider" };
  const started = lastCall?.started ?? at;
  const providerId = provider?.id ?? null;
  // Transient provider calls were written as they happened; write the rest here.
  const attempt = result.status !== "transient" || provider === null ? attemptRow(message, provider, claimed, deliveryId, result, started, at) : undefined;
  const base = { providerId, called: provider !== null, ...(attempt ? { attempt } : {}) };

  if (result.status === "sent") {
    return { ...base, outcomes: claimed.map((r) => ({ id: r.id, status: "sent", providerId, providerMessageId: result.providerMessageId, lastError: null })), lastError: null };
  }
  if (result.status === "permanent") {
    const failed = new Map((result.recipients ?? claimed.map((r) => ({ email: r.email, reason: result.reason }))).map((f) => [f.email.toLowerCase(), f.reason]));
    // Unlisted recipients were delivered when the provider gave an id; otherwise nothing was
    // sent and they go again at once, without the refused ones.
    const partialSent = result.providerMessageId !== undefined;
    const outcomes = claimed.map((r): RecipientOutcome => {
      const reason = failed.get(r.email.toLowerCase());
      if (reason !== undefined) return { id: r.id, status: "failed", providerId, lastError: reason.slice(0, 1000) };
      return partialSent
        ? { id: r.id, status: "sent", providerId, providerMessageId: result.providerMessageId ?? null, lastError: null }
        : { id: r.id, status: "queued", providerId: null };
    });
    return { ...base, outcomes, lastError: result.reason, ...(outcomes.some((o) => o.status === "queued") ? { retryAt: at } : {}) };
  }
  const decision = nextRetry(policy, message.attemptCount + 1, message.queuedAt, at, result.retryAfterMs);
  if (decision.retry) {
    return {
      ...base,
      outcomes: claimed.map((r) => ({ id: r.id, status: "deferred", providerId, lastError: result.reason.slice(0, 1000) })),
      retryAt: decision.retryAt,
      waitingOn: waitsOn(d.group.order.map((p) => p.id)),
      lastError: result.reason,
    };
  }
  const reason = `gave up after ${message.attemptCount + 1} attempts: ${result.reason}`.slice(0, 1000);
  return { ...base, outcomes: claimed.map((r) => ({ id: r.id, status: "failed", providerId, lastError: reason })), lastError: reason };
}

async function record(
  deps: PipelineDeps,
  loaded: Loaded,
  policy: RetryPolicy,
  claimed: MessageRecipientRow[],
  others: RecipientStatus[],
  delivered: Delivered[],
  deliveryId: string,
): Promise<JobOutcome> {
  const { message } = loaded;
  const at = deps.now();
  // Recipients whose claim another consumer took over (this job's lapsed) are its to record.
  const lost = delivered.flatMap((d) => (d.outcome.kind === "lost" ? d.group.recipients : []));
  if (lost.length > 0) {
    if (lost.length === claimed.length) return { kind: "done", status: "taken over" };
    others = [...others, ...lost.map((): RecipientStatus => "sending")];
  }
  const groups = delivered.map((d) => recordGroup(loaded, policy, d, deliveryId, at));
  const outcomes = groups.flatMap((g) => g.outcomes);
  const retryTimes = groups.map((g) => g.retryAt).filter((t): t is number => t !== undefined);
  const notBefore = retryTimes.length ? Math.min(...retryTimes) : undefined;
  const waitingOn = messageWaitsOn(groups, at);
  const lastError = groups.find((g) => g.lastError !== null)?.lastError ?? null;

  const providerOf = new Map(groups.flatMap((g) => g.outcomes.map((o) => [o.id, g.providerId] as const)));
  const recipients = outcomes.map((o) => {
    const r = claimed.find((c) => c.id === o.id)!;
    return { id: o.id, email: r.email, status: o.status, providerMessageId: o.providerMessageId ?? null, reason: o.lastError ?? null, providerId: providerOf.get(o.id) ?? null };
  });
  const status = await recordDelivery(deps.db, {
    workspaceId: message.workspaceId,
    messageId: message.id,
    at,
    outcomes,
    otherStatuses: others,
    attempts: groups.flatMap((g) => (g.attempt ? [g.attempt] : [])),
    ...(notBefore !== undefined ? { notBefore, enqueuedAt: notBefore } : {}),
    waitingOn,
    lastError,
    countAttempt: groups.some((g) => g.called),
    campaignId: message.campaignId,
    also: deliveryEventStatements(deps.db, message.workspaceId, message.id, at, recipients),
  });
  await afterRecord(deps, {
    workspaceId: message.workspaceId,
    messageId: message.id,
    requestId: message.requestId ?? null,
    status,
    at,
    providerId: groups.find((g) => g.providerId !== null)?.providerId ?? null,
    recipients,
  });
  if (notBefore === undefined) return { kind: "done", status };
  return { kind: "later", delaySeconds: queueDelaySeconds(notBefore, at), reason: lastError ?? "retry" };
}

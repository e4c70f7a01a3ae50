// What a delivery's calls come to, decided without I/O: each route group's recipients become
// sent, failed, deferred (until when, waiting on which provider) or queued for an immediate
// resend, with the attempt row that explains it; then the groups of one job are summed up into
// the one record the job writes. The delivery steps (workers/dispatcher/steps/record.ts) only
// gather the inputs and write the result.
import { newId } from "../ids";
import { nextRetry, type RetryPolicy } from "../retry-policy";
import { messageWaitsOn, pinTo, waitsOn } from "../routing/release";
import type { RecipientStatus } from "../status";
import type { SendResult } from "./send-result";

/** The message facts an outcome depends on. */
export interface DeliveryMessage {
  id: string;
  workspaceId: string;
  queuedAt: number;
  /** Attempts spent before this job. */
  attemptCount: number;
}

export interface RecipientRef {
  id: string;
  email: string;
}

export interface ProviderRef {
  id: string;
}

/** One provider call as it happened. */
export interface CallRecord {
  provider: ProviderRef;
  result: SendResult;
  started: number;
  finished: number;
}

export type GroupOutcome =
  | { kind: "called"; calls: CallRecord[] }
  /** Every provider's breaker refused: nobody was called. */
  | { kind: "blocked"; retryAt: number; reason: string }
  /** No provider may ever take it (a PHI message without a BAA-covered provider): final. */
  | { kind: "refused"; reason: string }
  /**
   * The job's claim on these recipients was taken over by another consumer (it lapsed) before
   * a call: nobody was called, and their outcome is the other consumer's to record. Calls made
   * before that are in `calls`.
   */
  | { kind: "lost"; calls: CallRecord[] };

/** One route group after delivery: its recipients, the providers it could use, what happened. */
export interface GroupResult {
  recipients: RecipientRef[];
  order: ProviderRef[];
  /** The order is a pin (a lapsed call's provider only): a refusal waits for that provider. */
  pinned?: boolean;
  outcome: GroupOutcome;
  /**
   * Not called: the lapsed claim's call was already taken by the provider (its own report, or
   * its events), and the consumer died before recording it. Recorded `sent` from that answer.
   */
  reconciled?: { providerId: string; providerMessageId: string; /** The attempt's detail, when not the report's. */ detail?: string };
}

/** A delivery attempt row (delivery_attempts), as written. */
export interface NewAttempt {
  id: string;
  messageId: string;
  workspaceId: string;
  deliveryId: string;
  providerId: string | null;
  recipients: string[];
  outcome: "sent" | "transient" | "permanent" | "deferred";
  detail: string | null;
  providerMessageId: string | null;
  latencyMs: number;
  startedAt: number;
  finishedAt: number;
}

/** One recipient's new state. */
export interface RecipientOutcome {
  id: string;
  status: RecipientStatus;
  providerId?: string | null;
  providerMessageId?: string | null;
  lastError?: string | null;
  /** The claim counted an attempt that never happened (a limit deferral, a reconciled call): take it back. */
  uncountAttempt?: boolean;
}

export interface GroupRecord {
  outcomes: RecipientOutcome[];
  attempt?: NewAttempt;
  /** When this group wants another job (now for an immediate resend). */
  retryAt?: number;
  /** What a later retry waits on (messages.waiting_on): its provider's recovery releases it sooner. */
  waitingOn?: string;
  lastError: string | null;
  providerId: string | null;
  called: boolean;
}

const clip = (s: string) => s.slice(0, 1000);

export function attemptRow(message: DeliveryMessage, provider: ProviderRef | null, recipients: readonly RecipientRef[], deliveryId: string, result: SendResult, started: number, at: number): NewAttempt {
  return {
    id: newId("da"),
    messageId: message.id,
    workspaceId: message.workspaceId,
    deliveryId,
    providerId: provider?.id ?? null,
    recipients: recipients.map((r) => r.email),
    outcome: result.status,
    detail: result.status === "sent" ? null : clip(result.reason),
    providerMessageId: result.status === "sent" ? result.providerMessageId : result.status === "permanent" ? (result.providerMessageId ?? null) : null,
    latencyMs: Math.max(0, at - started),
    startedAt: started,
    finishedAt: at,
  };
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

const RECONCILED = "reconciled after a restart: the provider answered 2xx with this id before its consumer died unrecorded; not sent again";

/** One route group's recipients after its calls: sent, failed, or deferred until when. */
export function recordGroup(message: DeliveryMessage, policy: RetryPolicy, g: GroupResult, deliveryId: string, at: number): GroupRecord {
  const recipients = g.recipients;
  const all = (o: Omit<RecipientOutcome, "id">) => recipients.map((r): RecipientOutcome => ({ id: r.id, ...o }));
  if (g.reconciled) {
    // No call now, and the claim's attempt is taken back: the dead consumer's call was the attempt.
    const { providerId, providerMessageId } = g.reconciled;
    const attempt = { ...attemptRow(message, { id: providerId }, recipients, deliveryId, { status: "sent", providerMessageId }, at, at), detail: g.reconciled.detail ?? RECONCILED };
    return { outcomes: all({ status: "sent", providerId, providerMessageId, lastError: null, uncountAttempt: true }), attempt, lastError: null, providerId, called: false };
  }
  const o = g.outcome;
  if (o.kind === "refused") {
    const attempt = attemptRow(message, null, recipients, deliveryId, { status: "permanent", reason: o.reason }, at, at);
    return { outcomes: all({ status: "failed", lastError: o.reason }), attempt, lastError: o.reason, providerId: null, called: false };
  }
  if (o.kind === "lost") {
    // Another consumer holds these recipients now: their outcome is its to record.
    return { outcomes: [], lastError: null, providerId: null, called: o.calls.length > 0 };
  }
  if (o.kind === "blocked") {
    // No provider would take a call: wait for the earliest to let one through (no attempt spent).
    const reason = `no provider can take it now (${o.reason})`;
    if (o.retryAt - message.queuedAt > policy.max_age_seconds * 1000) {
      const gaveUp = `gave up: ${reason} past the maximum age`;
      return { outcomes: all({ status: "failed", lastError: gaveUp }), lastError: gaveUp, providerId: null, called: false };
    }
    return {
      outcomes: all({ status: "deferred", lastError: reason }),
      attempt: { ...attemptRow(message, null, recipients, deliveryId, { status: "transient", reason }, at, at), outcome: "deferred" },
      retryAt: o.retryAt,
      waitingOn: g.pinned ? pinTo(g.order[0]!.id) : waitsOn(g.order.map((p) => p.id)),
      lastError: reason,
      providerId: null,
      called: false,
    };
  }
  const lastCall = o.calls[o.calls.length - 1];
  const provider = lastCall?.provider ?? null;
  const result: SendResult = lastCall?.result ?? { status: "transient", reason: "no enabled provider" };
  const providerId = provider?.id ?? null;
  // Transient provider calls were written as they happened (steps/deliver.ts); write the rest here.
  const attempt = result.status !== "transient" || provider === null ? attemptRow(message, provider, recipients, deliveryId, result, lastCall?.started ?? at, at) : undefined;
  const base = { providerId, called: provider !== null, ...(attempt ? { attempt } : {}) };

  if (result.status === "sent") {
    return { ...base, outcomes: all({ status: "sent", providerId, providerMessageId: result.providerMessageId, lastError: null }), lastError: null };
  }
  if (result.status === "permanent") {
    const failed = new Map((result.recipients ?? recipients.map((r) => ({ email: r.email, reason: result.reason }))).map((f) => [f.email.toLowerCase(), f.reason]));
    // Unlisted recipients were delivered when the provider gave an id; otherwise nothing was
    // sent and they go again at once, without the refused ones.
    const partialSent = result.providerMessageId !== undefined;
    const outcomes = recipients.map((r): RecipientOutcome => {
      const reason = failed.get(r.email.toLowerCase());
      if (reason !== undefined) return { id: r.id, status: "failed", providerId, lastError: clip(reason) };
      return partialSent
        ? { id: r.id, status: "sent", providerId, providerMessageId: result.providerMessageId ?? null, lastError: null }
        : { id: r.id, status: "queued", providerId: null };
    });
    return { ...base, outcomes, lastError: result.reason, ...(outcomes.some((x) => x.status === "queued") ? { retryAt: at } : {}) };
  }
  const decision = nextRetry(policy, message.attemptCount + 1, message.queuedAt, at, result.retryAfterMs);
  if (decision.retry) {
    return {
      ...base,
      outcomes: all({ status: "deferred", providerId, lastError: clip(result.reason) }),
      retryAt: decision.retryAt,
      waitingOn: waitsOn(g.order.map((p) => p.id)),
      lastError: result.reason,
    };
  }
  const reason = clip(`gave up after ${message.attemptCount + 1} attempts: ${result.reason}`);
  return { ...base, outcomes: all({ status: "failed", providerId, lastError: reason }), lastError: reason };
}

/** A job's groups summed up into its one record. */
export interface JobRecord {
  outcomes: RecipientOutcome[];
  attempts: NewAttempt[];
  /** When the message wants its next job, if any. */
  notBefore?: number;
  waitingOn: string | null;
  lastError: string | null;
  /** Whether a provider was called (the attempt counts). */
  called: boolean;
  /** The provider of the first group that had one (for logs and events). */
  providerId: string | null;
  /** Each outcome's provider. */
  providerOf: Map<string, string | null>;
}

export function recordJob(message: DeliveryMessage, policy: RetryPolicy, results: readonly GroupResult[], deliveryId: string, at: number): JobRecord {
  const groups = results.map((g) => recordGroup(message, policy, g, deliveryId, at));
  const retryTimes = groups.flatMap((g) => (g.retryAt !== undefined ? [g.retryAt] : []));
  return {
    outcomes: groups.flatMap((g) => g.outcomes),
    attempts: groups.flatMap((g) => (g.attempt ? [g.attempt] : [])),
    ...(retryTimes.length ? { notBefore: Math.min(...retryTimes) } : {}),
    waitingOn: messageWaitsOn(groups, at),
    lastError: groups.find((g) => g.lastError !== null)?.lastError ?? null,
    called: groups.some((g) => g.called),
    providerId: groups.find((g) => g.providerId !== null)?.providerId ?? null,
    providerOf: new Map(groups.flatMap((g) => g.outcomes.map((o) => [o.id, g.providerId] as const))),
  };
}

/**
 * Over a global or workspace limit: every waiting recipient is deferred until the window opens,
 * with no attempt spent (the claim's count is taken back for those this job claimed).
 */
export function limitDeferral(message: DeliveryMessage, waiting: readonly RecipientRef[], claimedIds: ReadonlySet<string>, reason: string, deliveryId: string, at: number) {
  return {
    outcomes: waiting.map((r): RecipientOutcome => ({ id: r.id, status: "deferred", lastError: reason, ...(claimedIds.has(r.id) ? { uncountAttempt: true } : {}) })),
    attempt: { ...attemptRow(message, null, waiting, deliveryId, { status: "transient", reason }, at, at), outcome: "deferred" as const },
  };
}

// One delivery job as a list of named steps (after Postal's outgoing message processor):
// load → render → route → deliver → record. Each step returns a value; the consumer maps the
// final outcome to ack / re-enqueue. Later work fills enrich, limit and smarter routing in
// between without changing the shape.
import { readConfig } from "../../core/config";
import { decodeContent, type MessageContent } from "../../core/content";
import { loadKeyring, decryptText, type Keyring } from "../../core/crypto";
import { renderMime } from "../../core/mime-render";
import { readRawHeaders } from "../../core/raw-message";
import { nextRetry, queueDelaySeconds } from "../../core/retry-policy";
import { isPending, type RecipientStatus } from "../../core/status";
import { parseWorkspaceConfig } from "../../core/workspace-config";
import { newId } from "../../core/ids";
import { loadBody, storeRendered } from "../../db/body-store";
import type { Db } from "../../db/client";
import {
  claimRecipients,
  loadForDelivery,
  markDueAt,
  recordDelivery,
  type MessageRecipientRow,
  type MessageRow,
  type RecipientOutcome,
} from "../../db/messages";
import type { ProviderRow } from "../../db/providers";
import { credentialsAad } from "../api/providers";
import { log } from "../log";
import { afterRecord } from "./after-record";
import { providerType } from "./providers/registry";
import type { OutboundMessage, Provider, SendResult } from "./providers/types";

/** A recipient left `sending` longer than this belongs to a consumer that died; it may be retried. */
// Providers time out well within it (30 s by default).
export const SENDING_LEASE_MS = 2 * 60 * 1000;

export type JobOutcome =
  | { kind: "done"; status: string }
  | { kind: "later"; delaySeconds: number; reason: string };

export interface PipelineDeps {
  env: Env;
  db: Db;
  now: () => number;
}

type Loaded = NonNullable<Awaited<ReturnType<typeof loadForDelivery>>>;

export async function runDelivery(deps: PipelineDeps, workspaceId: string, messageId: string, deliveryId: string): Promise<JobOutcome> {
  const config = readConfig(deps.env);
  // 1. load
  const loaded = await loadForDelivery(deps.db, workspaceId, messageId);
  if (!loaded) return { kind: "done", status: "missing" };
  const { message } = loaded;
  const now = deps.now();
  if (message.notBefore !== null && message.notBefore > now + 1000) {
    // A deferral longer than the queue's maximum delay arrives early: wait again.
    return wait(deps, message, queueDelaySeconds(message.notBefore, now), "not yet due");
  }
  const pending = loaded.recipients.filter((r) => isPending(r.status));
  if (pending.length === 0) return { kind: "done", status: message.status };

  // 2. render
  const ring = await loadKeyring(deps.env.DATA_KEYS, config.dataKeyId);
  const content = decodeContent(await loadBody(deps.env.BODIES, ring, workspaceId, messageId, message));
  const raw = await renderMime(content, { messageIdHeader: message.messageIdHeader, date: new Date(message.queuedAt) });

  // 3. route (candidates in order; a transient failure fails over to the next)
  const candidates = loaded.providers;

  // Claim before calling anyone: a recipient already `sent` is never claimed again.
  const claimed = await claimRecipients(deps.db, workspaceId, messageId, pending.map((r) => r.id), now, SENDING_LEASE_MS);
  if (claimed.length === 0) {
    // Another consumer holds them (or held them and died): look again when its lease ends.
    const leaseEnd = Math.min(...pending.map((r) => r.updatedAt + SENDING_LEASE_MS));
    return wait(deps, message, queueDelaySeconds(leaseEnd + 1000, now), "recipients in flight elsewhere");
  }
  const others = loaded.recipients.filter((r) => !claimed.some((c) => c.id === r.id)).map((r) => r.status);
  const outbound = await outboundFor(message, content, raw, claimed, deliveryId);

  // 4. deliver
  let last: LastCall = { provider: null, result: { status: "transient", reason: "no enabled provider" }, started: deps.now() };
  for (const provider of candidates) {
    const started = deps.now();
    const result = await sendSafely(await buildProvider(deps.env, ring, provider), outbound, deps.now);
    last = { provider, result, started };
    await recordAttempt(deps, { loaded, provider, claimed, deliveryId, result, started, others });
    if (result.status !== "transient") break;
    log.warn("provider_transient", { message_id: messageId, provider_id: provider.id, reason: result.reason });
  }

  // 5. record
  return record(deps, loaded, claimed, others, last, deliveryId);
}

/** A job that will run again later: record when, so the outbox does not add a second job meanwhile. */
async function wait(deps: PipelineDeps, message: MessageRow, delaySeconds: number, reason: string): Promise<JobOutcome> {
  await markDueAt(deps.db, message.workspaceId, message.id, deps.now() + delaySeconds * 1000);
  return { kind: "later", delaySeconds, reason };
}

async function sendSafely(provider: Provider, message: OutboundMessage, now: () => number): Promise<SendResult> {
  try {
    return await provider.send(message, { now, fetch: (input, init) => fetch(input, init) });
  } catch (e) {
    // Providers return values for expected failures; anything thrown is unexpected and is
    // treated as transient so the message is retried rather than lost.
    return { status: "transient", reason: `provider error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export async function buildProvider(env: Env, ring: Keyring, row: ProviderRow): Promise<Provider> {
  const credentials = row.credentialsEnc
    ? JSON.parse(await decryptText(ring, row.credentialsEnc, credentialsAad(row.workspaceId, row.id)))
    : {};
  return providerType(row.type).build(row.config, credentials, {
    storeRendered: (messageId, raw) => storeRendered(env.BODIES, ring, row.workspaceId, messageId, raw),
  });
}

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
  const at = deps.now();
  await recordDelivery(deps.db, {
    workspaceId: a.loaded.message.workspaceId,
    messageId: a.loaded.message.id,
    at,
    outcomes: [],
    otherStatuses: [...a.others, ...a.claimed.map(() => "sending" as const)],
    attempt: attemptRow(a.loaded.message, a.provider, a.claimed, a.deliveryId, a.result, a.started, at),
    countAttempt: false,
  });
}

function attemptRow(
  message: MessageRow,
  provider: ProviderRow | null,
  claimed: MessageRecipientRow[],
  deliveryId: string,
  result: SendResult,
  started: number,
  at: number,
) {
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

interface LastCall {
  provider: ProviderRow | null;
  result: SendResult;
  started: number;
}

async function record(
  deps: PipelineDeps,
  loaded: Loaded,
  claimed: MessageRecipientRow[],
  others: RecipientStatus[],
  last: LastCall,
  deliveryId: string,
): Promise<JobOutcome> {
  const { message } = loaded;
  const at = deps.now();
  const { result, provider } = last;
  const providerId = provider?.id ?? null;
  let outcomes: RecipientOutcome[];
  let later: JobOutcome | null = null;
  let notBefore: number | null | undefined;
  let lastError: string | null = null;

  if (result.status === "sent") {
    outcomes = claimed.map((r) => ({ id: r.id, status: "sent", providerId, providerMessageId: result.providerMessageId, lastError: null }));
  } else if (result.status === "permanent") {
    const failed = new Map((result.recipients ?? claimed.map((r) => ({ email: r.email, reason: result.reason }))).map((f) => [f.email.toLowerCase(), f.reason]));
    // Unlisted recipients were delivered when the provider gave an id; otherwise nothing was
    // sent and they go again at once, without the refused ones.
    const partialSent = result.providerMessageId !== undefined;
    outcomes = claimed.map((r): RecipientOutcome => {
      const reason = failed.get(r.email.toLowerCase());
      if (reason !== undefined) return { id: r.id, status: "failed", providerId, lastError: reason.slice(0, 1000) };
      return partialSent
        ? { id: r.id, status: "sent", providerId, providerMessageId: result.providerMessageId ?? null, lastError: null }
        : { id: r.id, status: "queued", providerId: null };
    });
    if (outcomes.some((o) => o.status === "queued")) {
      notBefore = at;
      later = { kind: "later", delaySeconds: 0, reason: "resend without refused recipients" };
    }
    lastError = result.reason;
  } else {
    const policy = parseWorkspaceConfig(loaded.workspaceConfig).retry_policy;
    const decision = nextRetry(policy, message.attemptCount + 1, message.queuedAt, at, result.retryAfterMs);
    lastError = result.reason;
    if (decision.retry) {
      outcomes = claimed.map((r) => ({ id: r.id, status: "deferred", providerId, lastError: result.reason.slice(0, 1000) }));
      notBefore = decision.retryAt;
      later = { kind: "later", delaySeconds: queueDelaySeconds(decision.retryAt, at), reason: result.reason };
    } else {
      const reason = `gave up after ${message.attemptCount + 1} attempts: ${result.reason}`.slice(0, 1000);
      outcomes = claimed.map((r) => ({ id: r.id, status: "failed", providerId, lastError: reason }));
      lastError = reason;
    }
  }

  // Transient provider attempts were written as they happened; write the rest here.
  const writeAttempt = result.status !== "transient" || provider === null;
  const status = await recordDelivery(deps.db, {
    workspaceId: message.workspaceId,
    messageId: message.id,
    at,
    outcomes,
    otherStatuses: others,
    ...(writeAttempt ? { attempt: attemptRow(message, provider, claimed, deliveryId, result, last.started, at) } : {}),
    ...(notBefore !== undefined ? { notBefore, enqueuedAt: notBefore } : {}),
    lastError,
    countAttempt: true,
  });
  await afterRecord(deps, {
    workspaceId: message.workspaceId,
    messageId: message.id,
    status,
    at,
    providerId,
    recipients: outcomes.map((o) => {
      const r = claimed.find((c) => c.id === o.id)!;
      return { id: o.id, email: r.email, status: o.status, providerMessageId: o.providerMessageId ?? null, reason: o.lastError ?? null };
    }),
  });
  return later ?? { kind: "done", status };
}

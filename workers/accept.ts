// The one accept path. The JSON API, the MIME API (used by the SMTP bridge) and inbound mail all
// end here (raw messages are prepared by workers/accept-raw.ts): check the sender domain and
// providers, write message + recipients + encrypted body in ONE store write (one D1 batch, one
// MySQL transaction), enqueue, and only then answer. A crash between commit and enqueue is
// recovered by the outbox sweep, so an answered message is never lost.
import { domainOf } from "../core/address";
import { encodeContent, structuredContent, type MessageContent } from "../core/content";
import { loadKeyring } from "../core/crypto";
import { RelayError } from "../core/errors";
import { newId } from "../core/ids";
import { deliveryJob } from "../core/jobs";
import type { NormalizedMessage } from "../core/message-input";
import type { WorkspacePrincipal } from "../core/scopes";
import { readConfig } from "../core/config";
import { encryptText } from "../core/crypto";
import { dlpDecision, parseDlpPolicy } from "../core/dlp";
import { loadRe2 } from "./lazy-libs";
import { discardBody, storeBody } from "../db/body-store";
import { actorOf, recordAudit } from "./audit";
import { safeErrorMessage } from "../db/errors";
import type { IdempotencyRecord, InsertedMessage, InsertOutcome, NewMessage } from "../db/store/accept";
import type { Store } from "../db/store/store";
import { queueEvents, type NewEvent } from "./webhooks/events";
import { deliverNow } from "./webhooks/deliver";
import { userRules } from "../core/limits/config";
import { consumeUserLimit } from "./user-limit";
import type { Defer } from "./defer";
import { assertCampaignOpen, utcDay } from "../core/campaigns";
import { log } from "./log";
import { sendSettings, subscribes, type SendSettings } from "./send-settings";
import { enforceStrictVariables } from "./template-variables";

export interface AcceptedRecipient {
  email: string;
  status: "queued" | "suppressed";
}

export interface AcceptedBody {
  id: string;
  status: "queued" | "failed";
  message_id: string;
  recipients: AcceptedRecipient[];
}

export interface AcceptOutcome {
  status: 202;
  body: AcceptedBody;
  /** True when this is the stored first answer for a repeated request. */
  replayed: boolean;
}

export interface Idempotency {
  key: string;
  /** SHA-256 of the request (or, for a Message-ID generation, of its content); null when any repeat counts as the same request. */
  requestHash: string | null;
  /**
   * When another request wrote the key first: "replay" (the default) answers what it answered;
   * "decide-again" is for Message-ID generations, where the winner may hold other recipients.
   */
  onTaken?: "replay" | "decide-again";
}

export interface AcceptContext {
  env: Env;
  /** What the accept path reads and writes through (the backend STORE names). */
  store: Store;
  principal: WorkspacePrincipal;
  now: number;
  /** The accepting request's id; stored on the message so delivery logs can quote it. */
  requestId?: string;
  /**
   * Which sender domains the workspace may use. "verified" (the default, and the only choice for
   * credentials): only domains it verified. "verified_or_unclaimed": also a domain no workspace
   * has verified. Only inbound mail attributed to the configured DEFAULT_WORKSPACE uses it, after
   * Email Routing authenticated the From domain; a domain verified by another workspace is
   * refused either way, so no tenant can send as another's domain.
   */
  senderDomainPolicy?: "verified" | "verified_or_unclaimed";
  /** Work after the answer (the request's waitUntil); lets the user limit lease capacity (workers/user-limit.ts). */
  defer?: Defer;
}

export interface Prepared {
  source: "api" | "mime" | "smtp" | "email";
  fromEmail: string;
  /** Domains that must be verified for the workspace: From, Sender and the envelope sender, each named for the error. */
  senderDomains: { field: string; domain: string }[];
  envelopeFrom: string | null;
  messageIdHeader: string;
  recipients: { email: string; kind: "to" | "cc" | "bcc" }[];
  tags: string[];
  metadata: Record<string, string>;
  content: MessageContent;
  headerNames: string[];
  attachments: { filename: string; contentType: string; contentId?: string; sizeBytes: number }[];
  sizeBytes: number;
  forceSend: boolean;
  /** Structured messages: the message's strict_variables flag (undefined: the workspace decides). */
  strictVariables?: boolean;
  /** LLM personalization asked for, and whether the sender marked the content as PHI. */
  personalize?: boolean;
  containsPhi?: boolean;
  campaignId?: string;
}

/** Returns the stored first answer for a repeated idempotent request, or null to proceed. */
export async function replayIfSeen(store: Store, workspaceId: string, idem: Idempotency | undefined): Promise<AcceptOutcome | null> {
  if (!idem) return null;
  const seen = await store.accept.idempotencyRecord(workspaceId, idem.key);
  return seen ? replayOf(seen, idem) : null;
}

/** The first answer stored under the key; a repeat with another request body is a conflict. */
function replayOf(seen: IdempotencyRecord, idem: Idempotency): AcceptOutcome {
  if (idem.requestHash !== null && seen.requestHash !== idem.requestHash) {
    throw new RelayError("idempotency_conflict", "this Idempotency-Key was used with a different request body");
  }
  return { status: 202, body: JSON.parse(seen.responseBody) as AcceptedBody, replayed: true };
}

export async function acceptStructured(ctx: AcceptContext, m: NormalizedMessage, idem?: Idempotency): Promise<AcceptOutcome> {
  const replay = await replayIfSeen(ctx.store, ctx.principal.workspaceId, idem);
  if (replay) return replay;
  const messageId = newId("msg");
  return commit(
    ctx,
    messageId,
    {
      source: "api",
      fromEmail: m.from.address,
      senderDomains: [{ field: "from", domain: domainOf(m.from.address) }],
      envelopeFrom: m.from.address,
      messageIdHeader: `<${messageId.slice(4)}@${domainOf(m.from.address)}>`,
      recipients: dedupe([
        ...m.to.map((r) => ({ email: r.address, kind: "to" as const })),
        ...m.cc.map((r) => ({ email: r.address, kind: "cc" as const })),
        ...m.bcc.map((r) => ({ email: r.address, kind: "bcc" as const })),
      ]),
      tags: m.tags,
      metadata: m.metadata,
      content: structuredContent(m),
      headerNames: m.headers.map(([n]) => n),
      attachments: m.attachments.map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        ...(a.contentId ? { contentId: a.contentId } : {}),
        sizeBytes: a.content.length,
      })),
      sizeBytes: m.sizeBytes,
      forceSend: m.forceSend,
      ...(m.strictVariables !== undefined ? { strictVariables: m.strictVariables } : {}),
      personalize: m.personalize ?? false,
      containsPhi: m.containsPhi ?? false,
      ...(m.campaignId !== undefined ? { campaignId: m.campaignId } : {}),
    },
    idem,
  );
}

/** commit() lost the race for a Message-ID generation's key: decide again with the winner in view. */
export class GenerationTaken extends Error {}

/** Drops repeated addresses (any case), keeping the first. */
export function dedupe<T extends { email: string }>(list: T[]): T[] {
  const seen = new Set<string>();
  return list.filter((r) => {
    const k = r.email.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Everything after the message is prepared: workspace checks, DLP, the user limit, one store
 * write (message, recipients, body, idempotency record: one D1 batch), the queue send, the answer.
 */
export async function commit(ctx: AcceptContext, messageId: string, p: Prepared, idem: Idempotency | undefined): Promise<AcceptOutcome> {
  const { env, store, principal, now } = ctx;
  const ws = principal.workspaceId;
  const config = readConfig(env);

  // Workspace facts (provider, verified domains, DLP, settings, webhook subscriptions) come from
  // the isolate's cache (workers/send-settings.ts: one read per workspace every few seconds).
  // Suppression is decided inside the write (store.accept.insertMessage), so a message costs one
  // D1 round trip before the answer; a named campaign adds its status read.
  const [workspace, campaign] = await Promise.all([
    sendSettings(store, ws, now),
    p.campaignId !== undefined ? store.accept.campaignStatus(ws, p.campaignId) : undefined,
  ]);
  const unverified = p.senderDomains.filter((s) => !workspace.verifiedDomains.has(s.domain));
  // The default workspace's inbound mail may also use a domain nobody verified (see AcceptContext).
  const unclaimed =
    ctx.senderDomainPolicy === "verified_or_unclaimed" ? await allowedUnclaimed(ctx, [...new Set(unverified.map((s) => s.domain))]) : new Set<string>();
  for (const s of unverified) {
    if (!unclaimed.has(s.domain)) throw new RelayError("sender_domain_not_verified", `sender domain ${s.domain} is not verified for this workspace (${s.field})`);
  }
  if (p.campaignId !== undefined) assertCampaignOpen(p.campaignId, campaign);
  if (!workspace.hasProvider) {
    throw new RelayError("no_provider", "this workspace has no enabled provider; add one with POST /v1/providers");
  }
  await enforceDlp(ctx, messageId, p, workspace.dlp);

  // The user layer is decided here, before anything is stored: over the limit is a refusal
  // (429), never a deferral. Refunded if the commit fails; capacity may be leased to this
  // isolate for a user sending in bursts (workers/user-limit.ts).
  const settings = workspace.config;
  const limits = settings.limits;
  const owner = principal.userId ?? principal.keyId ?? principal.kind;
  if (p.content.kind === "structured" && (p.strictVariables ?? settings.strict_variables)) {
    // Strict mode checks the recipients who will get a copy: it reads the suppressions itself.
    const suppressed = new Set((await store.accept.suppressed(ws, p.recipients.map((r) => r.email))).map((r) => r.email.toLowerCase()));
    const emails = p.recipients.filter((r) => !suppressed.has(r.email.toLowerCase())).map((r) => r.email);
    await enforceStrictVariables(store.recipients, await loadKeyring(env.DATA_KEYS, config.dataKeyId), ws, p.content, settings.variables, emails, settings.trending_questions);
  }
  // Every address submitted counts against the user's limit, a suppressed one included (which
  // ones are suppressed is decided in the insert batch, after this).
  const user = await consumeUserLimit(env, ws, owner, userRules(limits, owner), p.recipients.length, limits.time_zone, now, ctx.defer);
  const decision = user.decision;
  if (!decision.allowed) {
    const seconds = Math.max(1, Math.ceil((decision.retryAt - now) / 1000));
    throw new RelayError("rate_limited", `daily sending limit for this user reached; try again after ${new Date(decision.retryAt).toISOString()}`, {
      "Retry-After": String(seconds),
    });
  }

  const ring = await loadKeyring(env.DATA_KEYS, config.dataKeyId);
  const stored = await storeBody(env.BODIES, ring, ws, messageId, encodeContent(p.content), config.inlineBodyMaxBytes);
  const attachmentRows = await Promise.all(
    p.attachments.map(async (a) => ({
      id: newId("att"),
      messageId,
      workspaceId: ws,
      filenameEnc: await encryptText(ring, a.filename, `${ws}/${messageId}/attachment-name`),
      contentType: a.contentType,
      sizeBytes: a.sizeBytes,
      contentId: a.contentId ?? null,
    })),
  );
  const row: NewMessage = {
    message: {
      id: messageId,
      workspaceId: ws,
      userId: principal.userId,
      apiKeyId: principal.keyId,
      source: p.source,
      messageIdHeader: p.messageIdHeader,
      fromEmail: p.fromEmail,
      envelopeFrom: p.envelopeFrom,
      toEmails: p.recipients.filter((r) => r.kind !== "bcc").map((r) => r.email),
      status: "queued",
      tags: p.tags,
      metadata: p.metadata,
      bodyEnc: stored.bodyEnc,
      bodyR2Key: stored.bodyR2Key,
      sizeBytes: p.sizeBytes,
      forceSend: p.forceSend,
      personalize: p.personalize ?? false,
      // A message DLP flagged is PHI whatever the sender said (it decides whether an LLM may see it).
      containsPhi: (p.containsPhi ?? false) || p.tags.includes("dlp:flagged"),
      // Counted as enqueued now: the outbox only steps in once the grace period has passed.
      enqueuedAt: now,
      queuedAt: now,
      updatedAt: now,
      requestId: ctx.requestId ?? null,
      campaignId: p.campaignId ?? null,
    },
    recipients: p.recipients.map((r) => ({
      id: newId("mr"),
      messageId,
      workspaceId: ws,
      email: r.email,
      kind: r.kind,
      updatedAt: now,
    })),
    headerNames: p.headerNames,
    attachments: attachmentRows,
    ...(p.campaignId !== undefined ? { campaignDay: utcDay(now) } : {}),
    ...(idem ? { idempotency: { key: idem.key, requestHash: idem.requestHash ?? "", createdAt: now } } : {}),
  };

  let outcome: InsertOutcome;
  try {
    outcome = await store.accept.insertMessage(ws, row);
  } catch (e) {
    await discardBody(env.BODIES, stored).catch(() => {});
    await user.refund().catch(() => {});
    throw e;
  }
  if (outcome.status === "duplicate") {
    // Nothing of this message was kept: a concurrent request with the same key won the race.
    await discardBody(env.BODIES, stored).catch(() => {});
    await user.refund().catch(() => {});
    if (idem?.onTaken === "decide-again") throw new GenerationTaken();
    // Answer what the winner answered (idem is set: only an idempotency record can be taken).
    return replayOf(outcome.first, idem!);
  }
  const inserted: InsertedMessage = { status: outcome.messageStatus, recipients: outcome.recipients };
  // The same shape the idempotency record stored in the write (db/messages/accept.ts).
  const body: AcceptedBody = {
    id: messageId,
    status: inserted.status,
    message_id: p.messageIdHeader,
    recipients: p.recipients.map((r) => ({ email: r.email, status: inserted.recipients.get(r.email)?.status ?? "queued" })),
  };

  const events = acceptEvents(workspace, messageId, ctx.requestId ?? null, body, inserted);
  if (events.length > 0) {
    // A failure here must not turn a stored message into an error: what was queued is retried by
    // the webhook sweep. The first try runs after the answer, so `message.queued` usually reaches
    // the receiver before the dispatcher's `message.sent`; `sequence` orders them when it does not.
    const queued = await queueEvents(store, ws, events, now).catch((e) => {
      log.error("event_queue_failed", { message_id: messageId, error: safeErrorMessage(e) });
      return [];
    });
    if (queued.length > 0 && ctx.defer) ctx.defer(deliverNow({ env, store, now: Date.now }, queued).catch(() => {}));
  }
  if (inserted.status === "failed") return { status: 202, body, replayed: false }; // all suppressed: nothing to deliver
  try {
    await env.DELIVERY_QUEUE.send(deliveryJob(ws, messageId, p.sizeBytes));
  } catch (e) {
    // The message is committed as `queued`: the outbox sweep enqueues it after the grace
    // period. Answering an error here would make the client send it twice.
    log.error("enqueue_failed", { workspace_id: ws, message_id: messageId, error: safeErrorMessage(e) });
  }
  return { status: 202, body, replayed: false };
}

/**
 * What accepting a message tells webhook subscribers: `message.queued` when at least one recipient
 * was queued for delivery, and `message.suppressed` for each recipient dropped because the address
 * is on the suppression list. A message whose every recipient is suppressed (status `failed`) was
 * never queued: it raises only the `message.suppressed` events.
 */
function acceptEvents(workspace: SendSettings, messageId: string, requestId: string | null, body: AcceptedBody, inserted: InsertedMessage): NewEvent[] {
  const events: NewEvent[] = [];
  const queuedCount = body.recipients.filter((r) => r.status === "queued").length;
  if (queuedCount > 0 && subscribes(workspace, "message.queued")) {
    events.push({
      type: "message.queued",
      data: { message_id: messageId, request_id: requestId, status: body.status, recipients: body.recipients.length, queued: queuedCount },
    });
  }
  if (queuedCount < body.recipients.length && subscribes(workspace, "message.suppressed")) {
    for (const r of body.recipients) {
      if (r.status !== "suppressed") continue;
      const why = inserted.recipients.get(r.email)?.lastError ?? null;
      events.push({
        type: "message.suppressed",
        data: {
          message_id: messageId,
          request_id: requestId,
          message_status: body.status,
          recipient: r.email,
          status: "suppressed",
          // The address's state on the suppression list: bounced, complained or unsubscribed.
          reason: why?.replace(/^suppressed: the address /, "") ?? null,
          source: "accept",
        },
      });
    }
  }
  return events;
}

/**
 * Of `domains` (not verified by this workspace), those no workspace has verified. Only inbound
 * mail may ask: a credential's workspace never sends as a domain it has not verified.
 */
async function allowedUnclaimed(ctx: AcceptContext, domains: string[]): Promise<Set<string>> {
  if (ctx.principal.kind !== "inbound") throw new RelayError("internal_error", "unclaimed sender domains are only for inbound mail");
  if (domains.length === 0) return new Set();
  return new Set(await ctx.store.accept.unclaimedDomains(domains));
}

/** Data-loss prevention (core/dlp.ts): reject, or accept with a `dlp:flagged` tag; audited either way. */
async function enforceDlp(ctx: AcceptContext, messageId: string, p: Prepared, stored: unknown): Promise<void> {
  // The RE2 engine is a module of its own, loaded on first use: a workspace without rules
  // never loads it, nor pays for it in the main bundle.
  const policy = parseDlpPolicy(stored);
  if (!policy) return;
  const decision = dlpDecision(await loadRe2(), policy, p.content);
  if (decision.action === "pass") return;
  await recordAudit(ctx.store.audit, {
    ...actorOf(ctx.principal),
    action: decision.action === "reject" ? "message.dlp.rejected" : "message.dlp.flagged",
    resource: `message:${messageId}`,
    ip: null,
    outcome: decision.action === "reject" ? "denied" : "success",
    requestId: ctx.requestId ?? null,
    detail: { rules: decision.rules },
  });
  if (decision.action === "reject") {
    throw new RelayError("unprocessable", `the message matches forbidden identifier rule(s): ${decision.rules.join(", ")}`);
  }
  if (!p.tags.includes("dlp:flagged")) p.tags = [...p.tags, "dlp:flagged"];
}

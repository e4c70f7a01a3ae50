// Outcomes that arrive after delivery: bounces, complaints, provider events. They update the
// message recipient, the workspace's recipient record (the suppression list) and write a
// recipient event, in one batch.
import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { BounceSummary } from "../core/bounce/policy";
import { deriveMessageStatus, type MessageStatus, type RecipientStatus } from "../core/status";
import { newId } from "../core/ids";
import type { Db } from "./client";
import { COUNTED_STATUSES, utcDay } from "../core/campaigns";
import { countTransitions } from "./campaigns";
import { messageRecipients, messages, providers, recipientEvents, recipients, senderDomains, workspaces } from "./schema";

export interface DeliveryRef {
  workspaceId: string;
  messageId: string;
  messageRecipientId: string;
  email: string;
  status: RecipientStatus;
  providerId: string | null;
  messageIdHeader: string;
  campaignId: string | null;
}

const refColumns = {
  workspaceId: messageRecipients.workspaceId,
  messageId: messageRecipients.messageId,
  messageRecipientId: messageRecipients.id,
  email: messageRecipients.email,
  status: messageRecipients.status,
  providerId: messageRecipients.providerId,
  messageIdHeader: messages.messageIdHeader,
  campaignId: messages.campaignId,
};

/** By VERP id. The id is unguessable, so no workspace is needed to scope it. */
export const findDeliveryById = (db: Db, messageRecipientId: string): Promise<DeliveryRef | undefined> =>
  db
    .select(refColumns)
    .from(messageRecipients)
    .innerJoin(messages, eq(messages.id, messageRecipients.messageId))
    .where(eq(messageRecipients.id, messageRecipientId))
    .get();

/** By the original Message-ID and the failed address (bounces that lost the VERP address). */
export async function findDeliveryByMessageIdHeader(db: Db, messageIdHeader: string, email: string | null): Promise<DeliveryRef | undefined> {
  const rows = await db
    .select(refColumns)
    .from(messages)
    .innerJoin(messageRecipients, eq(messageRecipients.messageId, messages.id))
    .where(eq(messages.messageIdHeader, messageIdHeader))
    .limit(50)
    .all();
  // Several workspaces could share a Message-ID (a client reusing one): then only an exact
  // recipient match in exactly one of them counts.
  const matching = email ? rows.filter((r) => r.email.toLowerCase() === email.toLowerCase()) : rows.length === 1 ? rows : [];
  return matching.length === 1 ? matching[0] : undefined;
}

/** By the provider's message id within the provider's workspace (provider webhooks). */
export async function findDeliveryByProviderMessageId(
  db: Db,
  workspaceId: string,
  providerMessageId: string,
  email: string,
): Promise<DeliveryRef | undefined> {
  const rows = await db
    .select(refColumns)
    .from(messageRecipients)
    .innerJoin(messages, eq(messages.id, messageRecipients.messageId))
    .where(and(eq(messageRecipients.workspaceId, workspaceId), eq(messageRecipients.providerMessageId, providerMessageId)))
    .limit(100)
    .all();
  return rows.find((r) => r.email.toLowerCase() === email.toLowerCase());
}

export async function findDeliveryByMessage(db: Db, workspaceId: string, messageId: string, email: string): Promise<DeliveryRef | undefined> {
  const rows = await db
    .select(refColumns)
    .from(messageRecipients)
    .innerJoin(messages, eq(messages.id, messageRecipients.messageId))
    .where(and(eq(messageRecipients.workspaceId, workspaceId), eq(messageRecipients.messageId, messageId)))
    .limit(1000)
    .all();
  return rows.find((r) => r.email.toLowerCase() === email.toLowerCase());
}

export type Suppression = "bounced" | "complained" | "unsubscribed";

export interface OutcomeInput {
  ref: DeliveryRef;
  /** New status of the message recipient; undefined keeps it (soft bounces, opens, clicks). */
  status?: RecipientStatus;
  lastError?: string | null;
  /** Recipient event type: bounce_hard, bounce_soft, complaint, delivered, unsubscribed, opened, clicked, auto_reply. */
  eventType: string;
  detail: Record<string, unknown>;
  /** Counts a hard bounce against the address; it is suppressed once the count reaches the threshold. */
  hardBounce?: { suppressAfter: number };
  /** Suppresses the address at once. */
  suppress?: Suppression;
  /** A bounce's reason and detail, kept on the message recipient (the API returns it, /metrics counts it). */
  bounce?: BounceSummary;
  at: number;
}

export interface OutcomeResult {
  messageStatus: MessageStatus | null;
  /** True when this outcome put the address on the suppression list. */
  suppressed: Suppression | null;
  bounceCount: number;
}

// Statuses an after-the-fact report may still move. A final sender-side status (cancelled,
// rejected, suppressed) is left alone; a later bounce overrides `sent` and `delivered`.
// (Exported for the MySQL store, db/mysql/store/inbound.ts, which means the same.)
export const MOVABLE: readonly RecipientStatus[] = ["sending", "sent", "delivered", "deferred", "failed", "bounced", "queued"];

export async function applyOutcome(db: Db, o: OutcomeInput): Promise<OutcomeResult> {
  const { ref, at } = o;
  const email = ref.email.toLowerCase();
  // The workspace's record of this address (created on first report).
  const [before] = await db
    .insert(recipients)
    .values({ id: newId("rcp"), workspaceId: ref.workspaceId, email, updatedAt: at })
    .onConflictDoUpdate({ target: [recipients.workspaceId, recipients.email], set: { updatedAt: at } })
    .returning();
  const rcp = before!;
  let bounceCount = rcp.bounceCount;
  let suppressed: Suppression | null = null;
  const stmts: BatchItem<"sqlite">[] = [];

  if (o.hardBounce) {
    bounceCount += 1;
    const reached = bounceCount >= o.hardBounce.suppressAfter && rcp.status === "active";
    if (reached) suppressed = "bounced";
    stmts.push(
      db
        .update(recipients)
        .set({ bounceCount: sql`${recipients.bounceCount} + 1`, ...(reached ? { status: "bounced" as const } : {}), updatedAt: at })
        .where(eq(recipients.id, rcp.id)),
    );
  }
  if (o.suppress && rcp.status !== o.suppress && (rcp.status === "active" || o.suppress === "complained")) {
    suppressed = o.suppress;
    stmts.push(db.update(recipients).set({ status: o.suppress, updatedAt: at }).where(eq(recipients.id, rcp.id)));
  }
  const moves = o.status !== undefined && o.status !== ref.status && MOVABLE.includes(ref.status);
  if (moves || o.lastError !== undefined || o.bounce) {
    stmts.push(
      db
        .update(messageRecipients)
        .set({
          ...(moves ? { status: o.status } : {}),
          ...(o.lastError !== undefined ? { lastError: o.lastError?.slice(0, 1000) ?? null } : {}),
          ...(o.bounce ? { bounce: o.bounce } : {}),
          recipientId: rcp.id,
          updatedAt: at,
        })
        .where(and(eq(messageRecipients.workspaceId, ref.workspaceId), eq(messageRecipients.id, ref.messageRecipientId))),
    );
  }
  if (moves && ref.campaignId && o.status && COUNTED_STATUSES.includes(o.status)) {
    // Before the update it counts: only a row still in a movable status other than the new
    // one counts, so the same bounce reported twice (or by two sources) counts once.
    const counted = countTransitions(
      db,
      { campaignId: ref.campaignId, workspaceId: ref.workspaceId, day: utcDay(at), messageId: ref.messageId },
      { [o.status]: [ref.messageRecipientId] },
      MOVABLE,
    );
    if (counted) stmts.unshift(counted);
  }
  stmts.push(
    db.insert(recipientEvents).values({
      id: newId("evt"),
      workspaceId: ref.workspaceId,
      recipientId: rcp.id,
      messageRecipientId: ref.messageRecipientId,
      messageId: ref.messageId,
      type: o.eventType,
      detail: o.detail,
      createdAt: at,
    }),
  );
  await db.batch(stmts as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  const messageStatus = moves ? await refreshStatus(db, ref.workspaceId, ref.messageId, at) : null;
  return { messageStatus, suppressed, bounceCount };
}

async function refreshStatus(db: Db, workspaceId: string, messageId: string, at: number): Promise<MessageStatus> {
  const rows = await db
    .select({ status: messageRecipients.status })
    .from(messageRecipients)
    .where(and(eq(messageRecipients.workspaceId, workspaceId), eq(messageRecipients.messageId, messageId)))
    .all();
  const status = deriveMessageStatus(rows.map((r) => r.status));
  await db.update(messages).set({ status, updatedAt: at }).where(and(eq(messages.workspaceId, workspaceId), eq(messages.id, messageId)));
  return status;
}

export const getRecipientRecord = (db: Db, workspaceId: string, email: string) =>
  db.select().from(recipients).where(and(eq(recipients.workspaceId, workspaceId), eq(recipients.email, email.toLowerCase()))).get();

export const listRecipientEvents = (db: Db, workspaceId: string, messageRecipientId: string) =>
  db
    .select()
    .from(recipientEvents)
    .where(and(eq(recipientEvents.workspaceId, workspaceId), eq(recipientEvents.messageRecipientId, messageRecipientId)))
    .orderBy(recipientEvents.createdAt)
    .all();

export const providerTypeOf = async (db: Db, workspaceId: string, providerId: string | null): Promise<string | null> => {
  if (!providerId) return null;
  const row = await db.select({ type: providers.type }).from(providers).where(and(eq(providers.workspaceId, workspaceId), eq(providers.id, providerId))).get();
  return row?.type ?? null;
};

/**
 * The workspace that verified a sender domain (inbound mail is attributed by it) and, when one is
 * configured, the default workspace by slug, in one round trip.
 */
export async function findInboundWorkspaces(db: Db, domain: string, defaultSlug: string | null) {
  const columns = { workspaceId: workspaces.id, slug: workspaces.slug, status: workspaces.status };
  const [owner, fallback] = await db.batch([
    db
      .select(columns)
      .from(senderDomains)
      .innerJoin(workspaces, eq(workspaces.id, senderDomains.workspaceId))
      .where(and(eq(senderDomains.domain, domain.toLowerCase()), isNotNull(senderDomains.verifiedAt)))
      .limit(1),
    db.select(columns).from(workspaces).where(eq(workspaces.slug, defaultSlug ?? "")).limit(1),
  ]);
  return { owner: owner[0], fallback: defaultSlug === null ? undefined : fallback[0] };
}

/** Every recipient of a message by its id alone (VERP `msg_…`: the id is unguessable). */
export const findDeliveriesOfMessage = (db: Db, messageId: string): Promise<DeliveryRef[]> =>
  db
    .select(refColumns)
    .from(messageRecipients)
    .innerJoin(messages, eq(messages.id, messageRecipients.messageId))
    .where(eq(messageRecipients.messageId, messageId))
    .limit(1000)
    .all();

// Customer webhook endpoints, the events queued for them, and every delivery attempt.
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { messageRecipients, providers, providerWebhookKeys, providerWebhookTokens, webhookAttempts, webhookEndpoints, webhookEvents } from "./schema";

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookEventRow = typeof webhookEvents.$inferSelect;
export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect;

export async function insertEndpoint(db: Db, row: typeof webhookEndpoints.$inferInsert): Promise<WebhookEndpointRow> {
  const [created] = await db.insert(webhookEndpoints).values(row).returning();
  return created!;
}

export const listEndpoints = (db: Db, workspaceId: string) =>
  db.select().from(webhookEndpoints).where(eq(webhookEndpoints.workspaceId, workspaceId)).orderBy(asc(webhookEndpoints.createdAt)).all();

export const getEndpoint = (db: Db, workspaceId: string, id: string) =>
  db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, id))).get();

export async function updateEndpoint(
  db: Db,
  workspaceId: string,
  id: string,
  patch: Partial<Pick<WebhookEndpointRow, "url" | "events" | "enabled" | "description" | "secretEnc" | "disabledAt" | "disabledReason" | "failingSince">>,
  at: number,
): Promise<WebhookEndpointRow | undefined> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ ...patch, updatedAt: at })
    .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, id)))
    .returning();
  return row;
}

export async function deleteEndpoint(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(webhookEndpoints)
    .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, id)))
    .returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

/** Enabled endpoints of the workspace subscribed to any of `types`. */
export async function subscribedEndpoints(db: Db, workspaceId: string, types: string[]): Promise<WebhookEndpointRow[]> {
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.enabled, true)))
    .all();
  return rows.filter((e) => e.events.some((t) => t === "*" || types.includes(t)));
}

export async function insertEvents(db: Db, rows: (typeof webhookEvents.$inferInsert)[]): Promise<WebhookEventRow[]> {
  const out: WebhookEventRow[] = [];
  // 11 columns a row: stay under D1's 100 bound parameters per statement.
  for (let i = 0; i < rows.length; i += 8) out.push(...(await db.insert(webhookEvents).values(rows.slice(i, i + 8)).returning()));
  return out;
}

/** Events due for delivery (pending, next attempt reached), oldest first. */
export const dueEvents = (db: Db, now: number, limit: number) =>
  db
    .select({ id: webhookEvents.id })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.status, "pending"), or(isNull(webhookEvents.nextAttemptAt), lte(webhookEvents.nextAttemptAt, now))))
    .orderBy(asc(webhookEvents.nextAttemptAt))
    .limit(limit)
    .all();

/**
 * Takes an event for one delivery attempt: moves its next attempt past the lease so the sweep
 * and the immediate path never post the same event at once. Undefined when someone else has it.
 */
export async function claimEvent(db: Db, id: string, now: number, leaseMs: number): Promise<WebhookEventRow | undefined> {
  const [row] = await db
    .update(webhookEvents)
    .set({ nextAttemptAt: now + leaseMs })
    .where(
      and(
        eq(webhookEvents.id, id),
        eq(webhookEvents.status, "pending"),
        or(isNull(webhookEvents.nextAttemptAt), lte(webhookEvents.nextAttemptAt, now)),
      ),
    )
    .returning();
  return row;
}

export interface AttemptRecord {
  event: WebhookEventRow;
  attempt: typeof webhookAttempts.$inferInsert;
  status: "pending" | "delivered" | "failed";
  nextAttemptAt: number | null;
  lastError: string | null;
  at: number;
}

export async function recordAttempt(db: Db, r: AttemptRecord): Promise<void> {
  await db.batch([
    db.insert(webhookAttempts).values(r.attempt),
    db
      .update(webhookEvents)
      .set({
        status: r.status,
        attempts: sql`${webhookEvents.attempts} + 1`,
        nextAttemptAt: r.nextAttemptAt,
        lastError: r.lastError,
        lastStatusCode: r.attempt.statusCode ?? null,
        ...(r.status === "delivered" ? { deliveredAt: r.at } : {}),
      })
      .where(eq(webhookEvents.id, r.event.id)),
  ]);
}

/** After a success the endpoint is healthy again; after a failure it is failing since the first one. */
export async function markEndpointHealth(db: Db, endpointId: string, ok: boolean, at: number): Promise<WebhookEndpointRow | undefined> {
  const [row] = await db
    .update(webhookEndpoints)
    .set(ok ? { failingSince: null } : { failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${at})` })
    .where(eq(webhookEndpoints.id, endpointId))
    .returning();
  return row;
}

export async function disableEndpoint(db: Db, endpointId: string, reason: string, at: number): Promise<boolean> {
  const rows = await db
    .update(webhookEndpoints)
    .set({ enabled: false, disabledAt: at, disabledReason: reason, updatedAt: at })
    .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.enabled, true)))
    .returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

/** Gives up the endpoint's pending events (it is disabled). */
export async function failPendingEvents(db: Db, endpointId: string, reason: string): Promise<void> {
  await db
    .update(webhookEvents)
    .set({ status: "failed", lastError: reason, nextAttemptAt: null })
    .where(and(eq(webhookEvents.endpointId, endpointId), eq(webhookEvents.status, "pending")));
}

export const getEndpointById = (db: Db, id: string) => db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get();

export interface EventQuery {
  status?: "pending" | "delivered" | "failed";
  before?: { createdAt: number; id: string };
  limit: number;
}

/** An endpoint's events, newest first; `before` is the (created_at, id) of the last row of the previous page. */
export const listEvents = (db: Db, workspaceId: string, endpointId: string, q: EventQuery) =>
  db
    .select()
    .from(webhookEvents)
    .where(
      and(
        eq(webhookEvents.workspaceId, workspaceId),
        eq(webhookEvents.endpointId, endpointId),
        q.status ? eq(webhookEvents.status, q.status) : undefined,
        q.before
          ? or(lt(webhookEvents.createdAt, q.before.createdAt), and(eq(webhookEvents.createdAt, q.before.createdAt), lt(webhookEvents.id, q.before.id)))
          : undefined,
      ),
    )
    .orderBy(desc(webhookEvents.createdAt), desc(webhookEvents.id))
    .limit(q.limit)
    .all();

export const getEvent = (db: Db, workspaceId: string, id: string) =>
  db.select().from(webhookEvents).where(and(eq(webhookEvents.workspaceId, workspaceId), eq(webhookEvents.id, id))).get();

export const listAttempts = (db: Db, workspaceId: string, eventIds: string[]) =>
  eventIds.length === 0
    ? Promise.resolve([] as WebhookAttemptRow[])
    : db
        .select()
        .from(webhookAttempts)
        .where(and(eq(webhookAttempts.workspaceId, workspaceId), inArray(webhookAttempts.eventId, eventIds)))
        .orderBy(asc(webhookAttempts.eventId), asc(webhookAttempts.attempt))
        .all();

/** Replay: the event goes out again at once (with its original id, so receivers can dedupe). */
export async function requeueEvent(db: Db, workspaceId: string, id: string, at: number): Promise<WebhookEventRow | undefined> {
  const [row] = await db
    .update(webhookEvents)
    .set({ status: "pending", nextAttemptAt: at })
    .where(and(eq(webhookEvents.workspaceId, workspaceId), eq(webhookEvents.id, id)))
    .returning();
  return row;
}

// Provider webhook signing keys and replay tokens.

export async function putSigningKey(db: Db, workspaceId: string, providerId: string, signingKeyEnc: string, at: number): Promise<void> {
  await db
    .insert(providerWebhookKeys)
    .values({ providerId, workspaceId, signingKeyEnc, createdAt: at, updatedAt: at })
    // Provider ids are unique across workspaces; the key of one another workspace holds stays its own.
    .onConflictDoUpdate({ target: providerWebhookKeys.providerId, set: { signingKeyEnc, updatedAt: at }, setWhere: eq(providerWebhookKeys.workspaceId, workspaceId) });
}

export async function deleteSigningKey(db: Db, workspaceId: string, providerId: string): Promise<boolean> {
  const rows = await db
    .delete(providerWebhookKeys)
    .where(and(eq(providerWebhookKeys.workspaceId, workspaceId), eq(providerWebhookKeys.providerId, providerId)))
    .returning({ id: providerWebhookKeys.providerId });
  return rows.length > 0;
}

export const getSigningKey = (db: Db, providerId: string) =>
  db.select().from(providerWebhookKeys).where(eq(providerWebhookKeys.providerId, providerId)).get();

/** Records a token; false when it was seen before (a replay). Old tokens are pruned on the way. */
export async function useToken(db: Db, providerId: string, token: string, at: number, keepMs: number): Promise<boolean> {
  const [, inserted] = await db.batch([
    db.delete(providerWebhookTokens).where(lte(providerWebhookTokens.createdAt, at - keepMs)),
    db.insert(providerWebhookTokens).values({ providerId, token, createdAt: at }).onConflictDoNothing().returning({ token: providerWebhookTokens.token }),
  ]);
  return inserted.length > 0;
}

/** What a delivery event names beside the outcome: each recipient's attempt number and the provider's type, in one round trip. */
export async function eventFacts(
  db: Db,
  workspaceId: string,
  recipientIds: string[],
  providerId: string | null,
): Promise<{ attemptOf: Map<string, number>; providerType: string | null }> {
  const [attempts, provider] = await db.batch([
    db
      .select({ id: messageRecipients.id, attempts: messageRecipients.attempts })
      .from(messageRecipients)
      .where(and(eq(messageRecipients.workspaceId, workspaceId), inArray(messageRecipients.id, recipientIds))),
    db
      .select({ type: providers.type })
      .from(providers)
      .where(and(eq(providers.workspaceId, workspaceId), eq(providers.id, providerId ?? ""))),
  ]);
  return { attemptOf: new Map(attempts.map((a) => [a.id, a.attempts])), providerType: provider[0]?.type ?? null };
}

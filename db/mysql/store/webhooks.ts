// The webhooks group (db/store/webhooks.ts) on MySQL: exactly the D1 adapter's meaning
// (db/webhooks.ts is the specification). Ordinary reads and writes are drizzle builders over the
// MySQL schema; MySQL has no RETURNING, so a write that answers with its row reads it back in the
// same transaction (the row is locked by the write, so what is read is what was written).
//
// The two races D1 settles by being the only writer:
// - claimEvent: a conditional UPDATE (the due condition in its WHERE). A second claimer blocks on
//   the row lock, re-evaluates the WHERE on the committed row, matches nothing and gets undefined.
// - useToken: INSERT IGNORE on the (provider_id, token) primary key; a concurrent second insert
//   waits for the first and then finds the duplicate (affectedRows 0).
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql, type SQL } from "drizzle-orm";
import { messageRecipients, providers, providerWebhookKeys, webhookAttempts, webhookEndpoints, webhookEvents } from "../schema";
import type { AttemptRecord, EndpointPatch, EventQuery, NewWebhookEndpoint, NewWebhookEvent, WebhookAttemptRow, WebhookEndpointRow, WebhookEventRow, WebhookStore } from "../../store/webhooks";
import type { Orm, Runner, Sql } from "./sql";

/** Rows per multi-row INSERT: only to keep a statement small (D1's are sized to its bound parameters). */
const ROWS_PER_INSERT = 100;

/** What a write through drizzle's mysql2 driver answers: the header first (affectedRows counts matched rows: FOUND_ROWS). */
const matched = (result: unknown): number => (result as [{ affectedRows: number }])[0].affectedRows;

export function mysqlWebhook(db: Runner): WebhookStore {
  return {
    insertEndpoint: (ws, row) =>
      db.tx(async (q) => {
        await q.orm.insert(webhookEndpoints).values(endpointInsert(ws, row));
        return (await endpoint(q.orm, eq(webhookEndpoints.workspaceId, ws), row.id))!;
      }),
    listEndpoints: (ws) =>
      db.run(async (q) => (await q.orm.select().from(webhookEndpoints).where(eq(webhookEndpoints.workspaceId, ws)).orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id))) as WebhookEndpointRow[]),
    getEndpoint: (ws, id) => db.run((q) => endpoint(q.orm, eq(webhookEndpoints.workspaceId, ws), id)),
    updateEndpoint: (ws, id, patch, at) => db.tx((q) => updateEndpoint(q, ws, id, patch, at)),
    deleteEndpoint: (ws, id) =>
      db.run(async (q) => matched(await q.orm.delete(webhookEndpoints).where(and(eq(webhookEndpoints.workspaceId, ws), eq(webhookEndpoints.id, id)))) > 0),
    subscribedEndpoints: (ws, types) =>
      db.run(async (q) => {
        const rows = (await q.orm
          .select()
          .from(webhookEndpoints)
          .where(and(eq(webhookEndpoints.workspaceId, ws), eq(webhookEndpoints.enabled, true)))) as WebhookEndpointRow[];
        return rows.filter((e) => e.events.some((t) => t === "*" || types.includes(t)));
      }),

    insertEvents: (ws, rows) => (rows.length === 0 ? Promise.resolve([]) : db.tx((q) => insertEvents(q, ws, rows))),
    eventFacts: (ws, recipientIds, providerId) =>
      db.tx(async (q) => {
        const attempts =
          recipientIds.length === 0
            ? []
            : await q.orm
                .select({ id: messageRecipients.id, attempts: messageRecipients.attempts })
                .from(messageRecipients)
                .where(and(eq(messageRecipients.workspaceId, ws), inArray(messageRecipients.id, recipientIds)));
        const [provider] = await q.orm
          .select({ type: providers.type })
          .from(providers)
          .where(and(eq(providers.workspaceId, ws), eq(providers.id, providerId ?? "")));
        return { attemptOf: new Map(attempts.map((a) => [a.id, a.attempts])), providerType: provider?.type ?? null };
      }),
    listEvents: (ws, endpointId, query) => db.lagging.run((q) => listEvents(q.orm, ws, endpointId, query)),
    getEvent: (ws, id) => db.run((q) => event(q.orm, eq(webhookEvents.workspaceId, ws), id)),
    listAttempts: (ws, eventIds) =>
      eventIds.length === 0
        ? Promise.resolve([])
        : db.lagging.run(
            async (q) =>
              (await q.orm
                .select()
                .from(webhookAttempts)
                .where(and(eq(webhookAttempts.workspaceId, ws), inArray(webhookAttempts.eventId, eventIds)))
                .orderBy(asc(webhookAttempts.eventId), asc(webhookAttempts.attempt))) as WebhookAttemptRow[],
          ),
    requeueEvent: (ws, id, at) =>
      db.tx(async (q) => {
        const scope = eq(webhookEvents.workspaceId, ws);
        if (matched(await q.orm.update(webhookEvents).set({ status: "pending", nextAttemptAt: at }).where(and(scope, eq(webhookEvents.id, id)))) === 0) return undefined;
        return event(q.orm, scope, id);
      }),

    dueEvents: (now, limit) =>
      db.run(async (q) =>
        (
          await q.orm
            .select({ id: webhookEvents.id })
            .from(webhookEvents)
            .where(dueCondition(now))
            .orderBy(asc(webhookEvents.nextAttemptAt))
            .limit(limit)
        ).map((r) => r.id),
      ),
    claimEvent: (id, now, leaseMs) =>
      db.tx(async (q) => {
        const won = matched(await q.orm.update(webhookEvents).set({ nextAttemptAt: now + leaseMs }).where(and(eq(webhookEvents.id, id), dueCondition(now))));
        return won === 1 ? event(q.orm, undefined, id) : undefined;
      }),
    recordAttempt: (r) => db.tx((q) => recordAttempt(q.orm, r)),
    endpointById: (id) => db.run((q) => endpoint(q.orm, undefined, id)),
    markEndpointHealth: (id, ok, at) =>
      db.tx(async (q) => {
        const set = ok ? { failingSince: null } : { failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${at})` };
        if (matched(await q.orm.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id))) === 0) return undefined;
        return endpoint(q.orm, undefined, id);
      }),
    disableEndpoint: (id, reason, at) =>
      db.run(
        async (q) =>
          matched(
            await q.orm
              .update(webhookEndpoints)
              .set({ enabled: false, disabledAt: at, disabledReason: reason, updatedAt: at })
              .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.enabled, true))),
          ) > 0,
      ),
    failPendingEvents: (id, reason) =>
      db.run(async (q) => {
        await q.orm
          .update(webhookEvents)
          .set({ status: "failed", lastError: reason, nextAttemptAt: null })
          .where(and(eq(webhookEvents.endpointId, id), eq(webhookEvents.status, "pending")));
      }),

    putSigningKey: (ws, providerId, enc, at) =>
      db.run(async (q) => {
        // Provider ids are unique across workspaces; a key another workspace holds stays its own
        // (the IFs leave its row as it is). workspace_id is never assigned, so both IFs see the stored one.
        await q.exec(
          `INSERT INTO \`provider_webhook_keys\` (\`provider_id\`, \`workspace_id\`, \`signing_key_enc\`, \`created_at\`, \`updated_at\`) VALUES (?, ?, ?, ?, ?)
           ON DUPLICATE KEY UPDATE \`signing_key_enc\` = IF(\`workspace_id\` = VALUES(\`workspace_id\`), VALUES(\`signing_key_enc\`), \`signing_key_enc\`),
             \`updated_at\` = IF(\`workspace_id\` = VALUES(\`workspace_id\`), VALUES(\`updated_at\`), \`updated_at\`)`,
          [providerId, ws, enc, at, at],
        );
      }),
    deleteSigningKey: (ws, providerId) =>
      db.run(
        async (q) => matched(await q.orm.delete(providerWebhookKeys).where(and(eq(providerWebhookKeys.workspaceId, ws), eq(providerWebhookKeys.providerId, providerId)))) > 0,
      ),
    getSigningKey: (providerId) =>
      db.run(async (q) => (await q.orm.select().from(providerWebhookKeys).where(eq(providerWebhookKeys.providerId, providerId)).limit(1))[0]),
    useToken: async (providerId, token, at, keepMs) => {
      // Two transactions, in D1's order: the prune, then the insert that decides. Apart, so the
      // prune's range locks are gone before the insert (in one transaction, concurrent uses
      // deadlock on each other's gap locks); each is run again if picked as a deadlock's victim.
      await db.tx((q) => q.exec(`DELETE FROM \`provider_webhook_tokens\` WHERE \`created_at\` <= ?`, [at - keepMs]));
      const inserted = await db.tx((q) => q.exec(`INSERT IGNORE INTO \`provider_webhook_tokens\` (\`provider_id\`, \`token\`, \`created_at\`) VALUES (?, ?, ?)`, [providerId, token, at]));
      return inserted === 1;
    },
  };
}

/** Pending and its next attempt reached (db/webhooks.ts dueEvents, claimEvent). */
const dueCondition = (now: number): SQL =>
  and(eq(webhookEvents.status, "pending"), or(isNull(webhookEvents.nextAttemptAt), lte(webhookEvents.nextAttemptAt, now)))!;

const endpointInsert = (ws: string, row: NewWebhookEndpoint) => ({ ...row, workspaceId: ws });

async function endpoint(orm: Orm, scope: SQL | undefined, id: string): Promise<WebhookEndpointRow | undefined> {
  const [row] = await orm.select().from(webhookEndpoints).where(and(scope, eq(webhookEndpoints.id, id))).limit(1);
  return row as WebhookEndpointRow | undefined;
}

async function event(orm: Orm, scope: SQL | undefined, id: string): Promise<WebhookEventRow | undefined> {
  const [row] = await orm.select().from(webhookEvents).where(and(scope, eq(webhookEvents.id, id))).limit(1);
  return row as WebhookEventRow | undefined;
}

async function updateEndpoint(q: Sql, ws: string, id: string, patch: EndpointPatch, at: number): Promise<WebhookEndpointRow | undefined> {
  const scope = eq(webhookEndpoints.workspaceId, ws);
  if (matched(await q.orm.update(webhookEndpoints).set({ ...patch, updatedAt: at }).where(and(scope, eq(webhookEndpoints.id, id)))) === 0) return undefined;
  return endpoint(q.orm, scope, id);
}

/** The rows as stored (defaults filled in by the database), in the order given. */
async function insertEvents(q: Sql, ws: string, rows: NewWebhookEvent[]): Promise<WebhookEventRow[]> {
  const all = rows.map((r) => ({ ...r, workspaceId: ws }));
  for (let i = 0; i < all.length; i += ROWS_PER_INSERT) await q.orm.insert(webhookEvents).values(all.slice(i, i + ROWS_PER_INSERT));
  const byId = new Map<string, WebhookEventRow>();
  for (let i = 0; i < all.length; i += ROWS_PER_INSERT) {
    const ids = all.slice(i, i + ROWS_PER_INSERT).map((r) => r.id);
    const stored = await q.orm.select().from(webhookEvents).where(and(eq(webhookEvents.workspaceId, ws), inArray(webhookEvents.id, ids)));
    for (const row of stored) byId.set(row.id, row as WebhookEventRow);
  }
  return all.map((r) => byId.get(r.id)!);
}

async function listEvents(orm: Orm, ws: string, endpointId: string, q: EventQuery): Promise<WebhookEventRow[]> {
  const rows = await orm
    .select()
    .from(webhookEvents)
    .where(
      and(
        eq(webhookEvents.workspaceId, ws),
        eq(webhookEvents.endpointId, endpointId),
        q.status ? eq(webhookEvents.status, q.status) : undefined,
        q.before
          ? or(lt(webhookEvents.createdAt, q.before.createdAt), and(eq(webhookEvents.createdAt, q.before.createdAt), lt(webhookEvents.id, q.before.id)))
          : undefined,
      ),
    )
    .orderBy(desc(webhookEvents.createdAt), desc(webhookEvents.id))
    .limit(q.limit);
  return rows as WebhookEventRow[];
}

/** db/webhooks.ts recordAttempt: the attempt row and the event's new state, in one transaction. */
async function recordAttempt(orm: Orm, r: AttemptRecord): Promise<void> {
  await orm.insert(webhookAttempts).values(r.attempt);
  await orm
    .update(webhookEvents)
    .set({
      status: r.status,
      attempts: sql`${webhookEvents.attempts} + 1`,
      nextAttemptAt: r.nextAttemptAt,
      lastError: r.lastError,
      lastStatusCode: r.attempt.statusCode ?? null,
      ...(r.status === "delivered" ? { deliveredAt: r.at } : {}),
    })
    .where(eq(webhookEvents.id, r.event.id));
}

// The inbound group (db/store/inbound.ts) on MySQL: exactly the D1 adapter's meaning (db/inbound.ts
// is the specification: its comments say what each step means).
//
// applyOutcome is one transaction where D1 runs an upsert, a batch and a status refresh. It locks
// the message row first, as the delivery path's transactions do (db/mysql/store/delivery.ts), so a
// report and a delivery record of the same message queue on it instead of deadlocking on its
// recipients; then the address's record, read FOR UPDATE, so two reports about one address count
// its bounces one after the other.
import { and, asc, eq } from "drizzle-orm";
import { messageRecipients, messages, providers, recipientEvents, recipients } from "../schema";
import { MOVABLE } from "../../inbound";
import type { DeliveryRef, InboundStore, OutcomeInput, OutcomeResult, RecipientEventRow, RecipientRecordRow, Suppression } from "../../store/inbound";
import { COUNTED_STATUSES, utcDay } from "../../../core/campaigns";
import { newId } from "../../../core/ids";
import { deriveMessageStatus, type MessageStatus, type RecipientStatus } from "../../../core/status";
import { columnList, mapRow, type Orm, type Runner, type Sql } from "./sql";

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

const COUNTERS = ["queued", "sent", "delivered", "bounced", "complained", "failed", "suppressed"] as const;

/** Message recipients joined to their message, as DeliveryRefs, at most `limit`. */
const refs = (orm: Orm, where: ReturnType<typeof and>, limit: number): Promise<DeliveryRef[]> =>
  orm.select(refColumns).from(messageRecipients).innerJoin(messages, eq(messages.id, messageRecipients.messageId)).where(where).limit(limit) as Promise<DeliveryRef[]>;

const sameAddress = (email: string) => (r: DeliveryRef) => r.email.toLowerCase() === email.toLowerCase();

export function mysqlInbound(db: Runner): InboundStore {
  return {
    findDeliveryById: (id) => db.run(async (q) => (await refs(q.orm, eq(messageRecipients.id, id), 1))[0]),
    findDeliveryByMessageIdHeader: (header, email) =>
      db.run(async (q) => {
        const rows = await refs(q.orm, eq(messages.messageIdHeader, header), 50);
        // Several workspaces could share a Message-ID: only an exact recipient match in exactly one counts.
        const matching = email ? rows.filter(sameAddress(email)) : rows.length === 1 ? rows : [];
        return matching.length === 1 ? matching[0] : undefined;
      }),
    findDeliveryByProviderMessageId: (ws, providerMessageId, email) =>
      db.run(async (q) =>
        (await refs(q.orm, and(eq(messageRecipients.workspaceId, ws), eq(messageRecipients.providerMessageId, providerMessageId)), 100)).find(sameAddress(email)),
      ),
    findDeliveryByMessage: (ws, messageId, email) =>
      db.run(async (q) => (await refs(q.orm, and(eq(messageRecipients.workspaceId, ws), eq(messageRecipients.messageId, messageId)), 1000)).find(sameAddress(email))),
    findDeliveriesOfMessage: (messageId) => db.run((q) => refs(q.orm, eq(messageRecipients.messageId, messageId), 1000)),
    applyOutcome: (o) => db.tx((q) => applyOutcome(q, o)),
    getRecipientRecord: (ws, email) =>
      db.run(
        async (q) =>
          (await q.orm
            .select()
            .from(recipients)
            .where(and(eq(recipients.workspaceId, ws), eq(recipients.email, email.toLowerCase())))
            .limit(1))[0] as RecipientRecordRow | undefined,
      ),
    listRecipientEvents: (ws, id) =>
      db.run(
        async (q) =>
          (await q.orm
            .select()
            .from(recipientEvents)
            .where(and(eq(recipientEvents.workspaceId, ws), eq(recipientEvents.messageRecipientId, id)))
            .orderBy(asc(recipientEvents.createdAt), asc(recipientEvents.id))) as RecipientEventRow[],
      ),
    providerTypeOf: (ws, providerId) =>
      providerId
        ? db.run(async (q) => (await q.orm.select({ type: providers.type }).from(providers).where(and(eq(providers.workspaceId, ws), eq(providers.id, providerId))).limit(1))[0]?.type ?? null)
        : Promise.resolve(null),
  };
}

/** db/inbound.ts applyOutcome, in one transaction. */
async function applyOutcome(q: Sql, o: OutcomeInput): Promise<OutcomeResult> {
  const { ref, at } = o;
  const ws = ref.workspaceId;
  const email = ref.email.toLowerCase();
  await q.rows(`SELECT \`id\` FROM \`messages\` WHERE \`workspace_id\` = ? AND \`id\` = ? FOR UPDATE`, [ws, ref.messageId]);

  // The workspace's record of this address (created on first report), as it is before this report.
  await q.exec(`INSERT INTO \`recipients\` (\`id\`, \`workspace_id\`, \`email\`, \`updated_at\`) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE \`updated_at\` = VALUES(\`updated_at\`)`, [
    newId("rcp"),
    ws,
    email,
    at,
  ]);
  const [found] = await q.rows(`SELECT ${columnList(recipients)} FROM \`recipients\` WHERE \`workspace_id\` = ? AND \`email\` = ? FOR UPDATE`, [ws, email]);
  const rcp: RecipientRecordRow = mapRow(recipients, found!);
  let bounceCount = rcp.bounceCount;
  let suppressed: Suppression | null = null;

  if (o.hardBounce) {
    bounceCount += 1;
    const reached = bounceCount >= o.hardBounce.suppressAfter && rcp.status === "active";
    if (reached) suppressed = "bounced";
    await q.exec(`UPDATE \`recipients\` SET \`bounce_count\` = \`bounce_count\` + 1, ${reached ? "`status` = 'bounced', " : ""}\`updated_at\` = ? WHERE \`workspace_id\` = ? AND \`id\` = ?`, [at, ws, rcp.id]);
  }
  if (o.suppress && rcp.status !== o.suppress && (rcp.status === "active" || o.suppress === "complained")) {
    suppressed = o.suppress;
    await q.exec(`UPDATE \`recipients\` SET \`status\` = ?, \`updated_at\` = ? WHERE \`workspace_id\` = ? AND \`id\` = ?`, [o.suppress, at, ws, rcp.id]);
  }
  const moves = o.status !== undefined && o.status !== ref.status && MOVABLE.includes(ref.status);
  // Before the move it counts: only a row still in a movable status other than the new one, so the
  // same bounce reported twice (or by two sources) counts once.
  if (moves && ref.campaignId && o.status && COUNTED_STATUSES.includes(o.status)) await countTransition(q, ref, o.status, at);
  if (moves || o.lastError !== undefined || o.bounce) {
    const set: [column: string, value: unknown][] = [
      ...(moves ? [["status", o.status] as [string, unknown]] : []),
      ...(o.lastError !== undefined ? [["last_error", o.lastError?.slice(0, 1000) ?? null] as [string, unknown]] : []),
      ...(o.bounce ? [["bounce", JSON.stringify(o.bounce)] as [string, unknown]] : []),
      ["recipient_id", rcp.id],
      ["updated_at", at],
    ];
    await q.exec(`UPDATE \`message_recipients\` SET ${set.map(([c]) => `\`${c}\` = ?`).join(", ")} WHERE \`workspace_id\` = ? AND \`id\` = ?`, [
      ...set.map(([, v]) => v),
      ws,
      ref.messageRecipientId,
    ]);
  }
  await q.exec(
    `INSERT INTO \`recipient_events\` (\`id\`, \`workspace_id\`, \`recipient_id\`, \`message_recipient_id\`, \`message_id\`, \`type\`, \`detail\`, \`created_at\`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [newId("evt"), ws, rcp.id, ref.messageRecipientId, ref.messageId, o.eventType, JSON.stringify(o.detail), at],
  );
  const messageStatus = moves ? await refreshStatus(q, ws, ref.messageId, at) : null;
  return { messageStatus, suppressed, bounceCount };
}

/** db/campaigns.ts countTransitions for one recipient moving into `status`, from a movable status other than it. */
async function countTransition(q: Sql, ref: DeliveryRef, status: RecipientStatus, at: number): Promise<void> {
  const counter = COUNTERS.find((k) => k === status)!;
  await q.exec(
    `INSERT INTO \`campaign_stats\` (\`campaign_id\`, \`workspace_id\`, \`day\`, ${COUNTERS.map((k) => `\`${k}\``).join(", ")})
     SELECT ?, ?, ?, ${COUNTERS.map((k) => (k === counter ? "count(*)" : "0")).join(", ")}
     FROM \`message_recipients\`
     WHERE \`workspace_id\` = ? AND \`message_id\` = ? AND \`id\` = ? AND \`status\` IN (?) AND \`status\` <> ?
     HAVING count(*) > 0
     ON DUPLICATE KEY UPDATE \`${counter}\` = \`${counter}\` + VALUES(\`${counter}\`)`,
    [ref.campaignId, ref.workspaceId, utcDay(at), ref.workspaceId, ref.messageId, ref.messageRecipientId, MOVABLE, counter],
  );
}

async function refreshStatus(q: Sql, ws: string, messageId: string, at: number): Promise<MessageStatus> {
  const rows = await q.rows<{ status: RecipientStatus }>(`SELECT \`status\` FROM \`message_recipients\` WHERE \`workspace_id\` = ? AND \`message_id\` = ?`, [ws, messageId]);
  const status = deriveMessageStatus(rows.map((r) => r.status));
  await q.exec(`UPDATE \`messages\` SET \`status\` = ?, \`updated_at\` = ? WHERE \`workspace_id\` = ? AND \`id\` = ?`, [status, at, ws, messageId]);
  return status;
}

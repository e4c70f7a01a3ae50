// The delivery path on MySQL: the same operations as the D1 adapter (db/messages/delivery.ts and
// db/messages/end-pending.ts are the specification: their comments say what each one means), as
// InnoDB transactions where D1 uses a batch.
//
// Locks, where D1 relies on being the only writer: every transaction here that changes a message
// and its recipients locks the message row first (a locking read or the message's UPDATE as its
// first statement), then recipients. Two consumers of one message therefore queue on the message
// row instead of deadlocking on each other's recipients; a deadlock with some other writer is
// run again from the start (sql.ts transaction).
import { deliveryAttempts, messageRecipients, messages, providers } from "../schema";
import { byShape, chunks } from "../../fast-insert";
import { claimLapsesAt, LEGACY_CLAIM_LEASE_MS, messageRecordSet, recipientOutcomeSet, sameOutcomes, type ClaimLease, type DeliveryRecord, type WorkspaceDeliveryFacts } from "../../messages/delivery";
import type { MessageRecipientRow, MessageRow, NewAttempt } from "../../messages/types";
import type { QuotaRow } from "../../provider-quotas";
import type { DeliveryEvent } from "../../recipients";
import type { DeliveryStore, LoadedClaim } from "../../store/store";
import { utcDay } from "../../../core/campaigns";
import { newId } from "../../../core/ids";
import { deriveMessageStatus, PENDING_STATUSES, type MessageStatus, type RecipientStatus } from "../../../core/status";
import { columnList, insertRows, mapRow, mapRows, type Runner, type Sql } from "./sql";

/** The claimable condition of db/messages/delivery.ts loadAndClaim, on a message_recipients row. */
const CLAIMABLE_SQL = `(\`status\` IN ('queued', 'deferred') OR (\`status\` = 'sending' AND coalesce(\`lease_until\`, \`updated_at\` + ${LEGACY_CLAIM_LEASE_MS}) <= ?))`;
const isClaimable = (r: MessageRecipientRow, at: number) => r.status === "queued" || r.status === "deferred" || (r.status === "sending" && claimLapsesAt(r) <= at);

/**
 * The first lease as the D1 claim computes it: at + margin + the longest timeout_ms among the
 * workspace's enabled providers (a provider whose config names none: its type's default), or
 * the default when it has none. JSON_TYPE keeps a non-numeric timeout_ms from failing the claim;
 * core validates it as an integer.
 */
const LEASE_SQL = `? + ? + coalesce((SELECT max(CASE WHEN JSON_TYPE(JSON_EXTRACT(\`config\`, '$.timeout_ms')) IN ('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL')
    THEN JSON_EXTRACT(\`config\`, '$.timeout_ms') + 0 ELSE CASE \`type\` WHEN 'gmail' THEN ? ELSE ? END END)
  FROM \`providers\` WHERE \`workspace_id\` = ? AND \`status\` = 'enabled'), ?)`;

/** Rows per multi-row INSERT: D1's are sized to its 100 bound parameters, these only to keep a statement small. */
const ROWS_PER_INSERT = 100;

export function mysqlDelivery(db: Runner): DeliveryStore {
  return {
    loadWorkspace: (ws) => db.tx((q) => loadWorkspace(q, ws)),
    loadAndClaim: (ws, id, at, lease, dueBy) => db.tx((q) => loadAndClaim(q, ws, id, at, lease, dueBy)),
    renewClaim: (ws, id, claimedAt, until) => db.tx((q) => renewClaim(q, ws, id, claimedAt, until)),
    releaseClaim: async (ws, id, rows, messageStatus, claimedAt) => {
      if (rows.length > 0) await db.tx((q) => releaseClaim(q, ws, id, rows, messageStatus, claimedAt));
    },
    insertAttempt: (row) => db.run((q) => insertAttempts(q, [row])),
    recordDelivery: (r) => db.tx((q) => recordDelivery(q, r)),
    markDueAt: (ws, id, at) => db.run(async (q) => void (await q.exec(`UPDATE \`messages\` SET \`enqueued_at\` = ? WHERE \`workspace_id\` = ? AND \`id\` = ?`, [at, ws, id]))),
    failPending: (ws, id, reason, at) => db.tx((q) => failPending(q, ws, id, reason, at)),
  };
}

/** Settings, enabled providers in priority order, quotas: read in one transaction (one snapshot), as D1's batch. */
async function loadWorkspace(q: Sql, workspaceId: string): Promise<WorkspaceDeliveryFacts> {
  const [ws] = await q.rows<{ configuration: unknown }>(`SELECT \`configuration\` FROM \`workspaces\` WHERE \`id\` = ?`, [workspaceId]);
  const provs = await q.rows(
    `SELECT ${columnList(providers)} FROM \`providers\` WHERE \`workspace_id\` = ? AND \`status\` = 'enabled' ORDER BY \`priority\`, \`created_at\`, \`id\``,
    [workspaceId],
  );
  const quotas = await q.rows<{ provider_id: string | null; period: QuotaRow["period"]; max_count: number; burst: number | null }>(
    `SELECT \`provider_id\`, \`period\`, \`max_count\`, \`burst\` FROM \`rate_limits\` WHERE \`workspace_id\` = ? AND \`scope\` = 'provider'`,
    [workspaceId],
  );
  // D1 parses the text (absent or empty: {}); mysql2 parses MySQL 8's JSON itself, MariaDB's is text.
  const config = ws?.configuration;
  return {
    workspaceConfig: ws === undefined ? {} : typeof config === "string" ? (config ? (JSON.parse(config) as unknown) : {}) : config,
    providers: mapRows(providers, provs),
    quotas: quotas.map((r) => ({ providerId: r.provider_id, period: r.period, maxCount: Number(r.max_count), burst: r.burst === null ? null : Number(r.burst) }) satisfies QuotaRow),
  };
}

/**
 * db/messages/delivery.ts loadAndClaim. The message and all its recipients are read with
 * FOR UPDATE: a second claimer waits on the message row until the first commits, then reads
 * what it wrote, so `recipients` is exactly the state the claim decided on ("as before the
 * claim") and no recipient goes to two consumers. The claimable ones are chosen from those locked
 * rows by the D1 condition (repeated in the UPDATE's WHERE) and updated by id; the claimed rows
 * returned are those rows as the UPDATE left them.
 */
async function loadAndClaim(q: Sql, workspaceId: string, id: string, at: number, lease: ClaimLease | number, dueBy: number): Promise<LoadedClaim | undefined> {
  const leaseSql =
    typeof lease === "number"
      ? { text: `? + ?`, values: [at, lease] }
      : { text: LEASE_SQL, values: [at, lease.marginMs, lease.defaultDeadlineMs("gmail"), lease.defaultDeadlineMs(""), workspaceId, lease.defaultDeadlineMs("")] };
  const [msg] = await q.rows(`SELECT ${columnList(messages)}, ${leaseSql.text} AS \`claim_lease_until\` FROM \`messages\` WHERE \`workspace_id\` = ? AND \`id\` = ? FOR UPDATE`, [
    ...leaseSql.values,
    workspaceId,
    id,
  ]);
  if (!msg) return undefined;
  const message: MessageRow = mapRow(messages, msg);
  const leaseUntil = Number(msg.claim_lease_until);
  const recipients: MessageRecipientRow[] = mapRows(
    messageRecipients,
    await q.rows(`SELECT ${columnList(messageRecipients)} FROM \`message_recipients\` WHERE \`workspace_id\` = ? AND \`message_id\` = ? FOR UPDATE`, [workspaceId, id]),
  );
  const due = (message.notBefore ?? 0) <= dueBy;
  const claimable = due ? recipients.filter((r) => isClaimable(r, at)) : [];
  if (claimable.length > 0) {
    const matched = await q.exec(
      `UPDATE \`message_recipients\` SET \`status\` = 'sending', \`updated_at\` = ?, \`attempts\` = \`attempts\` + 1, \`lease_until\` = ?
       WHERE \`workspace_id\` = ? AND \`message_id\` = ? AND \`id\` IN (?) AND ${CLAIMABLE_SQL}`,
      [at, leaseUntil, workspaceId, id, claimable.map((r) => r.id), at],
    );
    // Cannot differ while the rows are locked; if it ever did, nothing is claimed rather than a row twice.
    if (matched !== claimable.length) throw new Error(`loadAndClaim: the claim matched ${matched} of ${claimable.length} locked recipients of ${id}`);
  }
  // The message shows `sending` while a provider call is in flight.
  if (due && (message.status === "queued" || message.status === "deferred")) {
    await q.exec(`UPDATE \`messages\` SET \`status\` = 'sending', \`updated_at\` = ? WHERE \`workspace_id\` = ? AND \`id\` = ? AND \`status\` IN ('queued', 'deferred')`, [at, workspaceId, id]);
  }
  // The rows are locked: the UPDATE wrote exactly this.
  const claimed = claimable.map((r): MessageRecipientRow => ({ ...r, status: "sending", updatedAt: at, attempts: r.attempts + 1, leaseUntil }));
  return { message, recipients, claimed };
}

/** db/messages/delivery.ts renewClaim: the UPDATE, then the ids it matched (still locked by it). */
async function renewClaim(q: Sql, workspaceId: string, messageId: string, claimedAt: number, until: number): Promise<Set<string>> {
  const held = `\`workspace_id\` = ? AND \`message_id\` = ? AND \`status\` = 'sending' AND \`updated_at\` = ?`;
  await q.exec(`UPDATE \`message_recipients\` SET \`lease_until\` = GREATEST(coalesce(\`lease_until\`, 0), ?) WHERE ${held}`, [until, workspaceId, messageId, claimedAt]);
  const rows = await q.rows<{ id: string }>(`SELECT \`id\` FROM \`message_recipients\` WHERE ${held} FOR UPDATE`, [workspaceId, messageId, claimedAt]);
  return new Set(rows.map((r) => r.id));
}

/** db/messages/delivery.ts releaseClaim: the message, then each recipient back to its earlier status (one statement). */
async function releaseClaim(q: Sql, workspaceId: string, messageId: string, rows: { id: string; status: RecipientStatus }[], messageStatus: MessageStatus, claimedAt: number) {
  await q.exec(`UPDATE \`messages\` SET \`status\` = ? WHERE \`workspace_id\` = ? AND \`id\` = ? AND \`status\` = 'sending' AND \`updated_at\` = ?`, [
    messageStatus === "sending" ? "deferred" : messageStatus,
    workspaceId,
    messageId,
    claimedAt,
  ]);
  const before = rows.map((r) => ({ id: r.id, status: r.status === "sending" ? "deferred" : r.status }));
  await q.exec(
    `UPDATE \`message_recipients\` SET \`status\` = CASE \`id\` ${before.map(() => "WHEN ? THEN ?").join(" ")} END,
       \`attempts\` = GREATEST(0, \`attempts\` - 1), \`lease_until\` = NULL
     WHERE \`workspace_id\` = ? AND \`message_id\` = ? AND \`id\` IN (?) AND \`status\` = 'sending' AND \`updated_at\` = ?`,
    [...before.flatMap((r) => [r.id, r.status]), workspaceId, messageId, before.map((r) => r.id), claimedAt],
  );
}

async function insertAttempts(q: Sql, rows: NewAttempt[]): Promise<void> {
  for (const shaped of byShape(rows)) {
    for (const chunk of chunks(shaped, ROWS_PER_INSERT)) {
      const { sql, values } = insertRows(deliveryAttempts, chunk);
      await q.exec(sql, values);
    }
  }
}

/**
 * db/messages/delivery.ts recordDelivery, in one transaction: the message row first (its lock
 * orders this against a claim of the same message), then the campaign counters (reading the
 * statuses the updates below change), the recipients grouped by outcome, the attempts and the
 * recipient events.
 */
async function recordDelivery(q: Sql, r: DeliveryRecord): Promise<MessageStatus> {
  const status = deriveMessageStatus([...r.otherStatuses, ...r.outcomes.map((o) => o.status)]);
  const { set, values } = messageRecordSet(r, status, (c) => `\`${c}\``);
  await q.exec(`UPDATE \`messages\` SET ${set} WHERE \`workspace_id\` = ? AND \`id\` = ?`, [...values, r.workspaceId, r.messageId]);

  if (r.campaignId) {
    await countTransitions(q, { campaignId: r.campaignId, workspaceId: r.workspaceId, day: utcDay(r.at), messageId: r.messageId }, {
      sent: r.outcomes.filter((o) => o.status === "sent").map((o) => o.id),
      failed: r.outcomes.filter((o) => o.status === "failed").map((o) => o.id),
    });
  }

  // Recipients with the same outcome are updated by one statement (the same grouping as D1's).
  for (const { o, ids } of sameOutcomes(r.outcomes)) {
    const { set, values } = recipientOutcomeSet(o, r.at, (c) => `\`${c}\``, "GREATEST");
    if (ids.length === 1) await q.exec(`UPDATE \`message_recipients\` SET ${set} WHERE \`workspace_id\` = ? AND \`id\` = ?`, [...values, r.workspaceId, ids[0]]);
    else
      await q.exec(`UPDATE \`message_recipients\` SET ${set} WHERE \`workspace_id\` = ? AND \`message_id\` = ? AND \`id\` IN (?)`, [
        ...values,
        r.workspaceId,
        r.messageId,
        ids,
      ]);
  }
  if (r.attempts?.length) await insertAttempts(q, r.attempts);
  if (r.events?.length) await insertDeliveryEvents(q, r.workspaceId, r.messageId, r.at, r.events);
  return status;
}

/**
 * db/campaigns.ts countTransitions on MySQL: the recipients of one message about to move into
 * `sent` / `failed` from a pending status (and not already there) are added to the day's
 * counters; it runs before the statements that move them. HAVING keeps an outcome with nothing
 * to count from creating an empty day row.
 */
async function countTransitions(q: Sql, key: { campaignId: string; workspaceId: string; day: string; messageId: string }, moves: { sent: string[]; failed: string[] }) {
  const counted = (["sent", "failed"] as const).filter((k) => moves[k].length > 0);
  if (counted.length === 0) return;
  const value = (k: "sent" | "failed") => (moves[k].length > 0 ? "coalesce(sum(`id` IN (?) AND `status` <> ?), 0)" : "0");
  await q.exec(
    `INSERT INTO \`campaign_stats\` (\`campaign_id\`, \`workspace_id\`, \`day\`, \`queued\`, \`sent\`, \`delivered\`, \`bounced\`, \`complained\`, \`failed\`, \`suppressed\`)
     SELECT ?, ?, ?, 0, ${value("sent")}, 0, 0, 0, ${value("failed")}, 0
     FROM \`message_recipients\`
     WHERE \`workspace_id\` = ? AND \`message_id\` = ? AND \`id\` IN (?) AND \`status\` IN (?)
     HAVING count(*) > 0
     ON DUPLICATE KEY UPDATE ${counted.map((k) => `\`${k}\` = \`${k}\` + VALUES(\`${k}\`)`).join(", ")}`,
    [
      key.campaignId,
      key.workspaceId,
      key.day,
      ...counted.flatMap((k) => [moves[k], k]),
      key.workspaceId,
      key.messageId,
      [...moves.sent, ...moves.failed],
      PENDING_STATUSES,
    ],
  );
}

/** db/recipients.ts deliveryEventInserts: one row per outcome, linked to the workspace's recipient record by address. */
async function insertDeliveryEvents(q: Sql, workspaceId: string, messageId: string, at: number, events: DeliveryEvent[]) {
  for (const chunk of chunks(events, ROWS_PER_INSERT)) {
    await q.exec(
      `INSERT INTO \`recipient_events\` (\`id\`, \`workspace_id\`, \`recipient_id\`, \`message_recipient_id\`, \`message_id\`, \`type\`, \`detail\`, \`created_at\`) VALUES ${chunk
        .map(() => "(?, ?, (SELECT `id` FROM `recipients` WHERE `workspace_id` = ? AND `email` = ?), ?, ?, ?, ?, ?)")
        .join(", ")}`,
      chunk.flatMap((e) => [newId("evt"), workspaceId, workspaceId, e.email, e.messageRecipientId, messageId, e.type, JSON.stringify(e.detail), at]),
    );
  }
}

/**
 * db/messages/end-pending.ts failPending: every still-pending recipient failed, counted in the
 * message's campaign, and the message's status derived again, in one transaction (D1 refreshes
 * the status in a second step). The message row is locked first; the rows the UPDATE matched
 * are exactly the pending ones the D1 count counts.
 */
async function failPending(q: Sql, workspaceId: string, id: string, reason: string, at: number): Promise<number> {
  const [msg] = await q.rows<{ campaign_id: string | null }>(`SELECT \`campaign_id\` FROM \`messages\` WHERE \`workspace_id\` = ? AND \`id\` = ? FOR UPDATE`, [workspaceId, id]);
  if (!msg) return 0;
  const failed = await q.exec(
    `UPDATE \`message_recipients\` SET \`status\` = 'failed', \`last_error\` = ?, \`updated_at\` = ?
     WHERE \`workspace_id\` = ? AND \`message_id\` = ? AND \`status\` IN (?)`,
    [reason, at, workspaceId, id, PENDING_STATUSES],
  );
  if (failed === 0) return 0;
  if (msg.campaign_id !== null) {
    await q.exec(
      `INSERT INTO \`campaign_stats\` (\`campaign_id\`, \`workspace_id\`, \`day\`, \`queued\`, \`sent\`, \`delivered\`, \`bounced\`, \`complained\`, \`failed\`, \`suppressed\`)
       VALUES (?, ?, ?, 0, 0, 0, 0, 0, ?, 0) ON DUPLICATE KEY UPDATE \`failed\` = \`failed\` + VALUES(\`failed\`)`,
      [msg.campaign_id, workspaceId, utcDay(at), failed],
    );
  }
  const statuses = await q.rows<{ status: RecipientStatus }>(`SELECT \`status\` FROM \`message_recipients\` WHERE \`workspace_id\` = ? AND \`message_id\` = ?`, [workspaceId, id]);
  const status = deriveMessageStatus(statuses.map((s) => s.status));
  await q.exec(`UPDATE \`messages\` SET \`status\` = ?, \`updated_at\` = ? WHERE \`workspace_id\` = ? AND \`id\` = ?`, [status, at, workspaceId, id]);
  return failed;
}

// The accept path's write on MySQL (db/messages/accept.ts insertMessage is the specification):
// one InnoDB transaction where D1 uses one batch. Suppression is decided inside it by an
// INSERT … SELECT that reads the workspace's recipient records (InnoDB takes shared locks on the
// rows it reads, so a concurrent suppression of an address is ordered before or after this
// write, never half-seen). MySQL has no RETURNING: the recipients are read back in the
// transaction, and the message status, campaign counters and the idempotency record's stored
// answer are computed from those rows, so they agree with what was written. The idempotency
// record is the last statement: a key already taken (ER_DUP_ENTRY) rolls the whole write back,
// and the record that won is read from the primary once the transaction is over.
import { attachments, campaignStats, idempotencyKeys, messageHeaders, messages, recipients } from "../schema";
import { IDEMPOTENCY_KEY_MAX, MESSAGE_ID_MAX } from "../columns";
import { byShape, chunks } from "../../fast-insert";
import type { InsertedMessage, NewMessage } from "../../messages/accept";
import { sameWorkspace, type IdempotencyRecord, type InsertOutcome } from "../../store/accept";
import { RelayError } from "../../../core/errors";
import { newId } from "../../../core/ids";
import { insertRows, isDuplicateEntry, mapRow, tableName, type Runner, type Sql } from "./sql";

/** Rows per multi-row statement: only to keep a statement small (MySQL takes 65,535 parameters). */
const ROWS_PER_INSERT = 100;

type Fate = { status: "queued" | "suppressed"; lastError: string | null };

export async function insertMessage(db: Runner, workspaceId: string, m: NewMessage): Promise<InsertOutcome> {
  sameWorkspace(workspaceId, m.message.workspaceId);
  // The MySQL columns are sized for InnoDB's keys (db/mysql/columns.ts); D1 has no limit. Refused
  // here, before anything is written, rather than as a driver error halfway through.
  if (m.message.messageIdHeader.length > MESSAGE_ID_MAX) throw new RelayError("validation_error", `Message-ID: longer than ${MESSAGE_ID_MAX} characters`);
  if (m.idempotency && m.idempotency.key.length > IDEMPOTENCY_KEY_MAX) throw new RelayError("validation_error", `idempotency key: longer than ${IDEMPOTENCY_KEY_MAX} characters`);
  try {
    const inserted = await db.tx((q) => write(q, workspaceId, m));
    return { status: "stored", messageStatus: inserted.status, recipients: inserted.recipients };
  } catch (e) {
    if (!m.idempotency || !isDuplicateEntry(e)) throw e;
    const first = await db.run((q) => idempotencyRecord(q, workspaceId, m.idempotency!.key));
    if (!first) throw e;
    return { status: "duplicate", first };
  }
}

async function write(q: Sql, ws: string, m: NewMessage): Promise<InsertedMessage> {
  const id = m.message.id;
  const at = m.message.updatedAt ?? Date.now();
  const msg = insertRows(messages, [{ ...m.message, status: "queued" }]);
  await q.exec(msg.sql, msg.values);
  // Every address a workspace mails becomes a recipient record; existing ones are left as they
  // are (not INSERT IGNORE, which would hide other errors too).
  for (const chunk of chunks(m.recipients, ROWS_PER_INSERT)) {
    const r = insertRows(recipients, chunk.map((x) => ({ id: newId("rcp"), workspaceId: ws, email: x.email })));
    await q.exec(`${r.sql} ON DUPLICATE KEY UPDATE \`id\` = \`id\``, r.values);
  }
  for (const chunk of chunks(m.recipients, ROWS_PER_INSERT)) {
    await q.exec(insertRecipientsSql(chunk.length), [id, ws, at, ws, ws, ...chunk.flatMap((r) => [r.id, r.email, r.kind])]);
  }
  const written = await q.rows<{ email: string; status: Fate["status"]; last_error: string | null }>(
    `SELECT \`email\`, \`status\`, \`last_error\` FROM \`message_recipients\` WHERE \`workspace_id\` = ? AND \`message_id\` = ?`,
    [ws, id],
  );
  const fates = new Map<string, Fate>(written.map((r) => [r.email, { status: r.status, lastError: r.last_error }]));
  const queued = written.filter((r) => r.status === "queued").length;
  const status: InsertedMessage["status"] = queued > 0 ? "queued" : "failed";
  if (status === "failed") await q.exec(`UPDATE \`messages\` SET \`status\` = 'failed' WHERE \`workspace_id\` = ? AND \`id\` = ?`, [ws, id]);
  for (const chunk of chunks(m.headerNames, ROWS_PER_INSERT)) {
    const h = insertRows(messageHeaders, chunk.map((name) => ({ messageId: id, workspaceId: ws, name })));
    await q.exec(h.sql, h.values);
  }
  for (const shaped of byShape(m.attachments)) {
    for (const chunk of chunks(shaped, ROWS_PER_INSERT)) {
      const a = insertRows(attachments, chunk);
      await q.exec(a.sql, a.values);
    }
  }
  if (m.message.campaignId && m.campaignDay) {
    // Counted in the same transaction: a stored message is always counted, a refused one never.
    // VALUES() works on MySQL 8 and MariaDB (the `AS new` alias only on MySQL).
    await q.exec(
      `INSERT INTO ${tableName(campaignStats)} (\`campaign_id\`, \`workspace_id\`, \`day\`, \`queued\`, \`suppressed\`) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE \`queued\` = \`queued\` + VALUES(\`queued\`), \`suppressed\` = \`suppressed\` + VALUES(\`suppressed\`)`,
      [m.message.campaignId, ws, m.campaignDay, queued, written.length - queued],
    );
  }
  if (m.idempotency) {
    // The accept answer (workers/accept.ts AcceptedBody), recipients in request order: MySQL has
    // no insertion order to read them back in. Written as text, replayed byte for byte.
    const body = JSON.stringify({
      id,
      status,
      message_id: m.message.messageIdHeader,
      recipients: m.recipients.map((r) => ({ email: r.email, status: fates.get(r.email)?.status ?? "queued" })),
    });
    const k = insertRows(idempotencyKeys, [
      { workspaceId: ws, key: m.idempotency.key, requestHash: m.idempotency.requestHash, messageId: id, responseStatus: 202, responseBody: body, createdAt: m.idempotency.createdAt },
    ]);
    await q.exec(k.sql, k.values);
  }
  return { status, recipients: fates };
}

async function idempotencyRecord(q: Sql, ws: string, key: string): Promise<IdempotencyRecord | undefined> {
  const [row] = await q.rows(`SELECT * FROM ${tableName(idempotencyKeys)} WHERE \`workspace_id\` = ? AND \`key\` = ?`, [ws, key]);
  return row ? mapRow(idempotencyKeys, row) : undefined;
}

// Parameters, in order: message id, workspace id, updated_at, workspace id (recipient record),
// workspace id (suppression), then (id, email, kind) per row. A recipient is suppressed when the
// workspace's record for the address, in any case, is not active; recipients.email_lower (a
// stored generated column, indexed with workspace_id) serves that lookup. The rows come in as a
// UNION ALL of one-row SELECTs: portable between MySQL 8 (VALUES ROW(…)) and MariaDB (VALUES (…)).
const recipientsSqlCache = new Map<number, string>();
function insertRecipientsSql(rows: number): string {
  let text = recipientsSqlCache.get(rows);
  if (!text) {
    const values = ["SELECT ? AS `id`, ? AS `email`, ? AS `kind`", ...Array<string>(rows - 1).fill("SELECT ?, ?, ?")].join(" UNION ALL ");
    text = `INSERT INTO \`message_recipients\` (\`id\`, \`message_id\`, \`workspace_id\`, \`email\`, \`kind\`, \`status\`, \`last_error\`, \`updated_at\`, \`recipient_id\`)
      SELECT x.\`id\`, ?, ?, x.\`email\`, x.\`kind\`,
        CASE WHEN x.\`why\` IS NULL THEN 'queued' ELSE 'suppressed' END,
        CASE WHEN x.\`why\` IS NULL THEN NULL ELSE CONCAT('suppressed: the address ', x.\`why\`) END,
        ?, (SELECT r.\`id\` FROM \`recipients\` r WHERE r.\`workspace_id\` = ? AND r.\`email\` = x.\`email\`)
      FROM (SELECT v.\`id\`, v.\`email\`, v.\`kind\`,
              (SELECT s.\`status\` FROM \`recipients\` s WHERE s.\`workspace_id\` = ? AND s.\`email_lower\` = LOWER(v.\`email\`) AND s.\`status\` <> 'active' LIMIT 1) AS \`why\`
            FROM (${values}) v) x`;
    recipientsSqlCache.set(rows, text);
  }
  return text;
}

// Erasure of one recipient's personal data on MySQL (the recipients group, db/store/recipients.ts):
// db/erasure.ts's meaning, each of its D1 batches one transaction here. The address is replaced
// in the finished messages' records (one transaction), the R2 objects are deleted outside any
// transaction (a transaction is never held open across another service's calls), then the
// bodies are marked purged and the profiles deleted (a second transaction). A failure in the
// objects' deletion leaves the bodies unmarked, so erasing again retries it.
import type { ErasureResult, RecipientStore } from "../../store/recipients";
import type { Runner, Sql } from "./sql";

const FINAL = new Set(["sent", "partially_failed", "failed", "cancelled"]);

/** JSON as the driver hands it back: parsed by MySQL 8's driver, text on MariaDB. */
const jsonList = (v: unknown): string[] => (typeof v === "string" ? (JSON.parse(v) as string[]) : (v as string[]));

interface Hit {
  id: string;
  messageId: string;
  status: string;
  toEmails: string[];
  bodyR2Key: string | null;
  purgedAt: number | null;
}

export function mysqlRecipientErasure(db: Runner): Pick<RecipientStore, "eraseRecipient"> {
  return {
    eraseRecipient: async (ws, email, replacement, at, deleteObjects): Promise<ErasureResult> => {
      const lower = email.toLowerCase();
      const { hits, done } = await db.tx((q) => rewriteRecords(q, ws, lower, replacement, at));
      const unpurged = done.filter((h) => h.purgedAt === null);
      if (done.length > 0) await deleteObjects(unpurged.flatMap((h) => [...(h.bodyR2Key ? [h.bodyR2Key] : []), `rendered/${ws}/${h.messageId}`]));
      const profiles = await db.tx(async (q) => {
        const ids = [...new Set(unpurged.map((h) => h.messageId))];
        if (ids.length > 0) {
          await q.exec(
            `UPDATE \`messages\` SET \`body_enc\` = NULL, \`body_r2_key\` = NULL, \`body_purged_at\` = ?, \`updated_at\` = ? WHERE \`workspace_id\` = ? AND \`id\` IN (?)`,
            [at, at, ws, ids],
          );
          await q.exec(`UPDATE \`attachments\` SET \`filename_enc\` = '' WHERE \`workspace_id\` = ? AND \`message_id\` IN (?)`, [ws, ids]);
        }
        const pids = (await q.rows<{ id: string }>(`SELECT \`id\` FROM \`recipients\` WHERE \`workspace_id\` = ? AND \`email_lower\` = ? FOR UPDATE`, [ws, lower])).map((p) => p.id);
        if (pids.length > 0) {
          await q.exec(`DELETE FROM \`recipient_events\` WHERE \`workspace_id\` = ? AND \`recipient_id\` IN (?)`, [ws, pids]);
          await q.exec(`DELETE FROM \`recipients\` WHERE \`workspace_id\` = ? AND \`id\` IN (?)`, [ws, pids]);
        }
        return pids.length;
      });
      // As on D1: `messages` counts the finished deliveries to the address.
      return { messages: done.length, pending: hits.length - done.length, profiles };
    },
  };
}

/** In the workspace's finished messages to the address: the address replaced, its events and the stored first answers deleted. */
async function rewriteRecords(q: Sql, ws: string, lower: string, replacement: string, at: number): Promise<{ hits: Hit[]; done: Hit[] }> {
  // The message rows are locked: the To lists below are rewritten from what is read here.
  const hits = (
    await q.rows<{ id: string; message_id: string; status: string; to_emails: unknown; body_r2_key: string | null; body_purged_at: unknown }>(
      `SELECT mr.\`id\`, mr.\`message_id\`, m.\`status\`, m.\`to_emails\`, m.\`body_r2_key\`, m.\`body_purged_at\`
       FROM \`message_recipients\` mr JOIN \`messages\` m ON m.\`workspace_id\` = mr.\`workspace_id\` AND m.\`id\` = mr.\`message_id\`
       WHERE mr.\`workspace_id\` = ? AND lower(mr.\`email\`) = ? FOR UPDATE`,
      [ws, lower],
    )
  ).map(
    (r): Hit => ({
      id: r.id,
      messageId: r.message_id,
      status: r.status,
      toEmails: jsonList(r.to_emails),
      bodyR2Key: r.body_r2_key,
      purgedAt: r.body_purged_at === null ? null : Number(r.body_purged_at),
    }),
  );
  const done = hits.filter((h) => FINAL.has(h.status));
  if (done.length === 0) return { hits, done };
  const ids = done.map((h) => h.messageId);
  const swap = (list: string[]) => list.map((e) => (e.toLowerCase() === lower ? replacement : e));
  await q.exec(`UPDATE \`message_recipients\` SET \`email\` = ?, \`updated_at\` = ? WHERE \`workspace_id\` = ? AND \`message_id\` IN (?) AND lower(\`email\`) = ?`, [
    replacement,
    at,
    ws,
    ids,
    lower,
  ]);
  for (const h of done) {
    await q.exec(`UPDATE \`messages\` SET \`to_emails\` = ?, \`updated_at\` = ? WHERE \`workspace_id\` = ? AND \`id\` = ?`, [JSON.stringify(swap(h.toEmails)), at, ws, h.messageId]);
  }
  // Events about this recipient's deliveries, and the stored first answers (they list recipients).
  await q.exec(`DELETE FROM \`recipient_events\` WHERE \`workspace_id\` = ? AND \`message_recipient_id\` IN (?)`, [ws, done.map((h) => h.id)]);
  await q.exec(`DELETE FROM \`idempotency_keys\` WHERE \`workspace_id\` = ? AND \`message_id\` IN (?)`, [ws, ids]);
  const attempts = await q.rows<{ id: string; recipients: unknown }>(
    `SELECT \`id\`, \`recipients\` FROM \`delivery_attempts\` WHERE \`workspace_id\` = ? AND \`message_id\` IN (?) FOR UPDATE`,
    [ws, ids],
  );
  for (const a of attempts) {
    const list = jsonList(a.recipients);
    if (list.some((e) => e.toLowerCase() === lower)) {
      await q.exec(`UPDATE \`delivery_attempts\` SET \`recipients\` = ? WHERE \`workspace_id\` = ? AND \`id\` = ?`, [JSON.stringify(swap(list)), ws, a.id]);
    }
  }
  return { hits, done };
}

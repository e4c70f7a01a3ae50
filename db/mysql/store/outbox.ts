// The outbox on MySQL: the same statements as db/messages/outbox.ts (its comments say what each
// one means), except releaseDeferredOn, which MySQL cannot write as one UPDATE (it refuses LIMIT
// in an IN subquery, and a subquery on the table being updated): it locks the messages it takes
// with SELECT … ORDER BY not_before LIMIT ? FOR UPDATE and updates them by id, in one transaction.
//
// Not SKIP LOCKED, which the design proposed: ORDER BY not_before over three waiting_on values
// is a filesort on messages_workspace_waiting, and InnoDB locks every row it reads before the
// sort and LIMIT, so a concurrent caller skipped rows the first one had locked but not taken and
// came back with nothing while messages still waited (a caller handed fewer than its limit takes
// it that nothing more waits: core/routing/release.ts); and a scan's next-key lock could make
// another provider's caller skip one of its own. A blocking FOR UPDATE waits instead and then
// reads what the first caller committed: concurrent releases run one after the other, as on D1,
// each message released once and each caller given up to its limit.
import { chunks } from "../../fast-insert";
import type { DueMessage, OutboxStore } from "../../store/store";
import type { Runner } from "./sql";

const PENDING = `('queued', 'sending', 'deferred')`;

interface DueRow {
  id: string;
  workspace_id: string;
  size_bytes: number | string;
}

const due = (r: DueRow): DueMessage => ({ id: r.id, workspaceId: r.workspace_id, sizeBytes: Number(r.size_bytes) });

/** markEnqueued's ids per statement (D1's is 90, for its bound-parameter cap; here only the statement's length). */
const IDS_PER_UPDATE = 500;

export function mysqlOutbox(db: Runner): OutboxStore {
  return {
    due: (now, graceMs, limit) =>
      db.run(async (q) =>
        (
          await q.rows<DueRow>(
            `SELECT \`id\`, \`workspace_id\`, \`size_bytes\` FROM \`messages\`
             WHERE \`status\` IN ${PENDING} AND coalesce(\`enqueued_at\`, 0) < ? AND coalesce(\`not_before\`, 0) <= ?
             ORDER BY \`queued_at\` LIMIT ?`,
            [now - graceMs, now, limit],
          )
        ).map(due),
      ),

    lapsedClaims: (now, limit) =>
      db.run(async (q) =>
        (
          await q.rows<DueRow>(
            `SELECT m.\`id\`, m.\`workspace_id\`, m.\`size_bytes\` FROM \`messages\` m
             JOIN (SELECT \`message_id\`, max(\`lease_until\`) AS \`lapsed_at\` FROM \`message_recipients\`
                   WHERE \`status\` = 'sending' AND \`lease_until\` <= ? GROUP BY \`message_id\`) r ON r.\`message_id\` = m.\`id\`
             WHERE m.\`status\` IN ${PENDING} AND coalesce(m.\`enqueued_at\`, 0) < r.\`lapsed_at\` AND coalesce(m.\`not_before\`, 0) <= ?
             LIMIT ?`,
            [now, now, limit],
          )
        ).map(due),
      ),

    nextClaimLapse: (now) =>
      db.run(async (q) => {
        const [row] = await q.rows<{ at: number | string | null }>(
          `SELECT min(\`lease_until\`) AS \`at\` FROM \`message_recipients\` WHERE \`status\` = 'sending' AND \`lease_until\` > ?`,
          [now],
        );
        return row?.at === null || row?.at === undefined ? null : Number(row.at);
      }),

    releaseDeferredOn: (workspaceId, providerId, now, limit) =>
      db.tx(async (q) => {
        const rows = await q.rows<{ id: string; size_bytes: number | string }>(
          `SELECT \`id\`, \`size_bytes\` FROM \`messages\`
           WHERE \`workspace_id\` = ? AND \`waiting_on\` IN (?, '*', CONCAT('pin:', ?)) AND \`not_before\` > ?
             AND \`status\` IN ${PENDING}
           ORDER BY \`not_before\` LIMIT ? FOR UPDATE`,
          [workspaceId, providerId, providerId, now, limit],
        );
        if (rows.length === 0) return [];
        await q.exec(
          `UPDATE \`messages\` SET \`not_before\` = ?, \`enqueued_at\` = ?,
             \`waiting_on\` = CASE WHEN \`waiting_on\` LIKE 'pin:%' THEN \`waiting_on\` ELSE NULL END
           WHERE \`workspace_id\` = ? AND \`id\` IN (?)`,
          [now, now, workspaceId, rows.map((r) => r.id)],
        );
        return rows.map((r) => ({ id: r.id, sizeBytes: Number(r.size_bytes) }));
      }),

    markEnqueued: async (ids, at) => {
      if (ids.length === 0) return;
      await db.run(async (q) => {
        for (const chunk of chunks(ids, IDS_PER_UPDATE)) await q.exec(`UPDATE \`messages\` SET \`enqueued_at\` = ? WHERE \`id\` IN (?)`, [at, chunk]);
      });
    },
  };
}

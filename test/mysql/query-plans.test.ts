// Query plans on MySQL, as test/query-plans.test.ts checks them on SQLite: the hot-path
// statements are served by an index, never a full scan. The tables hold a few thousand rows
// over many workspaces and messages, with statistics, so the optimizer has a real choice.
import { beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../core/ids";
import { env } from "cloudflare:workers";
import { connectMysql, mysqlDb, type MysqlConnection } from "../../db/mysql/connection";
import { connect, createWorkspace, rows, write } from "./helpers";

interface PlanRow {
  table: string | null;
  type: string | null;
  key: string | null;
  rows: number | null;
  Extra: string | null;
}

async function explain(conn: MysqlConnection, sql: string, values: unknown[]): Promise<PlanRow[]> {
  return rows<PlanRow>(conn, `EXPLAIN ${sql}`, values);
}

let ws = "";
let messageId = "";

beforeAll(async () => {
  const conn = await connectMysql(env.HYPERDRIVE);
  const db = mysqlDb(conn);
  const workspaces = await Promise.all(Array.from({ length: 5 }, () => createWorkspace(db)));
  ws = workspaces[0]!;
  const now = Date.now();
  const messageRows: unknown[][] = [];
  const recipientRows: unknown[][] = [];
  const records: unknown[][] = [];
  for (const w of workspaces) {
    for (let r = 0; r < 200; r++) records.push([newId("rcp"), w, `Person${r}@Example.net`, r % 10 ? "active" : "bounced"]);
    for (let m = 0; m < 60; m++) {
      const id = newId("msg");
      if (w === ws && m === 0) messageId = id;
      messageRows.push([id, w, "api", `<${id}@x.example>`, "a@x.example", "[]", m % 3 ? "sent" : "queued", 1, now - m * 1000, now]);
      for (let r = 0; r < 10; r++) recipientRows.push([newId("mr"), id, w, `r${r}-${m}@example.net`, "to", r % 4 ? "sent" : "sending", now + r * 1000, now]);
    }
  }
  await write(conn, `INSERT INTO messages (id, workspace_id, source, message_id_header, from_email, to_emails, status, size_bytes, queued_at, updated_at) VALUES ?`, [messageRows]);
  await write(conn, `INSERT INTO message_recipients (id, message_id, workspace_id, email, kind, status, lease_until, updated_at) VALUES ?`, [recipientRows]);
  await write(conn, `INSERT INTO recipients (id, workspace_id, email, status) VALUES ?`, [records]);
  await rows(conn, `ANALYZE TABLE messages, message_recipients, recipients`);
  await conn.end();
}, 30_000);

const CLAIMABLE = `(status IN ('queued', 'deferred') OR (status = 'sending' AND coalesce(lease_until, updated_at + 120000) <= ?))`;

describe("hot-path statements use an index", () => {
  it("the claim (locking read and update) reads one message's recipients", async () => {
    const conn = await connect();
    const now = Date.now();
    for (const sql of [
      `SELECT id FROM message_recipients WHERE workspace_id = ? AND message_id = ? AND ${CLAIMABLE} FOR UPDATE`,
      `UPDATE message_recipients SET status = 'sending', lease_until = ? WHERE workspace_id = ? AND message_id = ? AND ${CLAIMABLE}`,
    ]) {
      const values = sql.startsWith("UPDATE") ? [now, ws, messageId, now] : [ws, messageId, now];
      const [plan] = await explain(conn, sql, values);
      expect(plan, sql).toBeDefined();
      expect(plan!.type, sql).not.toBe("ALL");
      expect(["message_recipients_workspace_message", "message_recipients_message_email"], sql).toContain(plan!.key);
      expect(Number(plan!.rows), sql).toBeLessThanOrEqual(20);
    }
  });

  it("lapsed claims, the outbox, a message's detail and the suppression lookup", async () => {
    const conn = await connect();
    const now = Date.now();
    const cases: [string, unknown[], string[]][] = [
      [`SELECT message_id FROM message_recipients WHERE status = 'sending' AND lease_until <= ?`, [now - 10_000], ["message_recipients_sending_lease"]],
      [
        `SELECT id FROM messages WHERE status IN ('queued', 'sending', 'deferred') AND coalesce(enqueued_at, 0) < ? AND coalesce(not_before, 0) <= ? ORDER BY queued_at LIMIT 100`,
        [now, now],
        ["messages_status_enqueued"],
      ],
      [`SELECT * FROM messages WHERE workspace_id = ? AND id = ?`, [ws, messageId], ["PRIMARY"]],
      [`SELECT * FROM messages WHERE workspace_id = ? ORDER BY queued_at DESC, id DESC LIMIT 50`, [ws], ["messages_workspace_queued"]],
      [`SELECT id, status FROM recipients WHERE workspace_id = ? AND email_lower = lower(?) AND status <> 'active' LIMIT 1`, [ws, "A@B.example"], ["recipients_workspace_email_lower"]],
    ];
    for (const [sql, values, keys] of cases) {
      const [plan] = await explain(conn, sql, values);
      expect(plan!.type, sql).not.toBe("ALL");
      expect(keys, sql).toContain(plan!.key);
    }
  });
});

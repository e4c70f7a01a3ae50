// Helpers of the MySQL tests: connections through the Hyperdrive binding, drizzle over them, and
// a workspace with a message to work on.
import { env } from "cloudflare:workers";
import type { ResultSetHeader, RowDataPacket } from "mysql2";
import { onTestFinished } from "vitest";
import { newId } from "../../core/ids";
import { connectMysql, mysqlDb, type MysqlConnection, type MysqlDb } from "../../db/mysql/connection";
import { messageRecipients, messages, workspaces } from "../../db/mysql/schema";

/** A connection through Hyperdrive, closed when the test ends. */
export async function connect(): Promise<MysqlConnection> {
  const conn = await connectMysql(env.HYPERDRIVE);
  onTestFinished(() => conn.end());
  return conn;
}

export async function connectDb(): Promise<{ conn: MysqlConnection; db: MysqlDb }> {
  const conn = await connect();
  return { conn, db: mysqlDb(conn) };
}

export async function createWorkspace(db: MysqlDb): Promise<string> {
  const id = newId("ws");
  await db.insert(workspaces).values({ id, slug: `t-${id.slice(3, 15).toLowerCase().replace(/[^a-z0-9]/g, "x")}`, displayName: "MySQL test" });
  return id;
}

/** A queued message to `emails`, written in one transaction; returns its id and recipient ids. */
export async function queuedMessage(db: MysqlDb, workspaceId: string, emails: string[], at = Date.now()) {
  const id = newId("msg");
  const recipientIds = emails.map(() => newId("mr"));
  await db.transaction(async (tx) => {
    await tx.insert(messages).values({
      id,
      workspaceId,
      source: "api",
      messageIdHeader: `<${id}@test.example>`,
      fromEmail: "noreply@clinic.example",
      toEmails: emails,
      sizeBytes: 100,
      queuedAt: at,
      updatedAt: at,
    });
    await tx.insert(messageRecipients).values(emails.map((email, i) => ({ id: recipientIds[i]!, messageId: id, workspaceId, email, kind: "to" as const, updatedAt: at })));
  });
  return { id, recipientIds };
}

/** The rows of a query, typed by the caller. */
export async function rows<T>(conn: MysqlConnection, sql: string, values: unknown[] = []): Promise<T[]> {
  const [result] = await conn.query<(RowDataPacket & T)[]>(sql, values);
  return result;
}

/** How many rows a write changed. */
export async function write(conn: MysqlConnection, sql: string, values: unknown[] = []): Promise<number> {
  const [result] = await conn.query<ResultSetHeader>(sql, values);
  return result.affectedRows;
}

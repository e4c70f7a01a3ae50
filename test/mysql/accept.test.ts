// The accept path's durable write on MySQL (the store's accept.insertMessage,
// db/mysql/store/accept-write.ts): the message, its recipients, header names and the idempotency
// record in ONE transaction (where D1 uses one batch). Either all of it is there or none of it is,
// and the database itself refuses a second message for the same key. What both backends share is
// in the conformance suite (test/store/conformance-accept.ts); here, what is MySQL's own.
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { newId } from "../../core/ids";
import { idempotencyKeys, messageHeaders, messageRecipients, messages, recipients } from "../../db/mysql/schema";
import { MESSAGE_ID_MAX } from "../../db/mysql/columns";
import { mysqlStore } from "../../db/mysql/store";
import { newMessage } from "../store/seed-accept";
import { connectDb, createWorkspace } from "./helpers";

/** A message the accept path would write, with what MySQL must keep intact: a body over TEXT's 64 KiB, non-ASCII tags, JSON metadata. */
function acceptedMessage(workspaceId: string, emails: string[], opts: Parameters<typeof newMessage>[2] = {}) {
  const m = newMessage(workspaceId, emails, opts);
  // More than TEXT's 64 KiB: INLINE_BODY_MAX_BYTES is 64 KiB of plaintext.
  Object.assign(m.message, { bodyEnc: "x".repeat(70_000), sizeBytes: 70_000, tags: ["reminder", "ünïcode"], containsPhi: true });
  return { id: m.message.id, m, at: m.message.queuedAt! };
}

describe("accept: one transaction", () => {
  it("the store's write keeps the message with its recipients, headers and idempotency record, read back as written", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    const { id, m, at } = acceptedMessage(ws, ["a@example.net", "b@example.net"], { idempotencyKey: "k-1", headerNames: ["X-Clinic"] });
    expect(await mysqlStore(conn).accept.insertMessage(ws, m)).toMatchObject({ status: "stored", messageStatus: "queued" });

    const [row] = await db.select().from(messages).where(and(eq(messages.workspaceId, ws), eq(messages.id, id)));
    expect(row).toMatchObject({
      status: "queued",
      toEmails: ["a@example.net", "b@example.net"],
      tags: ["reminder", "ünïcode"],
      metadata: { appointment: "42" },
      containsPhi: true,
      forceSend: false,
      queuedAt: at,
      attemptCount: 0,
      notBefore: null,
    });
    expect(row!.bodyEnc).toHaveLength(70_000);
    const rcpts = await db.select().from(messageRecipients).where(and(eq(messageRecipients.workspaceId, ws), eq(messageRecipients.messageId, id)));
    expect(rcpts.map((r) => [r.email, r.status]).sort()).toEqual([
      ["a@example.net", "queued"],
      ["b@example.net", "queued"],
    ]);
    const [headers] = await db.select({ n: sql<number>`count(*)` }).from(messageHeaders).where(eq(messageHeaders.messageId, id));
    expect(Number(headers!.n)).toBe(1);
    const [key] = await db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.workspaceId, ws), eq(idempotencyKeys.key, "k-1")));
    expect(key).toMatchObject({ messageId: id, responseStatus: 202 });
  });

  it("keeps nothing of a message whose last statement fails (a reused idempotency key): a duplicate, not an error", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    await db.insert(idempotencyKeys).values({ workspaceId: ws, key: "same", requestHash: "h", responseStatus: 202, responseBody: "{}" });
    const { id, m } = acceptedMessage(ws, ["c@example.net"], { idempotencyKey: "same", requestHash: "h2" });
    expect(await mysqlStore(conn).accept.insertMessage(ws, m)).toMatchObject({ status: "duplicate", first: { key: "same", requestHash: "h" } });
    expect(await db.select().from(messages).where(eq(messages.id, id))).toEqual([]);
    expect(await db.select().from(messageRecipients).where(eq(messageRecipients.messageId, id))).toEqual([]);
    expect(await db.select().from(recipients).where(and(eq(recipients.workspaceId, ws), eq(recipients.email, "c@example.net")))).toEqual([]);
  });

  it("refuses a Message-ID longer than its column (680) before writing, as a validation error", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    const { id, m } = acceptedMessage(ws, ["e@example.net"], { messageIdHeader: `<${"x".repeat(MESSAGE_ID_MAX - 13)}@example.net>` });
    await expect(mysqlStore(conn).accept.insertMessage(ws, m)).rejects.toMatchObject({ code: "validation_error" });
    expect(await db.select().from(messages).where(eq(messages.id, id))).toEqual([]);
  });

  it("enforces the unique keys: one recipient row per address, exact (case-sensitive) keys, one verified domain owner", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    const { m } = acceptedMessage(ws, ["d@example.net"]);
    await db.insert(messages).values(m.message);
    await db.insert(messageRecipients).values(m.recipients);
    await expect(db.insert(messageRecipients).values({ ...m.recipients[0]!, id: newId("mr") })).rejects.toMatchObject({ cause: { code: "ER_DUP_ENTRY" } });
    // The binary collation: keys differing only in case are two keys, as in SQLite.
    await db.insert(idempotencyKeys).values([
      { workspaceId: ws, key: "Key", requestHash: "h", responseStatus: 202, responseBody: "{}" },
      { workspaceId: ws, key: "key", requestHash: "h", responseStatus: 202, responseBody: "{}" },
    ]);
    // sender_domains: any number of unverified claims, one verified (the generated verified_domain).
    const other = await createWorkspace(db);
    const domain = `${newId("dom").slice(4, 14).toLowerCase()}.example`;
    await conn.query(`INSERT INTO sender_domains (id, workspace_id, domain, verification_token) VALUES (?, ?, ?, 't'), (?, ?, ?, 't')`, [newId("dom"), ws, domain, newId("dom"), other, domain]);
    await conn.query(`UPDATE sender_domains SET verified_at = 1 WHERE workspace_id = ? AND domain = ?`, [ws, domain]);
    await expect(conn.query(`UPDATE sender_domains SET verified_at = 2 WHERE workspace_id = ? AND domain = ?`, [other, domain])).rejects.toMatchObject({ code: "ER_DUP_ENTRY" });
  });

  it("finds a suppressed address in any case through recipients.email_lower", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    await db.insert(recipients).values({ id: newId("rcp"), workspaceId: ws, email: "Pat.Doe@Example.NET", status: "bounced" });
    const found = await db
      .select({ email: recipients.email, status: recipients.status })
      .from(recipients)
      .where(and(eq(recipients.workspaceId, ws), eq(recipients.emailLower, "pat.doe@example.net")));
    expect(found).toEqual([{ email: "Pat.Doe@Example.NET", status: "bounced" }]);
  });
});

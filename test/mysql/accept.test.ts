// The accept path's durable write on MySQL: the message, its recipients, header names and the
// idempotency record in ONE transaction (where D1 uses one batch). Either all of it is there or
// none of it is, and the database itself refuses a second message for the same key.
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { newId } from "../../core/ids";
import { idempotencyKeys, messageHeaders, messageRecipients, messages, recipients } from "../../db/mysql/schema";
import { connectDb, createWorkspace } from "./helpers";

function acceptedMessage(workspaceId: string, emails: string[]) {
  const id = newId("msg");
  const at = Date.now();
  return {
    id,
    message: {
      id,
      workspaceId,
      source: "api" as const,
      messageIdHeader: `<${id}@clinic.example>`,
      fromEmail: "noreply@clinic.example",
      toEmails: emails,
      tags: ["reminder", "ünïcode"],
      metadata: { appointment: "42" },
      bodyEnc: "x".repeat(70_000), // more than TEXT's 64 KiB: INLINE_BODY_MAX_BYTES is 64 KiB of plaintext
      sizeBytes: 70_000,
      containsPhi: true,
      queuedAt: at,
      updatedAt: at,
    },
    recipients: emails.map((email) => ({ id: newId("mr"), messageId: id, workspaceId, email, kind: "to" as const, updatedAt: at })),
    at,
  };
}

describe("accept: one transaction", () => {
  it("writes the message with its recipients, headers and idempotency record, and reads them back as written", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    const m = acceptedMessage(ws, ["a@example.net", "b@example.net"]);
    await db.transaction(async (tx) => {
      await tx.insert(messages).values(m.message);
      await tx.insert(recipients).ignore().values(m.recipients.map((r) => ({ id: newId("rcp"), workspaceId: ws, email: r.email })));
      await tx.insert(messageRecipients).values(m.recipients);
      await tx.insert(messageHeaders).values([{ messageId: m.id, workspaceId: ws, name: "X-Clinic" }]);
      await tx.insert(idempotencyKeys).values({ workspaceId: ws, key: "k-1", requestHash: "h", messageId: m.id, responseStatus: 202, responseBody: '{"id":"x"}', createdAt: m.at });
    });

    const [row] = await db.select().from(messages).where(and(eq(messages.workspaceId, ws), eq(messages.id, m.id)));
    expect(row).toMatchObject({
      status: "queued",
      toEmails: ["a@example.net", "b@example.net"],
      tags: ["reminder", "ünïcode"],
      metadata: { appointment: "42" },
      containsPhi: true,
      forceSend: false,
      queuedAt: m.at,
      attemptCount: 0,
      notBefore: null,
    });
    expect(row!.bodyEnc).toHaveLength(70_000);
    const rcpts = await db.select().from(messageRecipients).where(and(eq(messageRecipients.workspaceId, ws), eq(messageRecipients.messageId, m.id)));
    expect(rcpts.map((r) => [r.email, r.status]).sort()).toEqual([
      ["a@example.net", "queued"],
      ["b@example.net", "queued"],
    ]);
    const [headers] = await db.select({ n: sql<number>`count(*)` }).from(messageHeaders).where(eq(messageHeaders.messageId, m.id));
    expect(Number(headers!.n)).toBe(1);
  });

  it("keeps nothing of a message whose last statement fails (a reused idempotency key)", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    await db.insert(idempotencyKeys).values({ workspaceId: ws, key: "same", requestHash: "h", responseStatus: 202, responseBody: "{}" });
    const m = acceptedMessage(ws, ["c@example.net"]);
    const failed = db.transaction(async (tx) => {
      await tx.insert(messages).values(m.message);
      await tx.insert(messageRecipients).values(m.recipients);
      // Last, as in the D1 batch: the duplicate key aborts the whole transaction.
      await tx.insert(idempotencyKeys).values({ workspaceId: ws, key: "same", requestHash: "h2", messageId: m.id, responseStatus: 202, responseBody: "{}" });
    });
    await expect(failed).rejects.toMatchObject({ cause: { code: "ER_DUP_ENTRY" } });
    expect(await db.select().from(messages).where(eq(messages.id, m.id))).toEqual([]);
    expect(await db.select().from(messageRecipients).where(eq(messageRecipients.messageId, m.id))).toEqual([]);
  });

  it("enforces the unique keys: one recipient row per address, exact (case-sensitive) keys, one verified domain owner", async () => {
    const { conn, db } = await connectDb();
    const ws = await createWorkspace(db);
    const m = acceptedMessage(ws, ["d@example.net"]);
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

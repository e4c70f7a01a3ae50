// Audit rows are append-only on MySQL as on D1: BEFORE UPDATE / BEFORE DELETE triggers refuse
// any change (migrations-mysql/0001_audit_append_only.sql), through drizzle or plain SQL.
import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { newId } from "../../core/ids";
import { auditLogs } from "../../db/mysql/schema";
import { connectDb, rows, write } from "./helpers";

it("an audit row can be written and read, never changed or removed", async () => {
  const { conn, db } = await connectDb();
  const id = newId("aud");
  await db.insert(auditLogs).values({ id, workspaceId: null, actor: "admin", action: "workspace.create", resource: "/v1/workspaces", outcome: "success", detail: { status: 201 } });

  const refused = { cause: { sqlState: "45000", message: "audit_logs is append-only" } };
  await expect(db.update(auditLogs).set({ outcome: "denied" }).where(eq(auditLogs.id, id))).rejects.toMatchObject(refused);
  await expect(db.delete(auditLogs).where(eq(auditLogs.id, id))).rejects.toMatchObject(refused);
  await expect(write(conn, `DELETE FROM audit_logs`)).rejects.toMatchObject({ sqlState: "45000" });
  await expect(write(conn, `UPDATE audit_logs SET detail = JSON_OBJECT() WHERE id = ?`, [id])).rejects.toMatchObject({ sqlState: "45000" });

  const [row] = await db.select().from(auditLogs).where(eq(auditLogs.id, id));
  expect(row).toMatchObject({ outcome: "success", detail: { status: 201 } });
  expect(row!.createdAt).toBeGreaterThan(Date.now() - 60_000); // the server's default, in epoch ms
  const triggers = await rows<{ name: string }>(conn, `SELECT trigger_name AS name FROM information_schema.triggers WHERE event_object_table = 'audit_logs' AND trigger_schema = DATABASE() ORDER BY 1`);
  expect(triggers.map((t) => t.name)).toEqual(["audit_logs_no_delete", "audit_logs_no_update"]);
});

// The audit trail: append-only rows (the database refuses UPDATE and DELETE on audit_logs, see
// migrations/0001_security.sql). No function here changes or removes a row.
import { and, desc, eq, gte, lt, lte, or } from "drizzle-orm";
import type { Db } from "./client";
import { auditLogs } from "./schema";

export type AuditRow = typeof auditLogs.$inferSelect;
export type NewAudit = Omit<typeof auditLogs.$inferInsert, "id" | "createdAt"> & { createdAt: number };

export async function insertAudit(db: Db, row: NewAudit, id: string): Promise<void> {
  await db.insert(auditLogs).values({ ...row, id });
}

export interface AuditQuery {
  action?: string;
  since?: number;
  until?: number;
  before?: { createdAt: number; id: string };
  limit: number;
}

/** Newest first; `before` is the (created_at, id) of the last row of the previous page. */
export function listAudit(db: Db, workspaceId: string, q: AuditQuery): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLogs)
    .where(
      and(
        eq(auditLogs.workspaceId, workspaceId),
        q.action ? eq(auditLogs.action, q.action) : undefined,
        q.since !== undefined ? gte(auditLogs.createdAt, q.since) : undefined,
        q.until !== undefined ? lte(auditLogs.createdAt, q.until) : undefined,
        q.before
          ? or(lt(auditLogs.createdAt, q.before.createdAt), and(eq(auditLogs.createdAt, q.before.createdAt), lt(auditLogs.id, q.before.id)))
          : undefined,
      ),
    )
    .orderBy(desc(auditLogs.createdAt), desc(auditLogs.id))
    .limit(q.limit)
    .all();
}

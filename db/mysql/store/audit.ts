// The audit group (db/store/audit.ts) on MySQL: exactly the D1 adapter's meaning (db/audit.ts).
// Append and read only: the triggers of migrations-mysql/0001_audit_append_only.sql refuse any
// UPDATE or DELETE of audit_logs, as D1's do.
import { and, desc, eq, gte, lt, lte, or } from "drizzle-orm";
import { auditLogs } from "../schema";
import type { AuditStore } from "../../store/audit";
import type { Runner } from "./sql";

export function mysqlAudit(db: Runner): AuditStore {
  return {
    append: (row) =>
      db.run(async (q) => {
        await q.orm.insert(auditLogs).values(row);
      }),
    // Ids compare by code point under utf8mb4_bin (db/mysql/columns.ts), as SQLite's text does: the keyset pages alike.
    list: (ws, q) =>
      db.lagging.run((s) =>
        s.orm
          .select()
          .from(auditLogs)
          .where(
            and(
              eq(auditLogs.workspaceId, ws),
              q.action ? eq(auditLogs.action, q.action) : undefined,
              q.since !== undefined ? gte(auditLogs.createdAt, q.since) : undefined,
              q.until !== undefined ? lte(auditLogs.createdAt, q.until) : undefined,
              q.before ? or(lt(auditLogs.createdAt, q.before.createdAt), and(eq(auditLogs.createdAt, q.before.createdAt), lt(auditLogs.id, q.before.id))) : undefined,
            ),
          )
          .orderBy(desc(auditLogs.createdAt), desc(auditLogs.id))
          .limit(q.limit),
      ),
  };
}

// The store's audit group (db/store/store.ts): the append-only audit trail. Rows are appended and
// read per workspace; nothing here changes or removes one (on purpose: the database refuses it
// too, with triggers on D1 and on MySQL, migrations/0001_security.sql and
// migrations-mysql/0001_audit_append_only.sql).
// Operations are in core terms: no query builder, statement or driver type crosses them.
import type { AuditQuery } from "../audit";
import type { auditLogs } from "../schema";

export type AuditRow = typeof auditLogs.$inferSelect;

/** A row to append. `workspaceId` is null for a platform action that concerns no workspace. */
export type NewAuditRow = Omit<typeof auditLogs.$inferInsert, "createdAt"> & { id: string; createdAt: number };

/** A page of one workspace's trail; `before` is the (created_at, id) of the previous page's last row. */
export type { AuditQuery };

export interface AuditStore {
  /** Appends one row (the row names its workspace, or none: appending is not scoped). */
  append(row: NewAuditRow): Promise<void>;
  /** The workspace's rows, newest first (created_at, then id, descending); `since`/`until` inclusive. */
  list(workspaceId: string, q: AuditQuery): Promise<AuditRow[]>;
}

// Body retention: find messages whose content is past the workspace's retention and drop the
// content (D1 column, R2 objects) while the metadata, recipients and attempts stay.
import { and, eq, inArray, isNull, lt } from "drizzle-orm";
import type { NewAudit } from "./audit";
import type { Db } from "./client";
import { chunks } from "./fast-insert";
import { attachments, auditLogs, messages, workspaces, workspaceSecurity } from "./schema";

export const DEFAULT_RETENTION_DAYS = 30;

// Content of a message still waiting for delivery is never purged, whatever its age.
export const FINAL_STATUSES = ["sent", "partially_failed", "failed", "cancelled"] as const;

/** Every active workspace with its retention in days (default when unset). */
export async function workspaceRetention(db: Db): Promise<{ workspaceId: string; days: number }[]> {
  const rows = await db
    .select({ workspaceId: workspaces.id, days: workspaceSecurity.retentionDays })
    .from(workspaces)
    .leftJoin(workspaceSecurity, eq(workspaceSecurity.workspaceId, workspaces.id))
    .all();
  return rows.map((r) => ({ workspaceId: r.workspaceId, days: r.days ?? DEFAULT_RETENTION_DAYS }));
}

export function findExpiredBodies(db: Db, workspaceId: string, cutoff: number, limit: number) {
  return db
    .select({ id: messages.id, bodyR2Key: messages.bodyR2Key })
    .from(messages)
    .where(
      and(
        eq(messages.workspaceId, workspaceId),
        lt(messages.queuedAt, cutoff),
        isNull(messages.bodyPurgedAt),
        // Purged or not, a rendered copy may sit in R2, so every unpurged final message counts.
        inArray(messages.status, [...FINAL_STATUSES]),
      ),
    )
    .limit(limit)
    .all();
}

/** The audit row a purge leaves, written with it (its workspace and time are the purge's). */
export type PurgeAudit = Omit<NewAudit, "workspaceId" | "createdAt"> & { id: string };

/**
 * Drops the content columns and marks the rows purged; attachment names (encrypted) go too.
 * With `audit`, its row is appended in the same batch: the purge and its record, or neither.
 */
export async function markBodiesPurged(db: Db, workspaceId: string, ids: string[], at: number, audit?: PurgeAudit): Promise<void> {
  if (ids.length === 0) return;
  const record = audit ? [db.insert(auditLogs).values({ ...audit, workspaceId, createdAt: at })] : [];
  // D1 caps bound parameters per statement at 100: a batch of 200 ids is several statements.
  const parts = chunks(ids, 90);
  const [first, ...rest] = [
    ...parts.map((part) =>
      db
        .update(messages)
        .set({ bodyEnc: null, bodyR2Key: null, bodyPurgedAt: at, updatedAt: at })
        .where(and(eq(messages.workspaceId, workspaceId), inArray(messages.id, part))),
    ),
    ...parts.map((part) =>
      db
        .update(attachments)
        .set({ filenameEnc: "" })
        .where(and(eq(attachments.workspaceId, workspaceId), inArray(attachments.messageId, part))),
    ),
    ...record,
  ];
  await db.batch([first!, ...rest]);
}

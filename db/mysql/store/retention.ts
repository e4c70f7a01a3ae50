// The retention group (db/store/retention.ts) on MySQL: exactly the D1 adapter's meaning
// (db/retention.ts and db/llm.ts purgeLlmCache are the specification), with drizzle's mysql-core
// builders over the MySQL schema. The purge is one transaction where D1 uses a batch.
import { and, eq, inArray, isNull, lt } from "drizzle-orm";
import type { ResultSetHeader } from "mysql2";
import { attachments, auditLogs, llmCache, messages, workspaces, workspaceSecurity } from "../schema";
import { DEFAULT_RETENTION_DAYS, FINAL_STATUSES } from "../../retention";
import type { RetentionStore } from "../../store/retention";
import type { Runner } from "./sql";

export function mysqlRetention(db: Runner): RetentionStore {
  return {
    workspaces: () =>
      db.run(async (q) => {
        const rows = await q.orm
          .select({ workspaceId: workspaces.id, days: workspaceSecurity.retentionDays })
          .from(workspaces)
          .leftJoin(workspaceSecurity, eq(workspaceSecurity.workspaceId, workspaces.id));
        return rows.map((r) => ({ workspaceId: r.workspaceId, days: r.days ?? DEFAULT_RETENTION_DAYS }));
      }),

    expiredBodies: (workspaceId, cutoff, limit) =>
      db.run((q) =>
        q.orm
          .select({ id: messages.id, bodyR2Key: messages.bodyR2Key })
          .from(messages)
          .where(and(eq(messages.workspaceId, workspaceId), lt(messages.queuedAt, cutoff), isNull(messages.bodyPurgedAt), inArray(messages.status, [...FINAL_STATUSES])))
          .limit(limit),
      ),

    markPurged: async (workspaceId, ids, at, audit) => {
      if (ids.length === 0) return;
      await db.tx(async (q) => {
        await q.orm
          .update(messages)
          .set({ bodyEnc: null, bodyR2Key: null, bodyPurgedAt: at, updatedAt: at })
          .where(and(eq(messages.workspaceId, workspaceId), inArray(messages.id, ids)));
        await q.orm
          .update(attachments)
          .set({ filenameEnc: "" })
          .where(and(eq(attachments.workspaceId, workspaceId), inArray(attachments.messageId, ids)));
        if (audit) await q.orm.insert(auditLogs).values({ ...audit, workspaceId, createdAt: at });
      });
    },

    purgeLlmCache: (workspaceId, before) =>
      db.run(async (q) => {
        const [result] = (await q.orm.delete(llmCache).where(and(eq(llmCache.workspaceId, workspaceId), lt(llmCache.createdAt, before)))) as unknown as [ResultSetHeader];
        return result.affectedRows;
      }),
  };
}

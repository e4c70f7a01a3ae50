// The store's retention group (db/store/store.ts): what the body-retention job reads and writes
// (workers/retention.ts). Listing the workspaces is cross-tenant (the job serves every one); every
// other operation takes its workspace first, and each workspace is handled on its own retention.
// Operations are in core terms: no query builder, statement or driver type crosses them.
// (Provider webhook replay tokens are pruned by the inbound path as it records one, not here.)
import type { PurgeAudit } from "../retention";

export type { PurgeAudit };
export { DEFAULT_RETENTION_DAYS } from "../retention";

export interface WorkspaceRetention {
  workspaceId: string;
  /** Its body retention in days (DEFAULT_RETENTION_DAYS when it set none). */
  days: number;
}

/** A message whose content is due for deletion, with the R2 object that holds it (if any). */
export interface ExpiredBody {
  id: string;
  bodyR2Key: string | null;
}

export interface RetentionStore {
  /** Cross-tenant: every workspace, with its own retention. */
  workspaces(): Promise<WorkspaceRetention[]>;
  /**
   * The workspace's messages queued before `cutoff`, in a final status (a message still waiting
   * for delivery keeps its content), whose content is not purged yet; at most `limit`.
   */
  expiredBodies(workspaceId: string, cutoff: number, limit: number): Promise<ExpiredBody[]>;
  /**
   * Drops the content of these messages of the workspace (body column, R2 key, attachment names)
   * and marks them purged at `at`; with `audit`, appends its row (this workspace's, at `at`) with
   * them: all or nothing. Ids of another workspace are left untouched.
   */
  markPurged(workspaceId: string, ids: string[], at: number, audit?: PurgeAudit): Promise<void>;
  /** Deletes the workspace's cached LLM answers created before `before` (they are content too); how many. */
  purgeLlmCache(workspaceId: string, before: number): Promise<number>;
}

// The retention group (db/store/retention.ts) on D1: db/retention.ts, and db/llm.ts's cache purge.
import type { Db } from "../../client";
import { purgeLlmCache } from "../../llm";
import { findExpiredBodies, markBodiesPurged, workspaceRetention } from "../../retention";
import type { RetentionStore } from "../retention";

export function d1Retention(db: Db): RetentionStore {
  return {
    workspaces: () => workspaceRetention(db),
    expiredBodies: (ws, cutoff, limit) => findExpiredBodies(db, ws, cutoff, limit),
    markPurged: (ws, ids, at, audit) => markBodiesPurged(db, ws, ids, at, audit),
    purgeLlmCache: (ws, before) => purgeLlmCache(db, ws, before),
  };
}

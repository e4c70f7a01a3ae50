// Body retention: per workspace (default 30 days), message content past its time is deleted —
// the encrypted body (D1 column or R2 object), the rendered copy in R2, attachment names —
// while the message row, recipients, attempts and events stay. A periodic job (workers/
// periodic-jobs.ts); each run handles a bounded batch per workspace and leaves one audit row per
// workspace it touched, written with the purge (store.retention.markPurged: both or neither).
// Every workspace is handled on its own retention and its own statements; one that fails is
// logged and the others still run.
import { newId } from "../core/ids";
import { safeErrorMessage } from "../db/errors";
import { openRelayStore } from "./store";
import { log } from "./log";

const BATCH = 200;
const DAY_MS = 86_400_000;

export interface RetentionReport {
  workspaces: number;
  purged: number;
  /** Some workspace had a full batch: more may be due than one run purged. */
  more: boolean;
}

export async function runRetention(env: Env, now = Date.now()): Promise<RetentionReport> {
  const store = openRelayStore(env);
  try {
    const retention = store.retention;
    let purged = 0;
    let touched = 0;
    let more = false;
    for (const { workspaceId, days } of await retention.workspaces()) {
      try {
        const cutoff = now - days * DAY_MS;
        // Cached LLM answers are message content too (masked and encrypted, but content): same clock.
        await retention.purgeLlmCache(workspaceId, cutoff);
        const expired = await retention.expiredBodies(workspaceId, cutoff, BATCH);
        if (expired.length === 0) continue;
        if (expired.length === BATCH) more = true;
        // R2 first: if this fails the rows stay unpurged and the next run tries again.
        const keys = expired.flatMap((m) => [...(m.bodyR2Key ? [m.bodyR2Key] : []), `rendered/${workspaceId}/${m.id}`]);
        for (let i = 0; i < keys.length; i += 1000) await env.BODIES.delete(keys.slice(i, i + 1000));
        await retention.markPurged(
          workspaceId,
          expired.map((m) => m.id),
          now,
          {
            id: newId("aud"),
            actor: "system:retention",
            credentialId: null,
            action: "retention.bodies_purged",
            resource: `workspace:${workspaceId}`,
            ip: null,
            outcome: "success",
            requestId: null,
            detail: { messages: expired.length, retention_days: days, cutoff: new Date(cutoff).toISOString() },
          },
        );
        purged += expired.length;
        touched++;
      } catch (e) {
        log.error("retention_failed", { workspace_id: workspaceId, error: safeErrorMessage(e) });
      }
    }
    if (purged > 0) log.info("retention_ran", { workspaces: touched, purged });
    return { workspaces: touched, purged, more };
  } finally {
    await store.close();
  }
}

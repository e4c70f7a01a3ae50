// The idempotency records of one Message-ID's generations (core/resubmission.ts): `message-id:<id>`
// and `message-id:<id>#<n>`, read in one range scan of the (workspace_id, key) primary key.
import { and, eq, gt, lt, or } from "drizzle-orm";
import type { Db } from "./client";
import { idempotencyKeys } from "./schema";
import type { Generation, GenerationAnswer } from "../core/resubmission";

export async function findGenerations(db: Db, workspaceId: string, base: string): Promise<Generation[]> {
  // "#" + 1 is "$": every `base#…` key sorts strictly between `base#` and `base$`.
  const rows = await db
    .select({ key: idempotencyKeys.key, requestHash: idempotencyKeys.requestHash, responseBody: idempotencyKeys.responseBody })
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.workspaceId, workspaceId),
        or(eq(idempotencyKeys.key, base), and(gt(idempotencyKeys.key, `${base}#`), lt(idempotencyKeys.key, `${base}$`))),
      ),
    );
  return rows.map((r) => ({ key: r.key, contentHash: r.requestHash, answer: JSON.parse(r.responseBody) as GenerationAnswer }));
}

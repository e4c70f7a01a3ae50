import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Db } from "./client";
import { recipients } from "./schema";

/** The accept path's suppression lookup: which of these addresses may not be mailed, and why. */
export const findSuppressed = (db: Db, workspaceId: string, emails: string[]): Promise<Pick<typeof recipients.$inferSelect, "email" | "status">[]> =>
  db
    .select({ email: recipients.email, status: recipients.status })
    .from(recipients)
    .where(
      and(
        eq(recipients.workspaceId, workspaceId),
        ne(recipients.status, "active"),
        inArray(sql`lower(${recipients.email})`, emails.length ? emails.map((e) => e.toLowerCase()) : [""]),
      ),
    )
    .all();

// Per-workspace security settings (JWT issuer, retention, DLP) and JWT-authenticated users.
import { and, eq } from "drizzle-orm";
import type { Db } from "./client";
import { users, workspaces, workspaceSecurity } from "./schema";

export type WorkspaceSecurityRow = typeof workspaceSecurity.$inferSelect;

export const getWorkspaceSecurity = (db: Db, workspaceId: string): Promise<WorkspaceSecurityRow | undefined> =>
  db.select().from(workspaceSecurity).where(eq(workspaceSecurity.workspaceId, workspaceId)).get();

export async function upsertWorkspaceSecurity(
  db: Db,
  workspaceId: string,
  patch: Partial<Pick<WorkspaceSecurityRow, "jwt" | "jwtIssuer" | "retentionDays" | "dlp">>,
  at: number,
): Promise<WorkspaceSecurityRow> {
  const [row] = await db
    .insert(workspaceSecurity)
    .values({ workspaceId, ...patch, updatedAt: at })
    .onConflictDoUpdate({ target: workspaceSecurity.workspaceId, set: { ...patch, updatedAt: at } })
    .returning();
  return row!;
}

/** Workspaces that trust tokens from `issuer` (one per audience), with their status. */
export const findJwtIssuerWorkspaces = (db: Db, issuer: string) =>
  db
    .select({ workspaceId: workspaceSecurity.workspaceId, jwt: workspaceSecurity.jwt, workspaceStatus: workspaces.status })
    .from(workspaceSecurity)
    .innerJoin(workspaces, eq(workspaces.id, workspaceSecurity.workspaceId))
    .where(eq(workspaceSecurity.jwtIssuer, issuer))
    .limit(500)
    .all();

/**
 * The workspace user for an identity-provider subject. Matched on the subject only (never on
 * the email claim, which would let one IdP account take over another user's record); created on
 * first sight when `create` is set.
 */
export async function findOrCreateJwtUser(
  db: Db,
  workspaceId: string,
  subject: string,
  email: string | null,
  create: boolean,
  newId: () => string,
): Promise<{ id: string } | null> {
  const find = () =>
    db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.workspaceId, workspaceId), eq(users.externalId, subject)))
      .get();
  const found = await find();
  if (found || !create) return found ?? null;
  const id = newId();
  // The email column is unique per workspace; a subject whose email is taken gets a placeholder.
  const inserted = await db
    .insert(users)
    .values({ id, workspaceId, email: email ?? `${id}@jwt.invalid`, externalId: subject })
    .onConflictDoNothing()
    .returning({ id: users.id });
  if (inserted[0]) return inserted[0];
  const raced = await find();
  if (raced) return raced;
  const [fallback] = await db
    .insert(users)
    .values({ id, workspaceId, email: `${id}@jwt.invalid`, externalId: subject })
    .returning({ id: users.id });
  return fallback!;
}

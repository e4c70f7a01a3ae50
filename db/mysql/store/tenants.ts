// The tenants group (db/store/tenants.ts) on MySQL: exactly the D1 adapter's meaning
// (db/store/d1/tenants.ts, whose db/*.ts functions' comments say what each one means), written
// with drizzle's mysql-core builders over db/mysql/schema. MySQL has no RETURNING, so a write
// that hands back its row reads it again; where D1's single statement is atomic (an UPDATE …
// RETURNING), the write and its read share a transaction, so the row read is the one written.
import { and, asc, eq, isNull } from "drizzle-orm";
import { apiKeys, users, workspaces, workspaceSecurity } from "../schema";
import type { ApiKeyRow, TenantStore, WorkspaceRow, WorkspaceSecurityRow } from "../../store/tenants";
import { isDuplicateEntry, type Runner, type Sql } from "./sql";

const workspaceById = async (q: Sql, id: string): Promise<WorkspaceRow | undefined> => (await q.orm.select().from(workspaces).where(eq(workspaces.id, id)).limit(1))[0];

const securityOf = async (q: Sql, workspaceId: string): Promise<WorkspaceSecurityRow | undefined> =>
  (await q.orm.select().from(workspaceSecurity).where(eq(workspaceSecurity.workspaceId, workspaceId)).limit(1))[0];

export function mysqlTenant(db: Runner): TenantStore {
  return {
    platformCreateWorkspace: (row) =>
      db.run(async (q) => {
        try {
          await q.orm.insert(workspaces).values(row);
        } catch (e) {
          if (isDuplicateEntry(e)) return { status: "duplicate" as const };
          throw e;
        }
        // The defaults (configuration, status, times) are the server's: read them back.
        return { status: "created" as const, workspace: (await workspaceById(q, row.id))! };
      }),
    // The id breaks ties, so the order is the same on every read (and on both backends).
    platformListWorkspaces: () => db.run((q) => q.orm.select().from(workspaces).orderBy(asc(workspaces.createdAt), asc(workspaces.id))),
    workspace: (ws) => db.run((q) => workspaceById(q, ws)),
    updateConfiguration: (ws, configuration, at) =>
      db.tx(async (q) => {
        const [res] = await q.orm.update(workspaces).set({ configuration, updatedAt: at }).where(eq(workspaces.id, ws));
        // FOUND_ROWS: matched rows, so an unchanged configuration still counts as found.
        return res.affectedRows > 0 ? workspaceById(q, ws) : undefined;
      }),

    crossTenantApiKeyByHash: (hash) =>
      db.run(async (q) => {
        const [found] = await q.orm
          .select({ key: apiKeys, workspaceStatus: workspaces.status })
          .from(apiKeys)
          .innerJoin(workspaces, eq(workspaces.id, apiKeys.workspaceId))
          .where(eq(apiKeys.keyHash, hash))
          .limit(1);
        return found;
      }),
    touchApiKey: (ws, id, at) =>
      db.run(async (q) => {
        await q.orm.update(apiKeys).set({ lastUsedAt: at }).where(and(eq(apiKeys.workspaceId, ws), eq(apiKeys.id, id)));
      }),
    createApiKey: (ws, key) =>
      db.run(async (q) => {
        await q.orm.insert(apiKeys).values({ ...key, workspaceId: ws });
        const [row] = await q.orm.select().from(apiKeys).where(and(eq(apiKeys.workspaceId, ws), eq(apiKeys.id, key.id))).limit(1);
        return row as ApiKeyRow;
      }),
    listApiKeys: (ws) => db.run((q) => q.orm.select().from(apiKeys).where(eq(apiKeys.workspaceId, ws)).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))),
    revokeApiKey: (ws, id, at) =>
      db.run(async (q) => {
        const [res] = await q.orm.update(apiKeys).set({ revokedAt: at }).where(and(eq(apiKeys.workspaceId, ws), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
        return res.affectedRows > 0;
      }),

    security: (ws) => db.run((q) => securityOf(q, ws)),
    upsertSecurity: (ws, patch, at) =>
      db.tx(async (q) => {
        await q.orm
          .insert(workspaceSecurity)
          .values({ workspaceId: ws, ...patch, updatedAt: at })
          .onDuplicateKeyUpdate({ set: { ...patch, updatedAt: at } });
        return (await securityOf(q, ws))!;
      }),
    crossTenantJwtIssuerWorkspaces: (issuer) =>
      db.run((q) =>
        q.orm
          .select({ workspaceId: workspaceSecurity.workspaceId, jwt: workspaceSecurity.jwt, workspaceStatus: workspaces.status })
          .from(workspaceSecurity)
          .innerJoin(workspaces, eq(workspaces.id, workspaceSecurity.workspaceId))
          .where(eq(workspaceSecurity.jwtIssuer, issuer))
          .limit(500),
      ),
    // Outside a transaction on purpose: after losing a race, the second look must see the row
    // the winner committed, which a REPEATABLE READ snapshot taken by the first look would hide.
    findOrCreateJwtUser: (ws, subject, email, create, newId) =>
      db.run(async (q) => {
        const find = async () => (await q.orm.select({ id: users.id }).from(users).where(and(eq(users.workspaceId, ws), eq(users.externalId, subject))).limit(1))[0];
        const found = await find();
        if (found || !create) return found ?? null;
        const id = newId();
        const insert = (address: string) => q.orm.insert(users).values({ id, workspaceId: ws, email: address, externalId: subject });
        try {
          // The email column is unique per workspace; a subject whose email is taken gets a placeholder.
          await insert(email ?? `${id}@jwt.invalid`);
          return { id };
        } catch (e) {
          if (!isDuplicateEntry(e)) throw e;
        }
        const raced = await find();
        if (raced) return raced;
        await insert(`${id}@jwt.invalid`);
        return { id };
      }),

    llmApiKeySet: (ws) =>
      db.run(async (q) => {
        const [row] = await q.orm.select({ enc: workspaceSecurity.llmApiKeyEnc }).from(workspaceSecurity).where(eq(workspaceSecurity.workspaceId, ws)).limit(1);
        return (row?.enc ?? null) !== null;
      }),
    setLlmApiKeyEnc: (ws, enc, at) =>
      db.run(async (q) => {
        await q.orm.insert(workspaceSecurity).values({ workspaceId: ws, llmApiKeyEnc: enc, updatedAt: at }).onDuplicateKeyUpdate({ set: { llmApiKeyEnc: enc, updatedAt: at } });
      }),
  };
}

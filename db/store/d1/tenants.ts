// The tenants group (db/store/tenants.ts) on D1: db/workspaces.ts, db/api-keys.ts,
// db/workspace-security.ts and the settings half of db/llm.ts, unchanged (they are the D1
// implementation; tests seed through them too). A duplicate slug comes back as a value here, so
// no caller inspects SQLite's error.
import type { Db } from "../../client";
import { findApiKeyByHash, insertApiKey, listApiKeys, revokeApiKey, touchApiKey } from "../../api-keys";
import { isUniqueViolation } from "../../errors";
import { getLlmApiKeyEnc, setLlmApiKeyEnc } from "../../llm";
import { findJwtIssuerWorkspaces, findOrCreateJwtUser, getWorkspaceSecurity, upsertWorkspaceSecurity } from "../../workspace-security";
import { getWorkspace, insertWorkspace, listWorkspaces, updateWorkspaceConfiguration } from "../../workspaces";
import type { TenantStore } from "../tenants";

export function d1Tenant(db: Db): TenantStore {
  return {
    async platformCreateWorkspace(row) {
      try {
        return { status: "created", workspace: await insertWorkspace(db, row) };
      } catch (e) {
        if (isUniqueViolation(e)) return { status: "duplicate" };
        throw e;
      }
    },
    platformListWorkspaces: () => listWorkspaces(db),
    workspace: (ws) => getWorkspace(db, ws),
    updateConfiguration: (ws, configuration, at) => updateWorkspaceConfiguration(db, ws, configuration, at),

    // One round trip: the key joined to its workspace's status.
    crossTenantApiKeyByHash: (hash) => findApiKeyByHash(db, hash),
    touchApiKey: (ws, id, at) => touchApiKey(db, ws, id, at),
    createApiKey: (ws, key) => insertApiKey(db, { ...key, workspaceId: ws }),
    listApiKeys: (ws) => listApiKeys(db, ws),
    revokeApiKey: (ws, id, at) => revokeApiKey(db, ws, id, at),

    security: (ws) => getWorkspaceSecurity(db, ws),
    upsertSecurity: (ws, patch, at) => upsertWorkspaceSecurity(db, ws, patch, at),
    crossTenantJwtIssuerWorkspaces: (issuer) => findJwtIssuerWorkspaces(db, issuer),
    findOrCreateJwtUser: (ws, subject, email, create, newId) => findOrCreateJwtUser(db, ws, subject, email, create, newId),

    llmApiKeySet: async (ws) => (await getLlmApiKeyEnc(db, ws)) !== null,
    setLlmApiKeyEnc: (ws, enc, at) => setLlmApiKeyEnc(db, ws, enc, at),
  };
}

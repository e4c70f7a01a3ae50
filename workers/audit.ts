// The audit trail's write side, shared by the API's audit middleware, the accept path (DLP
// decisions) and jobs (retention). Reading it is the API's (workers/api/audit-logs.ts).
import { newId } from "../core/ids";
import type { Principal } from "../core/scopes";
import type { Db } from "../db/client";
import type { AuditStore, NewAuditRow } from "../db/store/audit";
import { d1Audit } from "../db/store/d1/audit";

/** Who did it, as the audit row names them. */
export function actorOf(p: Principal): { actor: string; credentialId: string | null; workspaceId: string | null } {
  if (p.kind === "admin") return { actor: "platform_admin", credentialId: null, workspaceId: null };
  if (p.kind === "jwt") return { actor: `user:${p.userId}`, credentialId: p.userId, workspaceId: p.workspaceId };
  if (p.kind === "inbound") return { actor: "inbound", credentialId: null, workspaceId: p.workspaceId };
  return { actor: p.userId ? `user:${p.userId}` : `api_key:${p.keyId}`, credentialId: p.keyId, workspaceId: p.workspaceId };
}

/**
 * Appends one row through the store's audit group (`store.audit`). A D1 handle is still accepted
 * for the callers not yet moved onto the store (it is then written through the D1 adapter);
 * once none passes one, the parameter becomes AuditStore only.
 */
export async function recordAudit(to: AuditStore | Db, row: Omit<NewAuditRow, "id" | "createdAt"> & { createdAt?: number }): Promise<void> {
  const audit = isAuditStore(to) ? to : d1Audit(to);
  await audit.append({ ...row, id: newId("aud"), createdAt: row.createdAt ?? Date.now() });
}

// A store group (the MySQL store's forwarding proxy included) answers `append`; drizzle's D1 handle has none.
const isAuditStore = (to: AuditStore | Db): to is AuditStore => typeof (to as Partial<AuditStore>).append === "function";

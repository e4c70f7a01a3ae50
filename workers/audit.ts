// The audit trail's write side, shared by the API's audit middleware, the accept path (DLP
// decisions) and jobs (retention). Reading it is the API's (workers/api/audit-logs.ts).
import { newId } from "../core/ids";
import type { Principal } from "../core/scopes";
import type { AuditStore, NewAuditRow } from "../db/store/audit";

/** Who did it, as the audit row names them. */
export function actorOf(p: Principal): { actor: string; credentialId: string | null; workspaceId: string | null } {
  if (p.kind === "admin") return { actor: "platform_admin", credentialId: null, workspaceId: null };
  if (p.kind === "jwt") return { actor: `user:${p.userId}`, credentialId: p.userId, workspaceId: p.workspaceId };
  if (p.kind === "inbound") return { actor: "inbound", credentialId: null, workspaceId: p.workspaceId };
  return { actor: p.userId ? `user:${p.userId}` : `api_key:${p.keyId}`, credentialId: p.keyId, workspaceId: p.workspaceId };
}

/** Appends one row through the store's audit group (`store.audit`). */
export async function recordAudit(audit: AuditStore, row: Omit<NewAuditRow, "id" | "createdAt"> & { createdAt?: number }): Promise<void> {
  await audit.append({ ...row, id: newId("aud"), createdAt: row.createdAt ?? Date.now() });
}

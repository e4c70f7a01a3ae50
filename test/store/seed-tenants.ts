// Rows the tenants and audit conformance cases (test/store/conformance-tenants.ts,
// conformance-audit.ts) write and read behind the store's back, in SQL both SQLite and MySQL run
// as written. Values come back normalized (numbers, parsed JSON), as test/store/sql-seeder.ts does.
import { newId } from "../../core/ids";
import type { SqlExec } from "./sql-seeder";

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const json = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v);

/** A workspace with the given creation time (the store's create always takes the clock's). */
export async function workspaceAt(exec: SqlExec, createdAt: number, id = newId("ws")): Promise<string> {
  const slug = `t-${id.slice(3).toLowerCase().replace(/[^a-z0-9]/g, "x")}`;
  await exec.run(`INSERT INTO workspaces (id, slug, display_name, configuration, status, created_at, updated_at) VALUES (?, ?, 'tenants', '{}', 'active', ?, ?)`, [id, slug, createdAt, createdAt]);
  return id;
}

export async function workspaceCount(exec: SqlExec, where: string, values: unknown[]): Promise<number> {
  const [r] = await exec.all(`SELECT count(*) AS n FROM workspaces WHERE ${where}`, values);
  return num(r!.n);
}

export async function apiKeyState(exec: SqlExec, id: string) {
  const [r] = await exec.all(`SELECT workspace_id, revoked_at, last_used_at FROM api_keys WHERE id = ?`, [id]);
  return r && { workspaceId: String(r.workspace_id), revokedAt: numOrNull(r.revoked_at), lastUsedAt: numOrNull(r.last_used_at) };
}

/** The workspace's users, by email. */
export async function usersOf(exec: SqlExec, workspaceId: string): Promise<{ id: string; email: string; externalId: string | null }[]> {
  const rows = await exec.all(`SELECT id, email, external_id FROM users WHERE workspace_id = ? ORDER BY email`, [workspaceId]);
  return rows.map((r) => ({ id: String(r.id), email: String(r.email), externalId: r.external_id === null ? null : String(r.external_id) }));
}

export async function userWith(exec: SqlExec, workspaceId: string, email: string, externalId: string | null): Promise<string> {
  const id = newId("usr");
  await exec.run(`INSERT INTO users (id, workspace_id, email, role, external_id, created_at, updated_at) VALUES (?, ?, ?, 'member', ?, 1, 1)`, [id, workspaceId, email, externalId]);
  return id;
}

export async function securityState(exec: SqlExec, workspaceId: string) {
  const [r] = await exec.all(`SELECT jwt_issuer, jwt, retention_days, dlp, llm_api_key_enc, updated_at FROM workspace_security WHERE workspace_id = ?`, [workspaceId]);
  return (
    r && {
      jwtIssuer: r.jwt_issuer === null ? null : String(r.jwt_issuer),
      jwt: r.jwt === null ? null : json(r.jwt),
      retentionDays: numOrNull(r.retention_days),
      dlp: r.dlp === null ? null : json(r.dlp),
      llmApiKeyEnc: r.llm_api_key_enc === null ? null : String(r.llm_api_key_enc),
      updatedAt: num(r.updated_at),
    }
  );
}

export async function auditState(exec: SqlExec, id: string) {
  const [r] = await exec.all(`SELECT workspace_id, actor, action, outcome, detail, created_at FROM audit_logs WHERE id = ?`, [id]);
  return r && { workspaceId: r.workspace_id === null ? null : String(r.workspace_id), actor: String(r.actor), action: String(r.action), outcome: String(r.outcome), detail: json(r.detail), createdAt: num(r.created_at) };
}

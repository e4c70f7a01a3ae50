// The store's tenants group (db/store/store.ts): workspaces, API keys, workspace security (JWT
// issuers and users) and the LLM settings the API reads and writes (the key's ciphertext and the
// day's token use; the settings themselves live in the workspace configuration).
//
// Operations are in core terms: no query builder, statement or driver type crosses them.
// Workspace-scoped operations take the workspace first and never reach another tenant's rows.
// Cross-tenant ones say so in their name: `platform…` (the platform admin's) and `crossTenant…`
// (authentication, which starts from a credential and learns the workspace from it).
import type { apiKeys, workspaces, workspaceSecurity } from "../schema";

export type WorkspaceRow = typeof workspaces.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type WorkspaceSecurityRow = typeof workspaceSecurity.$inferSelect;

/** A new workspace: configuration, status and times take the columns' defaults unless given. */
export interface NewWorkspace {
  id: string;
  slug: string;
  displayName: string;
  domain?: string | null;
  configuration?: Record<string, unknown>;
  status?: WorkspaceRow["status"];
}

/** A new API key: only the key's hash is stored (core/api-key.ts). `createdAt` defaults to the database clock. */
export interface NewApiKey {
  id: string;
  userId: string | null;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: string[];
  expiresAt: number | null;
  createdAt?: number;
}

/** A key found by its hash, with its workspace's status (auth refuses a suspended workspace's keys). */
export interface FoundApiKey {
  key: ApiKeyRow;
  workspaceStatus: WorkspaceRow["status"];
}

/** A workspace trusting a JWT issuer: its JWT settings (unparsed: core/jwt.ts parses them) and status. */
export interface JwtIssuerWorkspace {
  workspaceId: string;
  jwt: Record<string, unknown> | null;
  workspaceStatus: WorkspaceRow["status"];
}

/** The parts of the security settings a write may change; keys left out keep their stored value. */
export type SecurityPatch = Partial<Pick<WorkspaceSecurityRow, "jwt" | "jwtIssuer" | "retentionDays" | "dlp">>;

export type CreateWorkspaceResult = { status: "created"; workspace: WorkspaceRow } | { status: "duplicate" };

export interface TenantStore {
  // Workspaces.
  /** Platform admin: a new workspace; `duplicate` when its slug (or domain, or id) is taken. */
  platformCreateWorkspace(row: NewWorkspace): Promise<CreateWorkspaceResult>;
  /** Platform admin: every workspace, oldest first. */
  platformListWorkspaces(): Promise<WorkspaceRow[]>;
  /** The workspace itself (its own id, or the platform admin's path parameter); undefined when unknown. */
  workspace(workspaceId: string): Promise<WorkspaceRow | undefined>;
  /** Replaces the workspace's configuration (the caller merged it); the row as written, undefined when unknown. */
  updateConfiguration(workspaceId: string, configuration: Record<string, unknown>, at: number): Promise<WorkspaceRow | undefined>;

  // API keys.
  /** Cross-tenant (authentication): the key with this SHA-256 hash, whatever its workspace, in one round trip. */
  crossTenantApiKeyByHash(keyHash: string): Promise<FoundApiKey | undefined>;
  /** Records the key's use (the caller throttles it: never a write per request). */
  touchApiKey(workspaceId: string, keyId: string, at: number): Promise<void>;
  createApiKey(workspaceId: string, key: NewApiKey): Promise<ApiKeyRow>;
  /** Oldest first, revoked ones included. */
  listApiKeys(workspaceId: string): Promise<ApiKeyRow[]>;
  /** False when the workspace has no such key or it was already revoked. */
  revokeApiKey(workspaceId: string, keyId: string, at: number): Promise<boolean>;

  // Security settings and JWT users.
  security(workspaceId: string): Promise<WorkspaceSecurityRow | undefined>;
  /** Creates the settings row or changes the keys in `patch` (and updated_at); the row as written. */
  upsertSecurity(workspaceId: string, patch: SecurityPatch, at: number): Promise<WorkspaceSecurityRow>;
  /** Cross-tenant (authentication, and the one-issuer-per-audience check): workspaces trusting `issuer`, at most 500. */
  crossTenantJwtIssuerWorkspaces(issuer: string): Promise<JwtIssuerWorkspace[]>;
  /**
   * The workspace user for an identity-provider subject, matched on the subject only; created
   * on first sight when `create` is set (with the email claim, or a placeholder address when
   * that email is taken in the workspace). Null when unknown and not created.
   */
  findOrCreateJwtUser(workspaceId: string, subject: string, email: string | null, create: boolean, newId: () => string): Promise<{ id: string } | null>;

  // LLM settings (the API's /v1/workspace/llm; the day's usage is the llm group's `usage`).
  /** Whether an LLM API key is stored (its ciphertext never leaves the store for this). */
  llmApiKeySet(workspaceId: string): Promise<boolean>;
  /** Stores the key's ciphertext (core/crypto.ts encrypts it before), or with null removes it. */
  setLlmApiKeyEnc(workspaceId: string, enc: string | null, at: number): Promise<void>;
}

// Credential scopes. `admin` manages the workspace's configuration; `read` sees message
// metadata and status; `send` submits mail.
export const SCOPES = ["send", "read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Someone acting inside one workspace: an API key, a JWT-authenticated user, or inbound mail
 * attributed to the workspace by its verified sender domain (no credential at all).
 */
export interface WorkspacePrincipal {
  kind: "api_key" | "jwt" | "inbound";
  workspaceId: string;
  keyId: string | null;
  userId: string | null;
  scopes: Scope[];
}


export interface AdminPrincipal {
  kind: "admin";
}

export type Principal = WorkspacePrincipal | AdminPrincipal;

// Credential scopes. `admin` manages the workspace's configuration; `read` sees message
// metadata and status; `send` submits mail.
export const SCOPES = ["send", "read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface KeyPrincipal {
  kind: "api_key";
  workspaceId: string;
  keyId: string;
  userId: string | null;
  scopes: Scope[];
}

export interface AdminPrincipal {
  kind: "admin";
}

export type Principal = KeyPrincipal | AdminPrincipal;

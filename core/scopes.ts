// Credential scopes. `admin` manages the workspace's configuration (and holds every scope);
// `read` sees message metadata and status; `read_bodies` reads message content (the rendered
// copy), kept apart so a dashboard can show delivery status without seeing what was written;
// `send` submits mail.
export const SCOPES = ["send", "read", "read_bodies", "admin"] as const;
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

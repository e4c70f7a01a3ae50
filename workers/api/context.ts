import type { Db } from "../../db/client";
import type { Principal, WorkspacePrincipal } from "../../core/scopes";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Db;
    principal: Principal;
    /** Set by the auth middleware for workspace credentials only (see WorkspaceEnv). */
    workspaceId?: string;
  };
}

/**
 * What a workspace route's handler sees: its auth middleware (workers/api/route.ts) has
 * authenticated a workspace credential and set the workspace once, so no handler re-derives it.
 */
export interface WorkspaceEnv extends AppEnv {
  Variables: AppEnv["Variables"] & { principal: WorkspacePrincipal; workspaceId: string };
}

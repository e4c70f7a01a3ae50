import type { Store } from "../../db/store/store";
import type { Principal, WorkspacePrincipal } from "../../core/scopes";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** The store STORE names (workers/api/middleware/database.ts): what handlers read and write through. */
    store: Store;
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

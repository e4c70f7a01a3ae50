import type { Db } from "../../db/client";
import type { Principal } from "../../core/scopes";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Db;
    principal: Principal;
  };
}

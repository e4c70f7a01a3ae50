// The store STORE names (core/config.ts), refused at the first use with a clear error when its
// binding is missing. D1 by default; a caller that already holds a Db (a queue batch's coalescing
// view) passes it.
import { readConfig } from "../../core/config";
import { RelayError } from "../../core/errors";
import { getDb, type Db } from "../client";
import { mysqlStore } from "../mysql/store";
import { d1Store } from "./d1";
import type { Store } from "./store";

export function openStore(env: Env, opts: { db?: Db } = {}): Store {
  const { store } = readConfig(env);
  const bindings = env as unknown as Record<string, unknown>;
  if (store === "d1") {
    if (!bindings.DB) throw new RelayError("internal_error", "configuration STORE: d1 needs the D1 binding DB ([[d1_databases]] in wrangler.toml)");
    return d1Store(opts.db ?? getDb(env.DB));
  }
  if (!bindings.HYPERDRIVE) throw new RelayError("internal_error", "configuration STORE: mysql needs the Hyperdrive binding HYPERDRIVE ([[hyperdrive]] in wrangler.toml)");
  return mysqlStore(env.HYPERDRIVE);
}

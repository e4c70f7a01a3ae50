// The store STORE names (core/config.ts), refused at the first use with a clear error when its
// binding is missing. D1 by default; a caller that already holds a Db (a queue batch's coalescing
// view) passes it. The MySQL store is a module of its own with its driver (workers/vendor/
// mysql-store.js, loaded through workers/store.ts): a D1 deployment never evaluates it, and the
// main bundle stays within its budget.
import { readConfig } from "../../core/config";
import { RelayError } from "../../core/errors";
import { getDb, type Db } from "../client";
import type { MysqlDriver } from "../mysql/connect";
import type { MysqlStoreOptions } from "../mysql/store";
import { d1Store } from "./d1";
import { STORE_GROUPS, type Store } from "./store";

/** What the MySQL store's module gives: the store over a binding, and its driver. */
export interface MysqlStoreModule extends MysqlDriver {
  mysqlStore(source: Hyperdrive, opts: MysqlStoreOptions): Store;
}

export interface OpenOptions {
  /** A Db to use on D1 (a queue batch's coalescing view); the binding's own otherwise. */
  db?: Db;
  /** Loads the MySQL store's module (workers/store.ts passes it). */
  mysql?: () => Promise<MysqlStoreModule>;
}

export function openStore(env: Env, opts: OpenOptions = {}): Store {
  const { store } = readConfig(env);
  const bindings = env as unknown as Record<string, unknown>;
  if (store === "d1") {
    if (!bindings.DB) throw new RelayError("internal_error", "configuration STORE: d1 needs the D1 binding DB ([[d1_databases]] in wrangler.toml)");
    return d1StoreOf(opts.db ?? getDb(env.DB));
  }
  if (!bindings.HYPERDRIVE) throw new RelayError("internal_error", "configuration STORE: mysql needs the Hyperdrive binding HYPERDRIVE ([[hyperdrive]] in wrangler.toml)");
  const load = opts.mysql;
  if (!load) throw new RelayError("internal_error", "configuration STORE: mysql needs the MySQL store's module (open the store through workers/store.ts)");
  let opened: Promise<Store> | undefined;
  // An optional read replica (a second Hyperdrive binding, not declared in wrangler.toml by
  // default): the reads that tolerate lag go there (db/mysql/store/sql.ts Runner.lagging).
  const replica = bindings.HYPERDRIVE_REPLICA as Hyperdrive | undefined;
  const real = () => (opened ??= load().then((m) => m.mysqlStore(env.HYPERDRIVE, { driver: async () => m, ...(replica ? { replica } : {}) })));
  const groups = Object.fromEntries(STORE_GROUPS.map((g) => [g, forward(() => real().then((s) => s[g]))]));
  return {
    ...(groups as Pick<Store, (typeof STORE_GROUPS)[number]>),
    backend: "mysql",
    // Nothing to end when no operation ever loaded the module.
    close: async () => (opened ? (await opened).close() : undefined),
  };
}

// The D1 store is a set of closures over its Db and holds no state of its own: one per Db (the
// binding's Db lives for the isolate), so a request does not build fifteen groups again.
const d1Stores = new WeakMap<Db, Store>();
function d1StoreOf(db: Db): Store {
  let store = d1Stores.get(db);
  if (!store) d1Stores.set(db, (store = d1Store(db)));
  return store;
}

/** A group whose every method waits for the real group, then calls it. */
function forward<T extends object>(group: () => Promise<T>): T {
  return new Proxy({} as T, {
    // Not a thenable: awaiting or returning the group from an async function must not call it.
    get: (_, name) => name === "then" ? undefined : async (...args: unknown[]) => {
      const g = (await group()) as Record<PropertyKey, (...a: unknown[]) => unknown>;
      return g[name]!(...args);
    },
  });
}

// The store as the Worker opens it: db/store/open.ts with the MySQL store loaded on first use
// (a module of its own with its driver, workers/vendor/mysql-store.js, built by scripts/vendor.mjs),
// so a D1 deployment never evaluates it.
import type { Db } from "../db/client";
import { openStore } from "../db/store/open";
import type { Store } from "../db/store/store";
import { loadMysqlStore } from "./lazy-libs";

export const openRelayStore = (env: Env, opts: { db?: Db } = {}): Store => openStore(env, { ...opts, mysql: loadMysqlStore });

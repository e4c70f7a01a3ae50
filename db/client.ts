import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";
import { coalescingD1 } from "./coalescing-d1";

export type Db = ReturnType<typeof drizzle<typeof schema>>;

// drizzle builds its relational config from the schema on construction (measurable per
// request), so one instance is kept per D1 binding for the isolate's life.
const instances = new WeakMap<D1Database, Db>();

export function getDb(d1: D1Database): Db {
  let db = instances.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    instances.set(d1, db);
  }
  return db;
}

/**
 * A Db of its own whose batches issued in the same turn share one D1 round trip
 * (coalescing-d1.ts): one per queue invocation, made by the delivery consumer.
 */
export const getCoalescingDb = (d1: D1Database): Db => drizzle(coalescingD1(d1), { schema });

/**
 * A Db over one D1 Sessions API session (read replication): every statement through it reads a
 * copy of the database at least as new as the session's bookmark. Made per request, so it is built
 * without the relational schema (whose config drizzle builds on construction): the store and db/
 * use the query builders only, never `db.query`.
 */
export const getSessionDb = (session: D1DatabaseSession): Db => drizzle(session as unknown as D1Database) as unknown as Db;

export { schema };

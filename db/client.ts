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
    // Through the coalescing wrapper: inside a delivery batch (withD1Coalescing) concurrent
    // batches share one D1 round trip; everywhere else it passes straight through.
    db = drizzle(coalescingD1(d1), { schema });
    instances.set(d1, db);
  }
  return db;
}

export { schema };

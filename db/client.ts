import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof drizzle<typeof schema>>;

// drizzle's D1 driver is a thin wrapper (no connection state), so one per call site is cheap.
export const getDb = (d1: D1Database): Db => drizzle(d1, { schema });

export { schema };

// Column helpers shared by the tables of db/schema/: times are integer milliseconds since the
// epoch (UTC), defaulting to the database clock.
import { sql } from "drizzle-orm";
import { integer } from "drizzle-orm/sqlite-core";

export const now = sql`(unixepoch('subsec') * 1000)`;
export const createdAt = () => integer("created_at").notNull().default(now);
export const updatedAt = () => integer("updated_at").notNull().default(now);

// A MySQL connection through the Hyperdrive binding with the mysql2 package, and drizzle over it:
// for tests and scripts (the Worker's store connects through connect.ts with a lazily loaded driver). Hyperdrive keeps the
// pool near the database, so a connection per request (or per queue batch) is cheap; close it
// when the work is done (ctx.waitUntil(conn.end())).
import { drizzle } from "drizzle-orm/mysql2";
import { createConnection } from "mysql2/promise";
import { connectThrough, type MysqlConnection } from "./connect";
import * as schema from "./schema";

export type { MysqlConnection };

/** A connection with the mysql2 package itself (tests, scripts; the Worker loads it lazily: connect.ts). */
export const connectMysql = (hyperdrive: Hyperdrive): Promise<MysqlConnection> => connectThrough(hyperdrive, { createConnection });

export const mysqlDb = (conn: MysqlConnection) => drizzle(conn, { schema, mode: "default" });
export type MysqlDb = ReturnType<typeof mysqlDb>;

export { schema as mysqlSchema };

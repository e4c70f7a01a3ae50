// A MySQL connection through the Hyperdrive binding, and drizzle over it. Hyperdrive keeps the
// pool near the database, so a connection per request (or per queue batch) is cheap; close it
// when the work is done (ctx.waitUntil(conn.end())).
import { drizzle } from "drizzle-orm/mysql2";
import { createConnection, type Connection } from "mysql2/promise";
import * as schema from "./schema";

export type MysqlConnection = Connection;

export function connectMysql(hyperdrive: Hyperdrive): Promise<MysqlConnection> {
  return createConnection({
    host: hyperdrive.host,
    port: hyperdrive.port,
    user: hyperdrive.user,
    password: hyperdrive.password,
    database: hyperdrive.database,
    // Workers refuse eval/new Function, which mysql2 uses by default to build row parsers.
    disableEval: true,
    // Several statements in one query are never needed, and refusing them keeps injection small.
    multipleStatements: false,
  });
}

export const mysqlDb = (conn: MysqlConnection) => drizzle(conn, { schema, mode: "default" });
export type MysqlDb = ReturnType<typeof mysqlDb>;

export { schema as mysqlSchema };

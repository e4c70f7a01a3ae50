// Opening a MySQL connection through the Hyperdrive binding, with the driver passed in as a value:
// the deployed Worker loads mysql2 lazily (workers/lazy-libs.ts, a module of its own), so a D1
// deployment never carries or evaluates it; tests and scripts pass the package itself
// (db/mysql/connection.ts).
import type { Connection, ConnectionOptions } from "mysql2/promise";

export type MysqlConnection = Connection;

/** What the store needs of the driver: mysql2's createConnection. */
export interface MysqlDriver {
  createConnection(options: ConnectionOptions): Promise<Connection>;
}

export function connectThrough(hyperdrive: Hyperdrive, driver: MysqlDriver): Promise<MysqlConnection> {
  return driver.createConnection({
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

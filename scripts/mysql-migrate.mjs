// `npm run db:mysql:migrate`: applies migrations-mysql/ to a MySQL 8 / MariaDB database with
// the same applier the tests run inside workerd (db/mysql/migrate.ts).
//   node scripts/mysql-migrate.mjs [mysql://user:pass@host:port/db]
// Without an argument: RELAY_MYSQL_URL, else the local server of `npm run mysql:local`.
import path from "node:path";
import { readMigrationFiles } from "drizzle-orm/migrator";
import mysql from "mysql2/promise";
import { applyMysqlMigrations } from "../db/mysql/migrate.ts";

const root = path.resolve(import.meta.dirname, "..");
const url = process.argv[2] ?? process.env.RELAY_MYSQL_URL ?? "mysql://relay:relay@127.0.0.1:3306/relay";
const migrations = readMigrationFiles({ migrationsFolder: path.join(root, "migrations-mysql") });
const where = url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");

let conn;
try {
  conn = await mysql.createConnection({ uri: url, connectTimeout: 5000 });
} catch (e) {
  console.error(`mysql-migrate: cannot connect to ${where}: ${e.message}`);
  console.error("mysql-migrate: start a local server with `npm run mysql:local`, or pass a connection string");
  process.exit(1);
}
try {
  const started = Date.now();
  const r = await applyMysqlMigrations(conn, migrations);
  console.log(
    `mysql-migrate: ${where}: ${r.applied.length ? `applied ${r.applied.length} of ${migrations.length} migrations` : `all ${migrations.length} migrations already applied`}` +
      ` (${r.charset}/${r.collation}, ${Date.now() - started} ms)`,
  );
} catch (e) {
  console.error(`mysql-migrate: ${where}: ${e.message}`);
  process.exitCode = 1;
} finally {
  await conn.end();
}

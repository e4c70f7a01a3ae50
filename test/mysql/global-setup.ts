// Runs in Node before the workerd pool starts: the MySQL test database is dropped and created
// again, so every run applies every migration from nothing (test/mysql/setup.ts). It is created
// latin1 on purpose: the migration applier must make it utf8mb4 with the binary collation.
import mysql from "mysql2/promise";

export default async function setup(): Promise<void> {
  // Set by vitest.mysql.config.ts (RELAY_MYSQL_TEST_URL, or its default).
  const url = new URL(process.env.RELAY_MYSQL_TEST_URL!);
  const database = decodeURIComponent(url.pathname.slice(1));
  if (!/^\w+_test$/.test(database)) throw new Error(`refusing to empty ${database}: the MySQL test database's name must end in _test`);
  url.pathname = "/";
  let conn;
  try {
    conn = await mysql.createConnection({ uri: url.toString(), connectTimeout: 5000 });
  } catch (e) {
    throw new Error(`no MySQL server for the MySQL tests at ${url.host} (${(e as Error).message}); start one with \`npm run mysql:local\``, { cause: e });
  }
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET latin1`);
  } finally {
    await conn.end();
  }
}

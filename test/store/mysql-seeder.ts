// The conformance suite's Seeder on MySQL: test/store/sql-seeder.ts's statements on a mysql2
// connection through Hyperdrive (test/mysql/helpers.ts), its own, opened on first use and
// closed when the test ends.
import { connect, rows, write } from "../mysql/helpers";
import type { MysqlConnection } from "../../db/mysql/connection";
import { sqlSeeder, type SqlExec } from "./sql-seeder";
import type { Seeder } from "./seeder";

/** Plain SQL on a connection of its own, for what a group's cases write or read behind the store's back. */
export function mysqlExec(): SqlExec {
  let conn: Promise<MysqlConnection> | undefined;
  const open = () => (conn ??= connect());
  return {
    all: async (sql, values = []) => rows<Record<string, unknown>>(await open(), sql, values),
    run: async (sql, values = []) => void (await write(await open(), sql, values)),
  };
}

export const mysqlSeeder = (exec: SqlExec = mysqlExec()): Seeder => sqlSeeder(exec);

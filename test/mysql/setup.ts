// Each MySQL test file starts with the migrations applied, through the Hyperdrive binding (the
// applier's lock makes the first file apply them and the others find them applied).
import { env } from "cloudflare:workers";
import { connectMysql } from "../../db/mysql/connection";
import { applyMysqlMigrations } from "../../db/mysql/migrate";

const conn = await connectMysql(env.HYPERDRIVE);
try {
  await applyMysqlMigrations(conn, env.TEST_MYSQL_MIGRATIONS);
} finally {
  await conn.end();
}

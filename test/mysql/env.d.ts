declare namespace Cloudflare {
  interface Env {
    TEST_MYSQL_MIGRATIONS: import("../../db/mysql/migrate").MysqlMigration[];
  }
}

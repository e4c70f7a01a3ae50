// Applies migrations-mysql/ to a MySQL 8 / MariaDB database, from inside workerd (through the
// Hyperdrive binding: the MySQL tests) or from Node (scripts/mysql-migrate.mjs). The migrations
// are read by drizzle-orm/migrator's readMigrationFiles in Node (workerd has no file system) and
// handed in as data, like readD1Migrations for D1.
//
// Bookkeeping is drizzle's own (`__drizzle_migrations`: hash, created_at = the journal's `when`),
// so `drizzle-kit migrate` and this agree on what is applied. MySQL commits each DDL statement
// on its own, so a migration cannot be rolled back: a failure names the migration and statement
// and leaves the migration unrecorded, for a person to finish by hand.
//
// Self-contained (no imports of ours) so a Node script can load it with type stripping.

/** One migration as readMigrationFiles returns it. */
export interface MysqlMigration {
  sql: string[];
  folderMillis: number;
  hash: string;
}

/** What the applier needs of a connection: mysql2's promise Connection has it. */
export interface MigrationConnection {
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

const TABLE = "__drizzle_migrations";
const LOCK = "relay_migrations";
const LOCK_WAIT_SECONDS = 60;

export interface MigrationResult {
  /** folderMillis of each migration applied by this call, in order. */
  applied: number[];
  /** Database default character set and collation after the call. */
  charset: string;
  collation: string;
}

/**
 * Applies every migration newer than the newest recorded one, under a named lock so concurrent
 * callers (test files, two deploys) apply each migration once. The first call on an empty
 * database also sets its defaults to utf8mb4 / utf8mb4_bin: tables take them, and the binary
 * collation keeps comparisons exact as in SQLite.
 */
export async function applyMysqlMigrations(conn: MigrationConnection, migrations: readonly MysqlMigration[]): Promise<MigrationResult> {
  const [lock] = await rows<{ got: number | null }>(conn, `SELECT GET_LOCK(?, ?) AS got`, [LOCK, LOCK_WAIT_SECONDS]);
  if (lock?.got !== 1) throw new Error(`another migration holds the lock ${LOCK} for more than ${LOCK_WAIT_SECONDS}s`);
  try {
    await conn.query(`CREATE TABLE IF NOT EXISTS \`${TABLE}\` (id SERIAL PRIMARY KEY, hash TEXT NOT NULL, created_at BIGINT)`);
    const [last] = await rows<{ created_at: number | string | null }>(conn, `SELECT created_at FROM \`${TABLE}\` ORDER BY created_at DESC LIMIT 1`);
    if (!last) await conn.query(`ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const after = last ? Number(last.created_at) : -Infinity;
    const applied: number[] = [];
    for (const m of migrations) {
      if (m.folderMillis <= after) continue;
      for (const [i, statement] of m.sql.entries()) {
        if (!statement.replace(/--[^\n]*/g, "").trim()) continue;
        try {
          await conn.query(statement);
        } catch (e) {
          throw new Error(`migration ${m.folderMillis}, statement ${i + 1}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
      }
      await conn.query(`INSERT INTO \`${TABLE}\` (hash, created_at) VALUES (?, ?)`, [m.hash, m.folderMillis]);
      applied.push(m.folderMillis);
    }
    const [db] = await rows<{ charset: string; collation: string }>(
      conn,
      `SELECT default_character_set_name AS charset, default_collation_name AS collation FROM information_schema.schemata WHERE schema_name = DATABASE()`,
    );
    return { applied, charset: db?.charset ?? "", collation: db?.collation ?? "" };
  } finally {
    await conn.query(`SELECT RELEASE_LOCK(?)`, [LOCK]);
  }
}

async function rows<T>(conn: MigrationConnection, sql: string, values?: unknown[]): Promise<T[]> {
  const result = (await conn.query(sql, values)) as [T[], unknown];
  return result[0];
}

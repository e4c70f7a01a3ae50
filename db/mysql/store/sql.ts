// What the MySQL store's operations are written with: statements on one connection (`Sql`, as
// SQL text, or as drizzle's mysql-core builders over the MySQL schema through `q.orm`: both run on
// the connection the operation holds, so inside `tx` both are part of its transaction),
// transactions that InnoDB may pick as a deadlock's victim and that are then run again, and
// rows mapped to the D1 row shapes through the MySQL schema's own column mappings (JSON parsed,
// TINYINT(1) as booleans, BIGINT and INT as numbers), as db/raw-rows.ts does for D1.
//
// Every value is a bound parameter (mysql2 escapes `?` on the client; an array after `IN (?)`
// becomes a list). Only identifiers from the schema and fixed SQL text are written into a
// statement. multipleStatements stays off (db/mysql/connection.ts).
import { getTableColumns, getTableName, type Table } from "drizzle-orm";
import { drizzle, type MySql2Database } from "drizzle-orm/mysql2";
import { mapRow } from "../../raw-rows";
import type { ResultSetHeader, RowDataPacket } from "mysql2";
import type { MysqlConnection } from "../connect";

/** Statements, in order, on the connection an operation holds. */
export interface Sql {
  rows<T = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>;
  /** How many rows the write matched (mysql2 connects with FOUND_ROWS: matched, not only changed). */
  exec(sql: string, values?: unknown[]): Promise<number>;
  /**
   * drizzle over the same connection, for operations that read best as builders (tables from
   * db/mysql/schema). MySQL has no RETURNING: read back what a write needs. Never start or end a
   * transaction through it: `Runner.tx` owns that.
   */
  readonly orm: Orm;
}

/** drizzle's mysql-core over one connection (no relational schema: builders only, so nothing is built per connection). */
export type Orm = MySql2Database;
const orms = new WeakMap<MysqlConnection, Orm>();
const ormOn = (conn: MysqlConnection): Orm => {
  let orm = orms.get(conn);
  if (!orm) orms.set(conn, (orm = drizzle(conn)));
  return orm;
};

/** How an operation gets a connection (db/mysql/store/index.ts serializes them). */
export interface Runner {
  /** Statements outside a transaction, each committed on its own. */
  run<T>(fn: (q: Sql) => Promise<T>): Promise<T>;
  /**
   * One transaction: committed when `fn` resolves, rolled back when it throws. When InnoDB picks
   * it as a deadlock's victim (it rolled it back whole), `fn` runs again from its first statement.
   */
  tx<T>(fn: (q: Sql) => Promise<T>): Promise<T>;
  /**
   * Where reads that tolerate a replica's lag go (lists, campaign statistics, the audit trail,
   * webhook event lists, /metrics): the replica's runner when the store was given one
   * (HYPERDRIVE_REPLICA), this runner otherwise. Never for a read that decides a write, checks a
   * credential, or reads back what the caller just wrote (docs/storage.md section 4).
   */
  readonly lagging: Runner;
}

export function sqlOn(conn: MysqlConnection): Sql {
  return {
    get orm() {
      return ormOn(conn);
    },
    async rows<T>(sql: string, values: unknown[] = []) {
      const [result] = await conn.query<RowDataPacket[]>(sql, values);
      return result as unknown as T[];
    },
    async exec(sql: string, values: unknown[] = []) {
      const [result] = await conn.query<ResultSetHeader>(sql, values);
      return result.affectedRows;
    },
  };
}

/**
 * The driver's own error behind `e`: mysql2 throws it as is from `q.rows`/`q.exec`, drizzle wraps
 * it (DrizzleQueryError, the driver's error as `cause`) from `q.orm`.
 */
export function driverError(e: unknown): { errno?: number; fatal?: boolean } | undefined {
  for (let cur = e, depth = 0; cur && typeof cur === "object" && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    const err = cur as { errno?: unknown; fatal?: unknown };
    if (typeof err.errno === "number" || err.fatal === true) return err as { errno?: number; fatal?: boolean };
  }
  return undefined;
}

/** ER_DUP_ENTRY: a unique index refused the row (the store returns it as a value, never throws it). */
export const DUP_ENTRY = 1062;
export const isDuplicateEntry = (e: unknown): boolean => driverError(e)?.errno === DUP_ENTRY;

/** ER_LOCK_DEADLOCK: the server rolled the whole transaction back; running it again is the remedy. */
const DEADLOCK = 1213;
const TX_ATTEMPTS = 4;

export async function transaction<T>(conn: MysqlConnection, fn: (q: Sql) => Promise<T>): Promise<T> {
  const q = sqlOn(conn);
  for (let attempt = 1; ; attempt++) {
    await conn.query("START TRANSACTION");
    try {
      const value = await fn(q);
      await conn.query("COMMIT");
      return value;
    } catch (e) {
      await conn.query("ROLLBACK").catch(() => {});
      if (driverError(e)?.errno === DEADLOCK && attempt < TX_ATTEMPTS) continue;
      throw e;
    }
  }
}

interface DriverColumn {
  name: string;
  mapFromDriverValue(v: unknown): unknown;
  mapToDriverValue(v: unknown): unknown;
}

interface TableShape {
  name: string;
  list: string;
  fields: [key: string, column: DriverColumn][];
  byKey: Map<string, DriverColumn>;
}

const shapes = new WeakMap<Table, TableShape>();

function shapeOf(table: Table): TableShape {
  let s = shapes.get(table);
  if (!s) {
    const name = getTableName(table);
    const fields = Object.entries(getTableColumns(table)) as unknown as [string, DriverColumn][];
    s = { name, fields, byKey: new Map(fields), list: fields.map(([, c]) => `\`${name}\`.\`${c.name}\``).join(", ") };
    shapes.set(table, s);
  }
  return s;
}

/** `table`'s name, quoted. */
export const tableName = (table: Table): string => `\`${shapeOf(table).name}\``;

/** Every column of `table`, qualified, for a SELECT. */
export const columnList = (table: Table): string => shapeOf(table).list;

/** A result row as the row of `table` (JSON parsed, booleans as booleans, numbers): the D1 mapping, which is the columns' own. */
export { mapRow };

export const mapRows = <T extends Table>(table: T, rows: Record<string, unknown>[]): T["$inferSelect"][] => rows.map((r) => mapRow(table, r));

/**
 * INSERT of `rows` (all with the same defined keys: db/fast-insert.ts byShape) into `table`.
 * Values go through each column's driver mapping (JSON → text); undefined keys are left to the
 * column's default, as drizzle does.
 */
export function insertRows<T extends Table>(table: T, rows: Partial<Record<keyof T["_"]["columns"], unknown>>[]): { sql: string; values: unknown[] } {
  const first = rows[0];
  if (!first) throw new Error("insertRows: no rows");
  const shape = shapeOf(table);
  const keys = Object.keys(first).filter((k) => first[k as keyof typeof first] !== undefined);
  const columns = keys.map((k) => {
    const c = shape.byKey.get(k);
    if (!c) throw new Error(`insertRows: ${shape.name} has no column ${k}`);
    return c;
  });
  const tuple = `(${keys.map(() => "?").join(", ")})`;
  const values: unknown[] = [];
  for (const row of rows) {
    keys.forEach((k, i) => {
      const v = row[k as keyof typeof row];
      values.push(v === undefined || v === null ? null : columns[i]!.mapToDriverValue(v));
    });
  }
  return {
    sql: `INSERT INTO \`${shape.name}\` (${columns.map((c) => `\`${c.name}\``).join(", ")}) VALUES ${Array(rows.length).fill(tuple).join(", ")}`,
    values,
  };
}

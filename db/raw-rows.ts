// Plain-SQL reads and writes for the delivery path, which runs once per message: drizzle's query
// builder re-derives SQL text and column mappings on every call, and in the end-to-end profile
// that was about an eighth of the isolate's CPU (bench/profile.mjs). Column lists and value mappings still
// come from the drizzle schema, so names live in one place; only the statement text is written
// by hand.
import { getTableColumns, getTableName, type Table } from "drizzle-orm";

interface DriverColumn {
  name: string;
  mapFromDriverValue(v: unknown): unknown;
}

interface TableShape {
  list: string;
  fields: [key: string, column: DriverColumn][];
}

const shapes = new WeakMap<Table, TableShape>();

function shapeOf(table: Table): TableShape {
  let s = shapes.get(table);
  if (!s) {
    const fields = Object.entries(getTableColumns(table)) as unknown as [string, DriverColumn][];
    s = { fields, list: fields.map(([, c]) => `"${getTableName(table)}"."${c.name}"`).join(", ") };
    shapes.set(table, s);
  }
  return s;
}

/** Every column of `table`, qualified, for SELECT or RETURNING. */
export const columnList = (table: Table): string => shapeOf(table).list;

/** A D1 result row (keys are column names) as drizzle's select row for `table` (json parsed, booleans as booleans). */
export function mapRow<T extends Table>(table: T, row: Record<string, unknown>): T["$inferSelect"] {
  const out: Record<string, unknown> = {};
  for (const [key, column] of shapeOf(table).fields) {
    const v = row[column.name];
    out[key] = v === null || v === undefined ? null : column.mapFromDriverValue(v);
  }
  return out as T["$inferSelect"];
}

export const mapRows = <T extends Table>(table: T, result: D1Result | undefined): T["$inferSelect"][] =>
  ((result?.results ?? []) as Record<string, unknown>[]).map((r) => mapRow(table, r));

/** A drizzle query as a D1 statement, for the rare statements that join a plain batch. */
export function toStatement(d1: D1Database, query: { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const { sql, params } = query.toSQL();
  return d1.prepare(sql).bind(...params);
}

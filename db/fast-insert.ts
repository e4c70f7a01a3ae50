// Hot-path inserts as plain D1 prepared statements. drizzle's insert builder re-derives the
// column mapping and rebuilds the SQL text on every call; in the accept benchmark that was about
// a tenth of the request's CPU. Here the SQL for a (table, columns, row count) shape is built
// once per isolate from the same drizzle schema (names and value mapping stay in one place), and
// each call only binds values.
import { getTableColumns, getTableName, type Table } from "drizzle-orm";

interface Shape {
  sql: string;
  names: string[];
}

const shapes = new Map<string, Shape>();

/**
 * INSERT of `rows` (all with the same keys, in the same order) into `table`. Values go through
 * each column's driver mapping (json → text, boolean → 0/1). `conflict: "ignore"` adds
 * ON CONFLICT DO NOTHING.
 */
export function insertRows<T extends Table>(
  d1: D1Database,
  table: T,
  rows: Partial<Record<keyof T["_"]["columns"], unknown>>[],
  conflict?: "ignore",
): D1PreparedStatement {
  const first = rows[0];
  if (!first) throw new Error("insertRows: no rows");
  // Undefined means "the column's default", as with drizzle: such keys are left out.
  const keys = Object.keys(first).filter((k) => first[k as keyof typeof first] !== undefined);
  const columns = getTableColumns(table) as Record<string, { name: string; mapToDriverValue(v: unknown): unknown }>;
  const id = `${getTableName(table)}|${keys.join(",")}|${rows.length}|${conflict ?? ""}`;
  let shape = shapes.get(id);
  if (!shape) {
    const names = keys.map((k) => {
      const c = columns[k];
      if (!c) throw new Error(`insertRows: ${getTableName(table)} has no column ${k}`);
      return c.name;
    });
    const tuple = `(${keys.map(() => "?").join(", ")})`;
    shape = {
      names,
      sql: `INSERT INTO "${getTableName(table)}" (${names.map((n) => `"${n}"`).join(", ")}) VALUES ${Array(rows.length).fill(tuple).join(", ")}${conflict === "ignore" ? " ON CONFLICT DO NOTHING" : ""}`,
    };
    if (shapes.size > 500) shapes.clear();
    shapes.set(id, shape);
  }
  const params: unknown[] = [];
  for (const row of rows) {
    for (const k of keys) {
      const v = row[k as keyof typeof row];
      params.push(v === undefined || v === null ? null : columns[k]!.mapToDriverValue(v));
    }
  }
  return d1.prepare(shape.sql).bind(...params);
}

/** Splits rows into runs with the same defined keys, so each run can be one statement's shape. */
export function byShape<R extends object>(rows: R[]): R[][] {
  const groups = new Map<string, R[]>();
  for (const row of rows) {
    const sig = Object.entries(row)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k)
      .join(",");
    const g = groups.get(sig);
    if (g) g.push(row);
    else groups.set(sig, [row]);
  }
  return [...groups.values()];
}

/** Splits items into runs of at most `size` (D1 caps bound parameters per statement at 100). */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

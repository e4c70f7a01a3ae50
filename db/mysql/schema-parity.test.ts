// The MySQL schema is the D1 schema in MySQL types: the same tables, columns (nullability,
// defaults), primary keys, foreign keys, indexes and unique constraints. A column or index added
// to one schema and not the other fails here, without a MySQL server (this runs with the D1
// suite). The only differences are the ones db/mysql/schema/index.ts lists.
import { is, SQL, type Column } from "drizzle-orm";
import { getTableConfig as mysqlConfig, MySqlTable } from "drizzle-orm/mysql-core";
import { getTableConfig as sqliteConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as d1 from "../schema";
import * as mysql from "./schema";

/** Columns MySQL computes in place of SQLite's partial and expression indexes. */
const GENERATED = new Set(["sender_domains.verified_domain", "recipients.email_lower"]);
/** Index columns that differ on purpose: what each one is on MySQL. */
const INDEX_COLUMNS: Record<string, string[]> = {
  sender_domains_verified_domain: ["verified_domain"], // SQLite: domain WHERE verified_at IS NOT NULL
  recipients_workspace_email_lower: ["workspace_id", "email_lower"], // SQLite: (workspace_id, lower(email))
  message_recipients_sending_lease: ["status", "lease_until"], // SQLite: lease_until WHERE status = 'sending'
};

interface Shape {
  columns: Record<string, { notNull: boolean; hasDefault: boolean; unique: boolean }>;
  primaryKey: string[];
  foreignKeys: string[];
  indexes: Record<string, { unique: boolean; columns: string[] }>;
}

const columnName = (c: Column | SQL): string => (is(c, SQL) ? "<expression>" : c.name);

function shape(config: ReturnType<typeof sqliteConfig> | ReturnType<typeof mysqlConfig>, table: string, generated: Set<string>): Shape {
  const columns: Shape["columns"] = {};
  for (const c of config.columns) {
    if (generated.has(`${table}.${c.name}`)) continue;
    columns[c.name] = { notNull: c.notNull, hasDefault: c.hasDefault, unique: c.isUnique };
  }
  const primaryKey = [...config.columns.filter((c) => c.primary).map((c) => c.name), ...config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name))].sort();
  const foreignKeys = config.foreignKeys
    .map((fk) => {
      const r = fk.reference();
      return `${r.columns.map((c) => c.name).join(",")} -> ${getName(r.foreignTable)}(${r.foreignColumns.map((c) => c.name).join(",")}) on delete ${fk.onDelete ?? "no action"}`;
    })
    .sort();
  const indexes: Shape["indexes"] = {};
  for (const i of config.indexes) {
    const name = i.config.name;
    indexes[name] = { unique: i.config.unique ?? false, columns: INDEX_COLUMNS[name] ?? i.config.columns.map((c) => columnName(c as Column | SQL)) };
  }
  return { columns, primaryKey, foreignKeys, indexes };
}

const getName = (t: SQLiteTable | MySqlTable): string => (is(t, SQLiteTable) ? sqliteConfig(t).name : mysqlConfig(t as MySqlTable).name);

const d1Tables = Object.values(d1 as Record<string, unknown>).filter((v): v is SQLiteTable => is(v, SQLiteTable));
const mysqlTables = new Map(
  Object.values(mysql as Record<string, unknown>)
    .filter((v): v is MySqlTable => is(v, MySqlTable))
    .map((t) => [mysqlConfig(t).name, t]),
);

describe("the MySQL schema mirrors the D1 schema", () => {
  it("has the same tables", () => {
    expect([...mysqlTables.keys()].sort()).toEqual(d1Tables.map((t) => sqliteConfig(t).name).sort());
  });

  for (const table of d1Tables) {
    const name = sqliteConfig(table).name;
    it(name, () => {
      const twin = mysqlTables.get(name);
      expect(twin, `no MySQL table ${name}`).toBeDefined();
      const expected = shape(sqliteConfig(table), name, new Set());
      const actual = shape(mysqlConfig(twin!), name, GENERATED);
      // SQLite's expression index is compared by its MySQL columns (INDEX_COLUMNS).
      expect(actual).toEqual(expected);
    });
  }

  it("computes the generated columns, never takes them as input", () => {
    for (const key of GENERATED) {
      const [table, column] = key.split(".") as [string, string];
      const c = mysqlConfig(mysqlTables.get(table)!).columns.find((x) => x.name === column);
      expect(c?.generated, key).toBeDefined();
    }
  });
});

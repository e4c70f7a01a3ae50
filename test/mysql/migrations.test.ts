// The MySQL migrations, applied through the Hyperdrive binding inside workerd (test/mysql/setup.ts).
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { applyMysqlMigrations } from "../../db/mysql/migrate";
import { connect, rows } from "./helpers";

it("made every table of the schema, utf8mb4 with the binary collation", async () => {
  const conn = await connect();
  const tables = await rows<{ name: string; collation: string }>(
    conn,
    `SELECT table_name AS name, table_collation AS collation FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`,
  );
  const names = tables.map((t) => t.name);
  expect(names).toContain("messages");
  expect(names).toContain("audit_logs");
  expect(names.length).toBe(32); // 31 tables of the D1 schema + __drizzle_migrations
  for (const t of tables) if (t.name !== "__drizzle_migrations") expect(t.collation, t.name).toBe("utf8mb4_bin");
});

it("applies nothing a second time", async () => {
  const conn = await connect();
  const again = await applyMysqlMigrations(conn, env.TEST_MYSQL_MIGRATIONS);
  expect(again.applied).toEqual([]);
  expect([again.charset, again.collation]).toEqual(["utf8mb4", "utf8mb4_bin"]);
  const recorded = await rows<{ hash: string }>(conn, `SELECT hash FROM __drizzle_migrations ORDER BY created_at`);
  expect(recorded.map((r) => r.hash)).toEqual(env.TEST_MYSQL_MIGRATIONS.map((m) => m.hash));
});

// The conformance suite's Seeder on D1: test/store/sql-seeder.ts's statements on the binding.
import { sqlSeeder } from "./sql-seeder";
import type { Seeder } from "./seeder";

export function d1Seeder(d1: D1Database): Seeder {
  return sqlSeeder({
    all: async (sql, values = []) => (await d1.prepare(sql).bind(...values).all<Record<string, unknown>>()).results,
    run: async (sql, values = []) => void (await d1.prepare(sql).bind(...values).run()),
  });
}

// The conformance suite's Seeder on D1: test/store/sql-seeder.ts's statements on the binding.
import { sqlSeeder, type SqlExec } from "./sql-seeder";
import type { Seeder } from "./seeder";

/** Plain SQL on the binding, for what a group's cases write or read behind the store's back. */
export function d1Exec(d1: D1Database): SqlExec {
  return {
    all: async (sql, values = []) => (await d1.prepare(sql).bind(...values).all<Record<string, unknown>>()).results,
    run: async (sql, values = []) => void (await d1.prepare(sql).bind(...values).run()),
  };
}

export const d1Seeder = (d1: D1Database): Seeder => sqlSeeder(d1Exec(d1));

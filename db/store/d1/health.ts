// The health group (db/store/health.ts) on D1.
import type { Db } from "../../client";
import type { HealthStore } from "../health";

export function d1Health(_db: Db): HealthStore {
  return {};
}

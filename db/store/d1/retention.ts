// The retention group (db/store/retention.ts) on D1.
import type { Db } from "../../client";
import type { RetentionStore } from "../retention";

export function d1Retention(_db: Db): RetentionStore {
  return {};
}

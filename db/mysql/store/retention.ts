// The retention group (db/store/retention.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/retention.ts).
import type { RetentionStore } from "../../store/retention";
import type { Runner } from "./sql";

export function mysqlRetention(_db: Runner): RetentionStore {
  return {};
}

// The audit group (db/store/audit.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/audit.ts).
import type { AuditStore } from "../../store/audit";
import type { Runner } from "./sql";

export function mysqlAudit(_db: Runner): AuditStore {
  return {};
}

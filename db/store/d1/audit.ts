// The audit group (db/store/audit.ts) on D1.
import type { Db } from "../../client";
import type { AuditStore } from "../audit";

export function d1Audit(_db: Db): AuditStore {
  return {};
}

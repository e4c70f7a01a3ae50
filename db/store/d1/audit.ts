// The audit group (db/store/audit.ts) on D1: db/audit.ts, unchanged.
import { insertAudit, listAudit } from "../../audit";
import type { Db } from "../../client";
import type { AuditStore } from "../audit";

export function d1Audit(db: Db): AuditStore {
  return {
    append: ({ id, ...row }) => insertAudit(db, row, id),
    list: (ws, q) => listAudit(db, ws, q),
  };
}

// The accept group (db/store/accept.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/accept.ts).
import type { AcceptStore } from "../../store/accept";
import type { Runner } from "./sql";

export function mysqlAccept(_db: Runner): AcceptStore {
  return {};
}

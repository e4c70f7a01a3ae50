// The inbound group (db/store/inbound.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/inbound.ts).
import type { InboundStore } from "../../store/inbound";
import type { Runner } from "./sql";

export function mysqlInbound(_db: Runner): InboundStore {
  return {};
}

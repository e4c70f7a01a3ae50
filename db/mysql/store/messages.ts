// The messages group (db/store/messages.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/messages.ts).
import type { MessageStore } from "../../store/messages";
import type { Runner } from "./sql";

export function mysqlMessage(_db: Runner): MessageStore {
  return {};
}

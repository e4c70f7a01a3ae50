// The recipients group (db/store/recipients.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/recipients.ts).
import type { RecipientStore } from "../../store/recipients";
import type { Runner } from "./sql";

export function mysqlRecipient(_db: Runner): RecipientStore {
  return {};
}

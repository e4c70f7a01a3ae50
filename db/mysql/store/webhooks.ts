// The webhooks group (db/store/webhooks.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/webhooks.ts).
import type { WebhookStore } from "../../store/webhooks";
import type { Runner } from "./sql";

export function mysqlWebhook(_db: Runner): WebhookStore {
  return {};
}

// The webhooks group (db/store/webhooks.ts) on D1.
import type { Db } from "../../client";
import type { WebhookStore } from "../webhooks";

export function d1Webhook(_db: Db): WebhookStore {
  return {};
}

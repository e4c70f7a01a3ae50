// The recipients group (db/store/recipients.ts) on D1.
import type { Db } from "../../client";
import type { RecipientStore } from "../recipients";

export function d1Recipient(_db: Db): RecipientStore {
  return {};
}

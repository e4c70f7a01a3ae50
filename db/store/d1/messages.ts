// The messages group (db/store/messages.ts) on D1.
import type { Db } from "../../client";
import type { MessageStore } from "../messages";

export function d1Message(_db: Db): MessageStore {
  return {};
}

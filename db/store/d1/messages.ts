// The messages group (db/store/messages.ts) on D1: db/messages/read.ts and end-pending.ts.
import type { Db } from "../../client";
import { cancelMessage } from "../../messages/end-pending";
import { getMessageDetail, listMessages } from "../../messages/read";
import type { MessageStore } from "../messages";

export function d1Message(db: Db): MessageStore {
  return {
    message: (ws, id) => getMessageDetail(db, ws, id),
    list: (ws, f) => listMessages(db, ws, f),
    cancel: (ws, id, at) => cancelMessage(db, ws, id, at),
  };
}

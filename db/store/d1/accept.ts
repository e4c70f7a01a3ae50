// The accept group (db/store/accept.ts) on D1.
import type { Db } from "../../client";
import type { AcceptStore } from "../accept";

export function d1Accept(_db: Db): AcceptStore {
  return {};
}

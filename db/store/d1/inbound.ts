// The inbound group (db/store/inbound.ts) on D1.
import type { Db } from "../../client";
import type { InboundStore } from "../inbound";

export function d1Inbound(_db: Db): InboundStore {
  return {};
}

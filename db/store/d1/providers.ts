// The providers group (db/store/providers.ts) on D1.
import type { Db } from "../../client";
import type { ProviderStore } from "../providers";

export function d1Provider(_db: Db): ProviderStore {
  return {};
}

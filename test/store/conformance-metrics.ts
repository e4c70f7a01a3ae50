// The store conformance suite's metrics cases (db/store/metrics.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function metricsConformance(_backend: BackendFactory): void {}

// The store conformance suite's health cases (db/store/health.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function healthConformance(_backend: BackendFactory): void {}

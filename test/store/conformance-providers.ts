// The store conformance suite's providers cases (db/store/providers.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function providersConformance(_backend: BackendFactory): void {}

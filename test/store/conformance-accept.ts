// The store conformance suite's accept cases (db/store/accept.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function acceptConformance(_backend: BackendFactory): void {}

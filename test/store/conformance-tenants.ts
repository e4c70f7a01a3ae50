// The store conformance suite's tenants cases (db/store/tenants.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function tenantsConformance(_backend: BackendFactory): void {}

// The store conformance suite's inbound cases (db/store/inbound.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function inboundConformance(_backend: BackendFactory): void {}

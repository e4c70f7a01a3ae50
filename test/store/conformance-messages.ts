// The store conformance suite's messages cases (db/store/messages.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function messagesConformance(_backend: BackendFactory): void {}

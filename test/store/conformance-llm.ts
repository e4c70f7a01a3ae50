// The store conformance suite's llm cases (db/store/llm.ts), run against every backend.
import type { BackendFactory } from "./conformance-support";

export function llmConformance(_backend: BackendFactory): void {}

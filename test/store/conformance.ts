// The store conformance suite: written once against the Store interface (db/store/store.ts), run
// against every adapter: test/store/d1.test.ts (D1, vitest.config.ts) and test/mysql/store.test.ts
// (MySQL through Hyperdrive, vitest.mysql.config.ts). No assertion knows which backend it runs on;
// the backend supplies a store and a Seeder (test/store/seeder.ts) that writes the rows to work on
// and reads back what the store wrote.
import { describe } from "vitest";
import { claimConformance } from "./conformance-claims";
import { outboxConformance } from "./conformance-outbox";
import { recordConformance } from "./conformance-record";
import type { Backend, BackendFactory } from "./conformance-support";
import { tenancyConformance } from "./conformance-tenancy";

export type { Backend, BackendFactory };

/**
 * Registers the suite. `backend` is called once per test, and once per concurrent caller in the
 * concurrency cases (20 claimers, 5 releasers): each call must give a store of its own (on MySQL,
 * its own connection), as each queue invocation has.
 */
export function storeConformance(name: string, backend: BackendFactory): void {
  describe(`store conformance: ${name}`, { timeout: 30_000 }, () => {
    claimConformance(backend);
    recordConformance(backend);
    outboxConformance(backend);
    tenancyConformance(backend);
  });
}

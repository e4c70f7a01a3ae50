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
import { acceptConformance } from "./conformance-accept";
import { messagesConformance } from "./conformance-messages";
import { tenantsConformance } from "./conformance-tenants";
import { auditConformance } from "./conformance-audit";
import { recipientsConformance } from "./conformance-recipients";
import { campaignsConformance } from "./conformance-campaigns";
import { providersConformance } from "./conformance-providers";
import { healthConformance } from "./conformance-health";
import { llmConformance } from "./conformance-llm";
import { webhooksConformance } from "./conformance-webhooks";
import { inboundConformance } from "./conformance-inbound";
import { metricsConformance } from "./conformance-metrics";
import { retentionConformance } from "./conformance-retention";

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
    acceptConformance(backend);
    messagesConformance(backend);
    tenantsConformance(backend);
    auditConformance(backend);
    recipientsConformance(backend);
    campaignsConformance(backend);
    providersConformance(backend);
    healthConformance(backend);
    llmConformance(backend);
    webhooksConformance(backend);
    inboundConformance(backend);
    metricsConformance(backend);
    retentionConformance(backend);
  });
}

// The accept group (db/store/accept.ts) on MySQL: exactly the D1 adapter's meaning
// (db/store/d1/accept.ts; db/send-settings.ts, db/suppressions.ts, db/sender-domains.ts,
// db/inbound.ts and db/message-id-generations.ts are the specification). The one write is in
// accept-write.ts. Every read here gates a write, so it goes to the primary (the store's own
// connection; no replica is involved).
import { and, asc, eq, gt, inArray, isNotNull, lt, ne, or } from "drizzle-orm";
import { campaigns, idempotencyKeys, providers, recipients, senderDomains, webhookEndpoints, workspaces, workspaceSecurity } from "../schema";
import { domainAndParents } from "../../sender-domains";
import type { SendSettingsRows } from "../../send-settings";
import type { AcceptStore } from "../../store/accept";
import type { GenerationAnswer } from "../../../core/resubmission";
import { insertMessage } from "./accept-write";
import type { Orm, Runner } from "./sql";

export function mysqlAccept(db: Runner): AcceptStore {
  return {
    // One transaction: one snapshot of the five reads, as D1's batch.
    sendSettings: (ws) => db.tx((q) => sendSettings(q.orm, ws)),
    suppressed: (ws, emails) =>
      db.run((q) =>
        q.orm
          .select({ email: recipients.email, status: recipients.status })
          .from(recipients)
          // email_lower is the stored generated column behind D1's (workspace_id, lower(email)) index.
          .where(and(eq(recipients.workspaceId, ws), ne(recipients.status, "active"), inArray(recipients.emailLower, emails.length ? emails.map((e) => e.toLowerCase()) : [""]))),
      ),
    campaignStatus: (ws, id) =>
      db.run(async (q) => {
        const [row] = await q.orm
          .select({ status: campaigns.status })
          .from(campaigns)
          .where(and(eq(campaigns.workspaceId, ws), eq(campaigns.id, id)))
          .limit(1);
        return row?.status;
      }),
    unclaimedDomains: (domains) =>
      db.run(async (q) => {
        if (domains.length === 0) return [];
        const names = [...new Set(domains.flatMap(domainAndParents))];
        const claimed = await q.orm
          .select({ domain: senderDomains.domain })
          .from(senderDomains)
          .where(and(inArray(senderDomains.domain, names), isNotNull(senderDomains.verifiedAt)));
        const taken = new Set(claimed.map((r) => r.domain));
        return domains.filter((d) => !domainAndParents(d).some((n) => taken.has(n)));
      }),
    inboundWorkspaces: (domain, defaultSlug) =>
      db.tx(async (q) => {
        const columns = { workspaceId: workspaces.id, slug: workspaces.slug, status: workspaces.status };
        const [owner] = await q.orm
          .select(columns)
          .from(senderDomains)
          .innerJoin(workspaces, eq(workspaces.id, senderDomains.workspaceId))
          .where(and(eq(senderDomains.domain, domain.toLowerCase()), isNotNull(senderDomains.verifiedAt)))
          .limit(1);
        const [fallback] = defaultSlug === null ? [] : await q.orm.select(columns).from(workspaces).where(eq(workspaces.slug, defaultSlug)).limit(1);
        return { owner, fallback };
      }),
    insertMessage: (ws, m) => insertMessage(db, ws, m),
    idempotencyRecord: (ws, key) =>
      db.run(async (q) => {
        const [row] = await q.orm
          .select()
          .from(idempotencyKeys)
          .where(and(eq(idempotencyKeys.workspaceId, ws), eq(idempotencyKeys.key, key)))
          .limit(1);
        return row;
      }),
    messageIdGenerations: (ws, base) =>
      db.run(async (q) => {
        // "#" + 1 is "$": under utf8mb4_bin every `base#…` key sorts strictly between `base#` and `base$`.
        const rows = await q.orm
          .select({ key: idempotencyKeys.key, requestHash: idempotencyKeys.requestHash, responseBody: idempotencyKeys.responseBody })
          .from(idempotencyKeys)
          .where(and(eq(idempotencyKeys.workspaceId, ws), or(eq(idempotencyKeys.key, base), and(gt(idempotencyKeys.key, `${base}#`), lt(idempotencyKeys.key, `${base}$`)))));
        return rows.map((r) => ({ key: r.key, contentHash: r.requestHash, answer: JSON.parse(r.responseBody) as GenerationAnswer }));
      }),
  };
}

async function sendSettings(orm: Orm, workspaceId: string): Promise<SendSettingsRows> {
  // An enabled provider in routing order: any at all lets the accept path pass "no provider".
  const providerRows = await orm
    .select({ id: providers.id })
    .from(providers)
    .where(and(eq(providers.workspaceId, workspaceId), eq(providers.status, "enabled")))
    .orderBy(asc(providers.priority), asc(providers.createdAt))
    .limit(1);
  const [dlp] = await orm.select({ dlp: workspaceSecurity.dlp }).from(workspaceSecurity).where(eq(workspaceSecurity.workspaceId, workspaceId)).limit(1);
  const [settings] = await orm.select({ configuration: workspaces.configuration }).from(workspaces).where(eq(workspaces.id, workspaceId)).limit(1);
  const endpoints = await orm
    .select({ events: webhookEndpoints.events })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.enabled, true)));
  const domains = await orm
    .select({ domain: senderDomains.domain })
    .from(senderDomains)
    .where(and(eq(senderDomains.workspaceId, workspaceId), isNotNull(senderDomains.verifiedAt)))
    .limit(5000);
  return {
    hasProvider: providerRows.length > 0,
    dlp: dlp?.dlp,
    configuration: settings?.configuration,
    endpointEvents: endpoints.map((e) => e.events),
    verifiedDomains: domains.map((d) => d.domain),
  };
}

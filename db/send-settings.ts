// What the accept path reads about a workspace before it stores a message, in one D1 batch:
// whether it has an enabled provider, its DLP policy, its settings, the events its enabled webhook
// endpoints subscribe to, and its verified sender domains (workers/send-settings.ts caches the
// answer per isolate for a few seconds).
import { and, asc, eq, isNotNull } from "drizzle-orm";
import type { Db } from "./client";
import { providers, senderDomains, webhookEndpoints, workspaces, workspaceSecurity } from "./schema";

export interface SendSettingsRows {
  hasProvider: boolean;
  /** workspace_security.dlp, unparsed (undefined: no row). */
  dlp: unknown;
  /** workspaces.configuration, unparsed (undefined: no row). */
  configuration: unknown;
  /** Each enabled endpoint's subscribed event names. */
  endpointEvents: string[][];
  /** Verified sender domains, as stored. */
  verifiedDomains: string[];
}

export async function readSendSettings(db: Db, workspaceId: string): Promise<SendSettingsRows> {
  const [providerRows, dlpRows, settingsRows, endpointRows, domainRows] = await db.batch([
    // An enabled provider in routing order: any at all lets the accept path pass "no provider".
    db
      .select()
      .from(providers)
      .where(and(eq(providers.workspaceId, workspaceId), eq(providers.status, "enabled")))
      .orderBy(asc(providers.priority), asc(providers.createdAt))
      .limit(1),
    db.select({ dlp: workspaceSecurity.dlp }).from(workspaceSecurity).where(eq(workspaceSecurity.workspaceId, workspaceId)).limit(1),
    db.select({ configuration: workspaces.configuration }).from(workspaces).where(eq(workspaces.id, workspaceId)).limit(1),
    // Whether anyone wants message.queued, without another round trip.
    db
      .select({ events: webhookEndpoints.events })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.enabled, true))),
    db
      .select({ domain: senderDomains.domain })
      .from(senderDomains)
      .where(and(eq(senderDomains.workspaceId, workspaceId), isNotNull(senderDomains.verifiedAt)))
      .limit(5000),
  ]);
  return {
    hasProvider: providerRows.length > 0,
    dlp: dlpRows[0]?.dlp,
    configuration: settingsRows[0]?.configuration,
    endpointEvents: endpointRows.map((e) => e.events),
    verifiedDomains: domainRows.map((d) => d.domain),
  };
}

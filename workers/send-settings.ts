// What the accept path needs to know about a workspace before it stores a message: whether it
// has a provider, its verified sender domains, DLP policy, settings and webhook subscriptions.
// Read in one D1 batch and kept per isolate for a few seconds (workers/isolate-cache.ts), so a
// burst of messages from one workspace costs one read, not one per message.
import { parseWorkspaceConfig, type WorkspaceConfig } from "../core/workspace-config";
import type { Db } from "../db/client";
import { enabledProvidersQuery } from "../db/providers";
import { verifiedDomainsQuery } from "../db/sender-domains";
import { endpointEventsQuery } from "../db/webhooks";
import { dlpPolicyQuery } from "../db/workspace-security";
import { workspaceConfigQuery } from "../db/workspaces";
import { IsolateCache } from "./isolate-cache";

export interface SendSettings {
  hasProvider: boolean;
  verifiedDomains: Set<string>;
  dlp: unknown;
  config: WorkspaceConfig;
  /** Event names any enabled webhook endpoint subscribes to ("*" for all). */
  subscribedEvents: Set<string>;
}

const cache = new IsolateCache<SendSettings>(5_000, 1_000);

export function sendSettings(db: Db, workspaceId: string, now: number): Promise<SendSettings> {
  return cache.read(workspaceId, now, async () => {
    const [providerRows, dlpRows, settingsRows, endpointRows, domainRows] = await db.batch([
      enabledProvidersQuery(db, workspaceId).limit(1),
      dlpPolicyQuery(db, workspaceId),
      workspaceConfigQuery(db, workspaceId),
      endpointEventsQuery(db, workspaceId),
      verifiedDomainsQuery(db, workspaceId),
    ]);
    return {
      hasProvider: providerRows.length > 0,
      verifiedDomains: new Set(domainRows.map((d) => d.domain.toLowerCase())),
      dlp: dlpRows[0]?.dlp,
      config: parseWorkspaceConfig(settingsRows[0]?.configuration),
      subscribedEvents: new Set(endpointRows.flatMap((e) => e.events)),
    };
  });
}

export const subscribes = (s: SendSettings, event: string) => s.subscribedEvents.has("*") || s.subscribedEvents.has(event);

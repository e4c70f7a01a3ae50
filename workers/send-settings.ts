// What the accept path needs to know about a workspace before it stores a message: whether it
// has a provider, its verified sender domains, DLP policy, settings and webhook subscriptions.
// Read in one operation of the store (one D1 batch) and kept per isolate for a few seconds
// (workers/isolate-cache.ts), so a burst of messages from one workspace costs one read, not one
// per message.
import { parseWorkspaceConfig, type WorkspaceConfig } from "../core/workspace-config";
import type { Store } from "../db/store/store";
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

/** The workspace's send settings (one store operation), cached for a few seconds per isolate. */
export function sendSettings({ accept }: Pick<Store, "accept">, workspaceId: string, now: number): Promise<SendSettings> {
  return cache.read(workspaceId, now, async () => {
    const rows = await accept.sendSettings(workspaceId);
    return {
      hasProvider: rows.hasProvider,
      verifiedDomains: new Set(rows.verifiedDomains.map((d) => d.toLowerCase())),
      dlp: rows.dlp,
      config: parseWorkspaceConfig(rows.configuration),
      subscribedEvents: new Set(rows.endpointEvents.flat()),
    };
  });
}

export const subscribes = (s: SendSettings, event: string) => s.subscribedEvents.has("*") || s.subscribedEvents.has(event);

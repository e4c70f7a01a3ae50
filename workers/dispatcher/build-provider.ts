// A provider row made into a client, for delivery (pipeline.ts), the health checks and the
// delivery test endpoint. On its own so the health checks, which routing asks, do not import the
// pipeline that imports routing (no cycle).
import { credentialsAad, decryptText, type Keyring } from "../../core/crypto";
import { storeRendered } from "../../db/body-store";
import type { ProviderRow } from "../../db/providers";
import { IsolateCache } from "../isolate-cache";
import { providerType } from "./providers/registry";
import type { Provider } from "./providers/types";

// Built providers per isolate, by row version: decrypting credentials and constructing the
// client (the Gmail token cache, the SMTP settings) once a minute instead of once per message. A
// changed provider row has a new updatedAt, so it is never served stale.
const builtProviders = new IsolateCache<Provider>(60_000, 500);

export async function buildProvider(env: Env, ring: Keyring, row: ProviderRow): Promise<Provider> {
  return builtProviders.read(`${row.id}:${row.updatedAt}:${ring.currentKeyId}`, Date.now(), async () => {
    const credentials = row.credentialsEnc
      ? JSON.parse(await decryptText(ring, row.credentialsEnc, credentialsAad(row.workspaceId, row.id)))
      : {};
    return providerType(row.type).build(row.config, credentials, {
      storeRendered: (messageId, raw) => storeRendered(env.BODIES, ring, row.workspaceId, messageId, raw),
      owner: `${row.workspaceId}/${row.id}`,
    });
  });
}

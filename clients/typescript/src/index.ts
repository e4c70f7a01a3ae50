// The Relay API client: openapi-fetch over the types generated from /openapi.json (schema.d.ts,
// written by `npm run client:generate` in the relay's repository; do not edit it by hand). Every
// path, parameter, request body and response is typed from the document, so a call that does not
// match the API does not compile. Works wherever `fetch` does: Workers, Node ≥ 18, browsers.
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, operations, paths, webhooks } from "./schema";

export type { components, operations, paths, webhooks };
/** A named schema of the document, e.g. `Schema<"Error">`. */
export type Schema<N extends keyof components["schemas"]> = components["schemas"][N];
export type RelayClient = Client<paths>;

export interface RelayClientOptions {
  /** Where the relay answers, e.g. `https://relay.example.org` (no trailing `/v1`). */
  baseUrl: string;
  /** A workspace API key (or a JWT from the workspace's trusted issuer); sent as `Authorization: Bearer …`. */
  apiKey: string;
  /** Another `fetch` (a Worker's service binding, a test's router); the global one by default. */
  fetch?: (input: Request) => Promise<Response>;
  /** Headers sent with every request besides the credential. */
  headers?: Record<string, string>;
}

export function createRelayClient({ baseUrl, apiKey, fetch, headers }: RelayClientOptions): RelayClient {
  const options: ClientOptions = {
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { ...headers, Authorization: `Bearer ${apiKey}` },
  };
  if (fetch) options.fetch = fetch;
  return createClient<paths>(options);
}

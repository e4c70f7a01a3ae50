// What many operations share, described once in the document's `components` and referenced from
// each operation (issue 27): the page parameters (`limit`, `cursor`), the `Idempotency-Key`
// header of the send routes and the `Relay-Bookmark` header every answer carries and a request
// may send back (workers/api/middleware/database.ts, docs/storage.md section 4). app.ts registers
// them in the document; route() and signedRoute() reference the bookmark from every operation.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ZodType } from "zod";
import { BOOKMARK_HEADER } from "./middleware/database";

const parameters = new Map<string, ZodType>();

/**
 * A query or header parameter that becomes `#/components/parameters/<refId>` wherever it is used.
 * The schema carries the same refId and its `param` (`.openapi(refId, { param: { name, in } })`):
 * zod-to-openapi references a parameter by that refId, and its name must be the key it is used under.
 */
export function sharedParameter<T extends ZodType>(refId: string, schema: T): T {
  const known = parameters.get(refId);
  if (known) return known as T;
  parameters.set(refId, schema);
  return schema;
}

const BOOKMARK_DESCRIPTION =
  "D1 read replication. Send `first-primary`, then on each request the last bookmark an answer gave you: a read replica " +
  "serves you only if it is at least that new, so you see what you wrote. A request without the header is served by " +
  "the primary and its answer carries no bookmark. Opaque; a value this API did not return is a 400. Absent when the " +
  "relay's store is MySQL.";

export const BOOKMARK_PARAMETER_REF = { $ref: "#/components/parameters/RelayBookmark" } as const;
export const BOOKMARK_HEADER_REF = { $ref: "#/components/headers/RelayBookmark" } as const;

type Registry = OpenAPIHono["openAPIRegistry"];

export function registerSharedComponents(registry: Registry) {
  for (const [refId, schema] of parameters) registry.registerParameter(refId, schema);
  const schema = { type: "string", pattern: "^[0-9a-fA-F]{1,64}(-[0-9a-fA-F]{1,64}){1,7}$", example: "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683" } as const;
  // A request may also send `first-primary` to start a session.
  const requestSchema = { type: "string", pattern: "^(first-primary|[0-9a-fA-F]{1,64}(-[0-9a-fA-F]{1,64}){1,7})$", example: schema.example } as const;
  registry.registerComponent("parameters", "RelayBookmark", { name: BOOKMARK_HEADER, in: "header", required: false, description: BOOKMARK_DESCRIPTION, schema: requestSchema });
  registry.registerComponent("headers", "RelayBookmark", { description: BOOKMARK_DESCRIPTION, schema });
}

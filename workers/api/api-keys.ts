// /v1/api-keys: a workspace admin's keys. The key is returned once; only its hash is stored.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { generateApiKey } from "../../core/api-key";
import { notFound } from "../../core/errors";
import { newId } from "../../core/ids";
import { SCOPES } from "../../core/scopes";
import type { ApiKeyRow, TenantStore } from "../../db/store/tenants";
import type { AppEnv } from "./context";
import { route } from "./route";
import { errorResponses, idParam, iso, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

export const createKeyInput = z
  .object({
    name: z.string().min(1).max(100),
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    expires_at: z
      .string()
      .datetime()
      // A key born expired is a mistake (a wrong year, a time zone slip), not a request: say so
      // instead of handing out a credential that never works.
      .refine((s) => Date.parse(s) > Date.now(), "must be in the future")
      .optional()
      .openapi({ description: "When the key stops working (ISO 8601, in the future); omit for no expiry" }),
  })
  .strict()
  .openapi("CreateApiKey");

const keySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("ApiKey");

export const keyView = (k: ApiKeyRow) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  expires_at: iso(k.expiresAt),
  revoked_at: iso(k.revokedAt),
  last_used_at: iso(k.lastUsedAt),
  created_at: iso(k.createdAt)!,
});

export const createdKeySchema = keySchema.extend({ key: z.string().openapi({ description: "Shown once; store it now" }) });

/** Shared by the workspace admin route and the platform bootstrap route. */
export async function createKey(tenants: TenantStore, workspaceId: string, input: z.infer<typeof createKeyInput>, userId: string | null = null) {
  const { key, prefix, hash } = await generateApiKey();
  const row = await tenants.createApiKey(workspaceId, {
    id: newId("key"),
    userId,
    name: input.name,
    prefix,
    keyHash: hash,
    scopes: [...new Set(input.scopes)],
    expiresAt: input.expires_at ? Date.parse(input.expires_at) : null,
  });
  return { ...keyView(row), key };
}

export const apiKeysApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

apiKeysApp.openapi(
  route({
    method: "post",
    path: "/api-keys",
    operationId: "apiKeys.create",
    summary: "Create an API key for this workspace",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: createKeyInput, example: { name: "Reminder service", scopes: ["send", "read"] } } }, required: true } },
    responses: { 201: { description: "Created", content: { "application/json": { schema: createdKeySchema } } }, ...errorResponses },
  }),
  async (c) => c.json(await createKey(c.var.store.tenants, c.var.workspaceId, c.req.valid("json")), 201),
);

apiKeysApp.openapi(
  route({
    method: "get",
    path: "/api-keys",
    operationId: "apiKeys.list",
    summary: "List this workspace's API keys (never the keys themselves)",
    auth: "admin",
    responses: { 200: { description: "Keys", content: { "application/json": { schema: z.object({ data: z.array(keySchema) }) } } }, ...errorResponses },
  }),
  async (c) => c.json({ data: (await c.var.store.tenants.listApiKeys(c.var.workspaceId)).map(keyView) }, 200),
);

apiKeysApp.openapi(
  route({
    method: "delete",
    path: "/api-keys/{id}",
    operationId: "apiKeys.revoke",
    summary: "Revoke an API key",
    auth: "admin",
    request: { params: idParam },
    responses: { 204: { description: "Revoked" }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ok = await c.var.store.tenants.revokeApiKey(c.var.workspaceId, c.req.valid("param").id, Date.now());
    if (!ok) throw notFound("API key");
    return c.body(null, 204);
  },
);

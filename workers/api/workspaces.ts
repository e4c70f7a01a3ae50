// Platform administration (the admin token from the ADMIN_TOKEN secret): create workspaces and
// bootstrap their first API key and domains. Everything inside a workspace is then managed
// with that workspace's own admin-scoped keys.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { RelayError, notFound } from "../../core/errors";
import { newId } from "../../core/ids";
import type { WorkspaceRow } from "../../db/store/tenants";
import { createdKeySchema, createKey, createKeyInput } from "./api-keys";
import type { AppEnv } from "./context";
import { route } from "./route";
import { createDomain, domainInput, domainView } from "./domains";
import { errorResponses, errorSchema, idParam, iso, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

const workspaceInput = z
  .object({
    slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "lower-case letters, digits and '-', 2-63 characters"),
    display_name: z.string().min(1).max(200),
  })
  .strict()
  .openapi("CreateWorkspace");

const workspaceSchema = z
  .object({ id: z.string(), slug: z.string(), display_name: z.string(), status: z.string(), created_at: z.string() })
  .openapi("Workspace");

const view = (w: WorkspaceRow) => ({ id: w.id, slug: w.slug, display_name: w.displayName, status: w.status, created_at: iso(w.createdAt)! });

export const workspacesApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

workspacesApp.openapi(
  route({
    method: "post",
    path: "/workspaces",
    operationId: "workspaces.create",
    summary: "Create a workspace (platform admin)",
    auth: "platform_admin",
    request: { body: { content: { "application/json": { schema: workspaceInput, example: { slug: "riverside-clinic", display_name: "Riverside Clinic" } } }, required: true } },
    responses: {
      201: { description: "Created", content: { "application/json": { schema: workspaceSchema } } },
      409: { description: "Slug taken", content: { "application/json": { schema: errorSchema } } },
      ...errorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const created = await c.var.store.tenants.platformCreateWorkspace({ id: newId("ws"), slug: input.slug, displayName: input.display_name });
    if (created.status === "duplicate") throw new RelayError("conflict", `workspace slug ${input.slug} is taken`);
    return c.json(view(created.workspace), 201);
  },
);

workspacesApp.openapi(
  route({
    method: "get",
    path: "/workspaces",
    operationId: "workspaces.list",
    summary: "List workspaces (platform admin)",
    auth: "platform_admin",
    responses: { 200: { description: "Workspaces", content: { "application/json": { schema: z.object({ data: z.array(workspaceSchema) }) } } }, ...errorResponses },
  }),
  async (c) => c.json({ data: (await c.var.store.tenants.platformListWorkspaces()).map(view) }, 200),
);

async function mustGet(c: { var: AppEnv["Variables"] }, id: string) {
  const ws = await c.var.store.tenants.workspace(id);
  if (!ws) throw notFound("workspace");
  return ws;
}

workspacesApp.openapi(
  route({
    method: "get",
    path: "/workspaces/{id}",
    operationId: "workspaces.get",
    summary: "A workspace (platform admin)",
    auth: "platform_admin",
    request: { params: idParam },
    responses: { 200: { description: "Workspace", content: { "application/json": { schema: workspaceSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => c.json(view(await mustGet(c, c.req.valid("param").id)), 200),
);

workspacesApp.openapi(
  route({
    method: "post",
    path: "/workspaces/{id}/api-keys",
    operationId: "workspaces.createApiKey",
    summary: "Mint an API key for a workspace (platform admin bootstrap)",
    auth: "platform_admin",
    request: { params: idParam, body: { content: { "application/json": { schema: createKeyInput, example: { name: "Bootstrap key", scopes: ["admin"] } } }, required: true } },
    responses: { 201: { description: "Created", content: { "application/json": { schema: createdKeySchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = await mustGet(c, c.req.valid("param").id);
    return c.json(await createKey(c.var.store.tenants, ws.id, c.req.valid("json")), 201);
  },
);

workspacesApp.openapi(
  route({
    method: "post",
    path: "/workspaces/{id}/domains",
    operationId: "workspaces.createDomain",
    summary: "Register a sender domain for a workspace, optionally already verified (platform admin)",
    auth: "platform_admin",
    request: {
      params: idParam,
      body: { content: { "application/json": { schema: z.object({ ...domainInput.shape, verified: z.boolean().default(false) }).strict(), example: { domain: "clinic.example", verified: true } } }, required: true },
    },
    responses: { 201: { description: "Registered", content: { "application/json": { schema: z.unknown() } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = await mustGet(c, c.req.valid("param").id);
    const input = c.req.valid("json");
    return c.json(domainView(await createDomain(c.var.store.providers, ws.id, input.domain, input.verified ? Date.now() : null)), 201);
  },
);

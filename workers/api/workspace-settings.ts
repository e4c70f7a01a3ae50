// /v1/workspace: the calling workspace's own settings (retry policy today; routing and limits
// join as those features land). Validated strictly on write; read back with defaults filled in.
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { notFound } from "../../core/errors";
import { parseWorkspaceConfig, workspaceConfigSchema } from "../../core/workspace-config";
import { getWorkspace, updateWorkspaceConfiguration, type WorkspaceRow } from "../../db/workspaces";
import { keyPrincipal, requireScope } from "./auth";
import type { AppEnv } from "./context";
import { errorResponses, iso } from "./schemas";
import { validationHook } from "./validation";

const settingsSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    display_name: z.string(),
    settings: z.record(z.string(), z.unknown()),
    updated_at: z.string(),
  })
  .openapi("WorkspaceSettings");

const view = (w: WorkspaceRow) => ({
  id: w.id,
  slug: w.slug,
  display_name: w.displayName,
  settings: { ...parseWorkspaceConfig(w.configuration) },
  updated_at: iso(w.updatedAt)!,
});

export const workspaceSettingsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

workspaceSettingsApp.openapi(
  createRoute({
    method: "get",
    path: "/workspace",
    summary: "This workspace and its effective settings",
    middleware: [requireScope("read")] as const,
    responses: { 200: { description: "Workspace", content: { "application/json": { schema: settingsSchema } } }, ...errorResponses },
  }),
  async (c) => {
    const ws = await getWorkspace(c.var.db, keyPrincipal(c.var.principal).workspaceId);
    if (!ws) throw notFound("workspace");
    return c.json(view(ws), 200);
  },
);

workspaceSettingsApp.openapi(
  createRoute({
    method: "patch",
    path: "/workspace",
    summary: "Change settings (each given top-level setting replaces the stored one)",
    middleware: [requireScope("admin")] as const,
    request: { body: { content: { "application/json": { schema: workspaceConfigSchema.strict() } }, required: true } },
    responses: { 200: { description: "Updated", content: { "application/json": { schema: settingsSchema } } }, ...errorResponses },
  }),
  async (c) => {
    const id = keyPrincipal(c.var.principal).workspaceId;
    const ws = await getWorkspace(c.var.db, id);
    if (!ws) throw notFound("workspace");
    const row = await updateWorkspaceConfiguration(c.var.db, id, { ...ws.configuration, ...c.req.valid("json") }, Date.now());
    return c.json(view(row!), 200);
  },
);

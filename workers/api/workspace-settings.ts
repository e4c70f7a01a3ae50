// /v1/workspace: the calling workspace's own settings. PATCH merges (core/workspace-config.ts
// says exactly how): only the keys sent change. Validated strictly on write; read back with
// defaults filled in. llm.phi_patterns also have to compile on RE2, which the schemas cannot
// check (the engine is loaded lazily; core/llm/settings.ts): the PATCH checks it after the merge.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { notFound, RelayError } from "../../core/errors";
import { llmSettingsSchema } from "../../core/llm/settings";
import { applySettingsPatch, parseWorkspaceConfig, workspaceSettingsPatchSchema } from "../../core/workspace-config";
import type { WorkspaceRow } from "../../db/store/tenants";
import { phiPatternsSaveProblem, storedLlmSettings } from "../llm/phi-patterns";
import type { AppEnv } from "./context";
import { route } from "./route";
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

// llm as delivery applies it (off when a stored phi pattern cannot be used; workers/llm/phi-patterns.ts).
const view = async (w: WorkspaceRow) => ({
  id: w.id,
  slug: w.slug,
  display_name: w.displayName,
  settings: { ...parseWorkspaceConfig(w.configuration), llm: await storedLlmSettings(w.configuration) },
  updated_at: iso(w.updatedAt)!,
});

export const workspaceSettingsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

workspaceSettingsApp.openapi(
  route({
    method: "get",
    path: "/workspace",
    operationId: "workspace.get",
    summary: "This workspace and its effective settings",
    auth: "read",
    responses: { 200: { description: "Workspace", content: { "application/json": { schema: settingsSchema } } }, ...errorResponses },
  }),
  async (c) => {
    const ws = await c.var.store.tenants.workspace(c.var.workspaceId);
    if (!ws) throw notFound("workspace");
    return c.json(await view(ws), 200);
  },
);

workspaceSettingsApp.openapi(
  route({
    method: "patch",
    path: "/workspace",
    operationId: "workspace.update",
    summary: "Change settings: only the keys sent change",
    description:
      'Merge semantics: a key not sent keeps its stored value. Nested objects merge key by key, so `{"limits":{"user_daily":5}}` changes the per-user limit and keeps `daily`, `hourly`, `time_zone` and `user_overrides`. Arrays (`routing.domain_rules`, `llm.phi_patterns`, `trending_questions.questions`) are replaced whole. An explicit `null` resets a key to its default (`{"limits":null}` resets all limits; `{"variables":{"CLINIC":null}}` removes one variable). The result is validated as a whole; a refusal changes nothing.',
    auth: "admin",
    request: { body: { content: { "application/json": { schema: workspaceSettingsPatchSchema, example: { retry_policy: { base_seconds: 60, cap_seconds: 3600 }, routing: { strategy: "priority", require_tls: true } } } }, required: true } },
    responses: { 200: { description: "Updated", content: { "application/json": { schema: settingsSchema } } }, ...errorResponses },
  }),
  async (c) => {
    const id = c.var.workspaceId;
    const ws = await c.var.store.tenants.workspace(id);
    if (!ws) throw notFound("workspace");
    const patch = c.req.valid("json");
    const result = applySettingsPatch(ws.configuration, patch);
    if (!result.ok) throw new RelayError("validation_error", `${result.field}: ${result.message}`);
    // A patch touching llm validates it whole after the merge (as applySettingsPatch does), so
    // the stored patterns it keeps are checked too.
    if (patch.llm !== undefined && result.value.llm !== undefined) {
      const problem = await phiPatternsSaveProblem(llmSettingsSchema.parse(result.value.llm));
      if (problem) throw new RelayError("validation_error", `llm.${problem.path}: ${problem.message}`);
    }
    const row = await c.var.store.tenants.updateConfiguration(id, result.value, Date.now());
    return c.json(await view(row!), 200);
  },
);

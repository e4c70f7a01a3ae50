// /v1/workspace/llm: LLM personalization settings and the endpoint's API key. The key is
// write-only (encrypted like provider credentials, never returned); the settings live in the
// workspace configuration beside the others. Changes are audited by the trail middleware, and
// the BAA declaration gets its own audit row, since it decides whether PHI may leave.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { readConfig } from "../../core/config";
import { encryptText, loadKeyring } from "../../core/crypto";
import { notFound, RelayError } from "../../core/errors";
import { llmSettingsSchema, type LlmSettings } from "../../core/llm/settings";
import type { Store } from "../../db/store/store";
import { llmApiKeyAad, utcDay } from "../llm/personalize";
import { phiPatternsSaveProblem, storedLlmSettings } from "../llm/phi-patterns";
import { actorOf, recordAudit } from "../audit";
import type { AppEnv } from "./context";
import { route } from "./route";
import { errorResponses } from "./schemas";
import { validationHook } from "./validation";

const viewSchema = llmSettingsSchema
  .extend({
    api_key_set: z.boolean().openapi({ description: "Whether an API key is stored (the key itself is never returned)" }),
    usage_today: z.object({ day: z.string(), tokens: z.number(), calls: z.number(), budget: z.number() }),
  })
  .openapi("LlmSettingsView");

// One flat object (not `.extend` of the registered LlmSettings, which the document renders as an
// allOf of two closed objects that no body could satisfy both of).
const putSchema = z
  .object({
    ...llmSettingsSchema.shape,
    api_key: z
      .string()
      .regex(/^[\x21-\x7e]{1,1000}$/, "printable ASCII without spaces, at most 1000 characters")
      .nullable()
      .optional()
      .openapi({ description: "Write-only. Omit to keep the stored key; null removes it" }),
  })
  .strict()
  .openapi("LlmSettingsInput");

const ok = { 200: { description: "The LLM settings", content: { "application/json": { schema: viewSchema } } }, ...errorResponses };

export const llmSettingsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

async function view({ tenants, llm }: Pick<Store, "tenants" | "llm">, workspaceId: string, settings: LlmSettings) {
  const day = utcDay(Date.now());
  const [apiKeySet, usage] = await Promise.all([tenants.llmApiKeySet(workspaceId), llm.usage(workspaceId, day)]);
  return { ...settings, api_key_set: apiKeySet, usage_today: { day, ...usage, budget: settings.daily_token_budget } };
}

llmSettingsApp.openapi(
  route({ method: "get", path: "/workspace/llm", operationId: "workspace.getLlm", summary: "LLM personalization settings and today's token use", auth: "read", responses: ok }),
  async (c) => {
    const id = c.var.workspaceId;
    const ws = await c.var.store.tenants.workspace(id);
    if (!ws) throw notFound("workspace");
    return c.json(await view(c.var.store, id, await storedLlmSettings(ws.configuration)), 200);
  },
);

llmSettingsApp.openapi(
  route({
    method: "put",
    path: "/workspace/llm",
    operationId: "workspace.setLlm",
    summary: "Replace the LLM personalization settings (and optionally set or remove the API key)",
    description:
      "Off by default. `baa_covered: true` declares that the endpoint is covered by a Business Associate Agreement; without it, PHI-flagged messages never go to the LLM. Enabling needs an API key (stored or given here).",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: putSchema, example: { enabled: true, model: "gpt-4o-mini", instructions: "Friendly, plain language; never give medical advice.", baa_covered: true, api_key: "sk-clinic-example-0000" } } }, required: true } },
    responses: ok,
  }),
  async (c) => {
    const id = c.var.workspaceId;
    const { api_key, ...settings } = c.req.valid("json");
    // The schema checked what needs no engine; compiling each pattern on RE2 (lazily loaded) is
    // checked here, before anything is written, with the same error as a schema failure.
    const problem = await phiPatternsSaveProblem(settings);
    if (problem) throw new RelayError("validation_error", `${problem.path}: ${problem.message}`);
    const ws = await c.var.store.tenants.workspace(id);
    if (!ws) throw notFound("workspace");
    const hadKey = await c.var.store.tenants.llmApiKeySet(id);
    if (settings.enabled && (api_key === null || (api_key === undefined && !hadKey))) {
      throw new RelayError("unprocessable", "api_key: enabling LLM personalization needs an API key for the endpoint");
    }
    const now = Date.now();
    if (api_key !== undefined) {
      const ring = await loadKeyring(c.env.DATA_KEYS, readConfig(c.env).dataKeyId);
      await c.var.store.tenants.setLlmApiKeyEnc(id, api_key === null ? null : await encryptText(ring, api_key, llmApiKeyAad(id)), now);
    }
    const before = await storedLlmSettings(ws.configuration);
    await c.var.store.tenants.updateConfiguration(id, { ...ws.configuration, llm: settings }, now);
    if (before.baa_covered !== settings.baa_covered) {
      await recordAudit(c.var.store.audit, {
        ...actorOf(c.var.principal),
        action: settings.baa_covered ? "workspace.llm.baa_declared" : "workspace.llm.baa_withdrawn",
        resource: `workspace:${id}`,
        ip: c.req.header("cf-connecting-ip") ?? null,
        outcome: "success",
        requestId: c.var.requestId,
        detail: { base_url: settings.base_url, model: settings.model },
      });
    }
    return c.json(await view(c.var.store, id, settings), 200);
  },
);

llmSettingsApp.openapi(
  route({
    method: "delete",
    path: "/workspace/llm/api-key",
    operationId: "workspace.deleteLlmApiKey",
    summary: "Remove the LLM API key (personalization falls back to the unpersonalized content until a new one is set)",
    auth: "admin",
    responses: ok,
  }),
  async (c) => {
    const id = c.var.workspaceId;
    const ws = await c.var.store.tenants.workspace(id);
    if (!ws) throw notFound("workspace");
    await c.var.store.tenants.setLlmApiKeyEnc(id, null, Date.now());
    return c.json(await view(c.var.store, id, await storedLlmSettings(ws.configuration)), 200);
  },
);

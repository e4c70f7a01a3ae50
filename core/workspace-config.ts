// Per-workspace settings stored in workspaces.configuration. Unknown or invalid settings fall
// back to defaults at read time, each top-level setting on its own (the write path validates
// strictly), so one bad value can never stop a workspace's mail nor reset its other settings.
//
// Partial updates (PATCH /v1/workspace) merge: a key sent changes, a key not sent keeps its
// stored value; nested objects (limits, retry_policy, routing, routing.breaker, llm, and the
// records variables and limits.user_overrides) merge key by key; arrays (routing.domain_rules,
// llm.phi_patterns, trending_questions.questions) are replaced whole; an explicit null removes
// the key, so it reads as its default again. What is stored is what was sent, not the defaults
// filled in, so a default changed later applies to every workspace that never set it.
import { z } from "@hono/zod-openapi";
import { trendingQuestionsSchema, type TrendingQuestions } from "./trending";
import { DEFAULT_RETRY_POLICY, retryPolicySchema } from "./retry-policy";
import { breakerConfigSchema, DEFAULT_BREAKER_CONFIG } from "./routing/breaker";
import { domainRuleSchema, STRATEGIES } from "./routing/strategies";
import { DEFAULT_WORKSPACE_LIMITS, workspaceLimitsSchema, type WorkspaceLimits } from "./limits/config";
import { DEFAULT_LLM_SETTINGS, llmSettingsSchema, type LlmSettings } from "./llm/settings";

export const routingConfigSchema = z
  .object({
    strategy: z.enum(STRATEGIES).default("priority"),
    /** domain_based: recipient-domain patterns → provider id; first match wins, exact before wildcard. */
    domain_rules: z.array(domainRuleSchema).max(200).default([]),
    /** domain_based: the provider for domains no rule matches (else priority order). */
    default_provider_id: z.string().nullable().default(null),
    /** How many other providers one attempt may fail over to after a transient failure. */
    max_failover: z.number().int().min(0).max(10).default(2),
    /** With every provider's breaker open, send through the primary anyway instead of deferring. */
    force_send: z.boolean().default(false),
    /** Deliver only through providers reached over TLS (plain loopback test servers are skipped). */
    require_tls: z.boolean().default(false),
    breaker: breakerConfigSchema.default(DEFAULT_BREAKER_CONFIG),
  })
  .strict();

export type RoutingConfig = z.infer<typeof routingConfigSchema>;
export const DEFAULT_ROUTING: RoutingConfig = routingConfigSchema.parse({});

export const workspaceVariablesSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "variable names are letters, digits and _"), z.union([z.string().max(2000), z.number(), z.boolean()]))
  .refine((r) => Object.keys(r).length <= 200, "at most 200 variables");

export const workspaceConfigSchema = z.object({
  retry_policy: retryPolicySchema.optional(),
  routing: routingConfigSchema.optional(),
  limits: workspaceLimitsSchema.optional(),
  /** Template variables every message may use ({{NAME}}); recipient and message values win. */
  variables: workspaceVariablesSchema.optional(),
  /** Refuse (422) a structured message that uses a variable nobody defines and that has no default. */
  strict_variables: z.boolean().optional(),
  /** <<TRENDING_QUESTION>>: the current questions and how one is chosen per message. */
  trending_questions: trendingQuestionsSchema.optional(),
  /** LLM personalization (off by default); the API key is set apart, with PUT /v1/workspace/llm. */
  llm: llmSettingsSchema.optional(),
});

export interface WorkspaceConfig {
  retry_policy: z.infer<typeof retryPolicySchema>;
  routing: RoutingConfig;
  limits: WorkspaceLimits;
  variables: Record<string, string | number | boolean>;
  strict_variables: boolean;
  trending_questions: TrendingQuestions;
  llm: LlmSettings;
}

type Shape = typeof workspaceConfigSchema.shape;

/** One top-level setting, or its default if absent or no longer valid (e.g. saved under an older rule). */
function setting<K extends keyof Shape>(stored: Record<string, unknown>, key: K, fallback: NonNullable<z.infer<Shape[K]>>): NonNullable<z.infer<Shape[K]>> {
  if (stored[key] === undefined || stored[key] === null) return fallback;
  const parsed = workspaceConfigSchema.shape[key].safeParse(stored[key]);
  return parsed.success && parsed.data !== undefined ? (parsed.data as NonNullable<z.infer<Shape[K]>>) : fallback;
}

export function parseWorkspaceConfig(value: unknown): WorkspaceConfig {
  const stored = isPlainObject(value) ? value : {};
  return {
    retry_policy: setting(stored, "retry_policy", DEFAULT_RETRY_POLICY),
    routing: setting(stored, "routing", DEFAULT_ROUTING),
    limits: setting(stored, "limits", DEFAULT_WORKSPACE_LIMITS),
    variables: setting(stored, "variables", {}),
    strict_variables: setting(stored, "strict_variables", false),
    trending_questions: setting(stored, "trending_questions", { questions: [], rule: "latest" }),
    llm: setting(stored, "llm", DEFAULT_LLM_SETTINGS),
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

// Own data properties only: a record key such as "__proto__" (a variable name may be one) must
// become a key, never the object's prototype.
const put = (o: Record<string, unknown>, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });

/** Deep merge of a validated patch into stored settings (semantics in the header comment). */
export function mergeSettings(stored: unknown, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (isPlainObject(stored)) for (const [k, v] of Object.entries(stored)) put(out, k, v);
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null) delete out[k];
    else if (isPlainObject(v)) put(out, k, mergeSettings(out[k], v));
    else put(out, k, v);
  }
  return out;
}

export type SettingsCheck = { ok: true; value: Record<string, unknown> } | { ok: false; field: string; message: string };

/**
 * Merges `patch` into `stored` and validates each setting the patch touched, as a whole, after
 * the merge (cross-field rules and defaults see the result, not the fragment). Settings the
 * patch did not touch are left as they are, even if they no longer validate.
 */
export function applySettingsPatch(stored: unknown, patch: Record<string, unknown>): SettingsCheck {
  const merged = mergeSettings(stored, patch);
  for (const key of Object.keys(patch) as (keyof Shape)[]) {
    if (merged[key] === undefined) continue;
    const parsed = workspaceConfigSchema.shape[key].safeParse(merged[key]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, field: [key, ...(issue?.path ?? [])].join("."), message: issue?.message ?? "invalid" };
    }
  }
  return { ok: true, value: merged };
}

// The PATCH body: the same settings, every key optional and nullable (null: back to the
// default), nested objects partial, no defaults filled in (a default in the fragment would
// overwrite the stored value it stands for). Field rules stay; rules across fields and the
// defaults are applied to the merged result (applySettingsPatch).
function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}

function patchOf(schema: z.ZodType): z.ZodType {
  const s = unwrap(schema);
  let out: z.ZodType = s;
  if (s instanceof z.ZodObject) {
    out = z.object(Object.fromEntries(Object.entries(s.shape as Record<string, z.ZodType>).map(([k, v]) => [k, patchOf(v)]))).strict();
  } else if (s instanceof z.ZodRecord) {
    out = z.record(s.keyType as z.ZodString, patchOf(s.valueType as z.ZodType));
  }
  const description = schema.description ?? s.description;
  const field = out.nullable().optional();
  return description ? field.describe(description) : field;
}

export const workspaceSettingsPatchSchema = z
  .object(Object.fromEntries(Object.entries(workspaceConfigSchema.shape).map(([k, v]) => [k, patchOf(v as z.ZodType)])))
  .strict()
  .openapi("WorkspaceSettingsPatch", {
    description:
      "Only the keys sent change. Nested objects (limits, retry_policy, routing, routing.breaker, llm, variables, limits.user_overrides) merge key by key; arrays are replaced whole; null resets a key to its default (for a variable or a user override: removes it).",
  });

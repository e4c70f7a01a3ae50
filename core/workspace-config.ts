// Per-workspace settings stored in workspaces.configuration. Unknown or invalid settings fall
// back to defaults at read time (the write path validates strictly), so one bad value can
// never stop a workspace's mail.
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

export function parseWorkspaceConfig(value: unknown): WorkspaceConfig {
  const parsed = workspaceConfigSchema.safeParse(value ?? {});
  return {
    retry_policy: (parsed.success && parsed.data.retry_policy) || DEFAULT_RETRY_POLICY,
    routing: (parsed.success && parsed.data.routing) || DEFAULT_ROUTING,
    limits: (parsed.success && parsed.data.limits) || DEFAULT_WORKSPACE_LIMITS,
    variables: (parsed.success && parsed.data.variables) || {},
    strict_variables: (parsed.success && parsed.data.strict_variables) || false,
    trending_questions: (parsed.success && parsed.data.trending_questions) || { questions: [], rule: "latest" },
    llm: (parsed.success && parsed.data.llm) || DEFAULT_LLM_SETTINGS,
  };
}

// The workspace's LLM personalization settings (workspaces.configuration.llm). Off unless the
// workspace turns it on; the API key is not here (it is write-only, encrypted in
// workspace_security). Validated strictly on write; parseWorkspaceConfig falls back to the
// defaults (off) if a stored value ever stops validating.
import { z } from "@hono/zod-openapi";
import { compileTenantPattern } from "../tenant-regex";
import { checkOutboundUrl } from "../url-policy";

/** The hard cap on one call: a slow endpoint must never hold a delivery longer than this. */
export const MAX_LLM_TIMEOUT_MS = 20_000;
export const MAX_PHI_PATTERNS = 20;
export const MAX_PHI_PATTERN_LENGTH = 200;

export const phiPatternSchema = z
  .object({
    name: z.string().regex(/^[\w.-]{1,64}$/, "1-64 letters, digits, '_', '.' or '-'"),
    pattern: z.string().min(1).max(MAX_PHI_PATTERN_LENGTH),
    flags: z.string().regex(/^i?$/, "only 'i' is allowed").optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    // RE2 (linear time) runs these, so backtracking blow-ups are impossible by construction;
    // what RE2 cannot compile (backreferences, lookaround) is refused here with the reason.
    const compiled = compileTenantPattern(p);
    if (!compiled.ok) {
      ctx.addIssue({ code: "custom", path: ["pattern"], message: compiled.reason });
      return;
    }
    if (compiled.re.test("")) ctx.addIssue({ code: "custom", path: ["pattern"], message: "must not match the empty string" });
  })
  .openapi("PhiPattern");

export type PhiPattern = z.infer<typeof phiPatternSchema>;

export const llmSettingsSchema = z
  .object({
    enabled: z.boolean().default(false).openapi({ description: "Personalize messages that ask for it (`personalize: true`). Off by default." }),
    base_url: z
      .url({ protocol: /^https?$/ })
      // The relay's one outbound URL policy: a public host, or a loopback test server.
      .superRefine((u, ctx) => {
        const check = checkOutboundUrl(u, { allowLoopback: true });
        if (!check.ok) ctx.addIssue({ code: "custom", message: check.reason });
      })
      .default("https://api.openai.com/v1")
      .openapi({ description: "OpenAI-compatible endpoint (OpenAI, AI Gateway, Workers AI, vLLM, …); Chat Completions is used" }),
    model: z.string().min(1).max(200).default("gpt-4o-mini"),
    instructions: z.string().max(4000).default("").openapi({ description: "How to personalize; sent with every request" }),
    baa_covered: z
      .boolean()
      .default(false)
      .openapi({ description: "Declaration that the endpoint is covered by a Business Associate Agreement; without it PHI-flagged messages are never sent to it" }),
    daily_token_budget: z.number().int().min(0).max(100_000_000).default(200_000).openapi({ description: "Tokens per UTC day; when spent, messages go unpersonalized" }),
    timeout_ms: z.number().int().min(500).max(MAX_LLM_TIMEOUT_MS).default(8000),
    max_input_chars: z.number().int().min(100).max(100_000).default(20_000).openapi({ description: "Longer content is not sent (and not scanned)" }),
    min_output_ratio: z.number().min(0.05).max(1).default(0.3).openapi({ description: "Each part of the answer must be at least this share of the part's length" }),
    max_output_ratio: z.number().min(1).max(10).default(3).openapi({ description: "… and at most this multiple of it" }),
    /** Chat Completions spelled the output cap two ways; compatible servers differ in which they accept. */
    max_tokens_param: z.enum(["max_tokens", "max_completion_tokens"]).default("max_tokens"),
    phi_patterns: z.array(phiPatternSchema).max(MAX_PHI_PATTERNS).default([]).openapi({ description: "Extra identifiers to mask, as RE2 regular expressions (linear-time matching; no backreferences or lookaround)" }),
  })
  .strict()
  .openapi("LlmSettings");

export type LlmSettings = z.infer<typeof llmSettingsSchema>;
export const DEFAULT_LLM_SETTINGS: LlmSettings = llmSettingsSchema.parse({});

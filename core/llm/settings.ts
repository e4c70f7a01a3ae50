// The workspace's LLM personalization settings (workspaces.configuration.llm). Off unless the
// workspace turns it on; the API key is not here (it is write-only, encrypted in
// workspace_security). Validated strictly on write; parseWorkspaceConfig falls back to the
// defaults (off) if a stored value ever stops validating.
//
// phi_patterns run on RE2, a lazily loaded engine (core/tenant-regex.ts) that a synchronous
// schema cannot await, and this schema parses stored settings on hot paths (every accept and
// delivery). So the schema checks only what needs no engine (flags, backreferences,
// lookaround: what patterns saved before RE2 typically used, so such settings still read as
// off); the full check, compiling each pattern, runs where the engine is awaited: at save time
// (phiPatternsProblem, in the routes that write these settings) and at use
// (compilePhiPatterns, before content goes to the LLM).
import { z } from "@hono/zod-openapi";
import { compileTenantPattern, tenantPatternSyntaxProblem, type RegexEngine, type TenantRegex } from "../tenant-regex";
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
    const problem = tenantPatternSyntaxProblem(p);
    if (problem) ctx.addIssue({ code: "custom", path: ["pattern"], message: problem });
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

/** Null when the pattern can be used (compiles on RE2, never matches empty), else why. */
export function phiPatternProblem(engine: RegexEngine, p: PhiPattern): string | null {
  // RE2 (linear time) runs these, so backtracking blow-ups are impossible by construction;
  // what RE2 cannot compile (backreferences, lookaround) is refused with the reason.
  const compiled = compileTenantPattern(engine, p);
  if (!compiled.ok) return compiled.reason;
  if (compiled.re.test("")) return "must not match the empty string";
  return null;
}

/** Save time: the first pattern that cannot be used, with the reason (a 400 naming the field). */
export function phiPatternsProblem(engine: RegexEngine, patterns: PhiPattern[]): { path: string; message: string } | null {
  for (const [i, p] of patterns.entries()) {
    const problem = phiPatternProblem(engine, p);
    if (problem) return { path: `phi_patterns.${i}.pattern`, message: problem };
  }
  return null;
}

/**
 * Use time: every pattern compiled, or the names of those that cannot be used. A stored pattern
 * can fail here only if it was saved under older rules; the caller then turns personalization
 * off for the message, as invalid settings always did, so content never goes out half-masked.
 */
export function compilePhiPatterns(engine: RegexEngine, patterns: PhiPattern[]): { ok: true; res: TenantRegex[] } | { ok: false; unusable: string[] } {
  const res: TenantRegex[] = [];
  const unusable: string[] = [];
  for (const p of patterns) {
    const compiled = compileTenantPattern(engine, p); // cached: phiPatternProblem reuses it
    if (compiled.ok && phiPatternProblem(engine, p) === null) res.push(compiled.re);
    else unusable.push(p.name);
  }
  return unusable.length > 0 ? { ok: false, unusable } : { ok: true, res };
}

/** The settings as they take effect: the defaults (off) when a pattern cannot be used (see compilePhiPatterns). */
export function effectiveLlmSettings(engine: RegexEngine, settings: LlmSettings): LlmSettings {
  return compilePhiPatterns(engine, settings.phi_patterns).ok ? settings : DEFAULT_LLM_SETTINGS;
}

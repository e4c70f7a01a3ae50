// What a message records about its personalization (messages.personalization, shown by
// GET /v1/messages/{id}), and the decision whether a message may go to the LLM at all. Reasons
// are codes plus a fixed sentence: nothing of the content or of the model's answer.
import { z } from "@hono/zod-openapi";
import type { MaskKind } from "./phi-guard";
import type { LlmSettings } from "./settings";
import type { OutputProblem } from "./validate";

export type FallbackReason =
  | "workspace_disabled"
  | "raw_content"
  | "phi_without_baa"
  | "no_api_key"
  | "content_too_large"
  | "budget_exhausted"
  | "timeout"
  | "llm_error"
  | "invalid_output"
  | "cache_unavailable"
  | "internal_error";

export const REASON_TEXT: Record<FallbackReason, string> = {
  workspace_disabled: "LLM personalization is off for this workspace (PUT /v1/workspace/llm with enabled: true)",
  raw_content: "raw MIME messages are never personalized",
  phi_without_baa: "the message is PHI-flagged and the workspace has not declared its LLM endpoint BAA-covered (baa_covered)",
  no_api_key: "the workspace has no LLM API key (PUT /v1/workspace/llm with api_key)",
  content_too_large: "the content is longer than max_input_chars",
  budget_exhausted: "the workspace's daily token budget is spent",
  timeout: "the LLM did not answer within timeout_ms",
  llm_error: "the LLM endpoint returned an error",
  invalid_output: "the LLM's answer failed validation",
  cache_unavailable: "a retry found no cached answer and does not call the LLM again",
  internal_error: "personalization failed unexpectedly",
};

/** mode "llm": the LLM was called (or its cached answer used); "none": it was not. */
export interface PersonalizationRecord {
  mode: "llm" | "none";
  status: "applied" | "fallback";
  reason: FallbackReason | null;
  /** The sentence for `reason`, plus e.g. which check failed or the HTTP status. */
  detail: string | null;
  model: string | null;
  cached: boolean;
  /** Tokens this message used (0 on a cache hit; the reservation when the call timed out). */
  tokens: number;
  /** How many distinct identifiers of each kind were masked before the content left. */
  masked: Partial<Record<MaskKind, number>>;
  at: string;
}

export function fallback(reason: FallbackReason, at: number, extra: Partial<PersonalizationRecord> = {}, note?: string): PersonalizationRecord {
  return {
    mode: "none",
    status: "fallback",
    reason,
    detail: note ? `${REASON_TEXT[reason]}: ${note}` : REASON_TEXT[reason],
    model: null,
    cached: false,
    tokens: 0,
    masked: {},
    ...extra,
    at: new Date(at).toISOString(),
  };
}

export const problemNote = (p: OutputProblem): string => p.replace(/_/g, " ");

export interface Eligibility {
  settings: LlmSettings;
  /** The message is flagged as carrying PHI (by the sender, or by DLP). */
  phi: boolean;
  hasApiKey: boolean;
  structured: boolean;
  inputChars: number;
}

/** Why this message may not go to the LLM, or null when it may. The order is the order of importance. */
export function ineligible(e: Eligibility): FallbackReason | null {
  if (!e.settings.enabled) return "workspace_disabled";
  if (!e.structured) return "raw_content";
  if (e.phi && !e.settings.baa_covered) return "phi_without_baa";
  if (!e.hasApiKey) return "no_api_key";
  if (e.inputChars > e.settings.max_input_chars) return "content_too_large";
  return null;
}

export const personalizationSchema = z
  .object({
    mode: z.enum(["llm", "none"]).openapi({ description: "llm: the model's answer (or its cached copy) was used or tried; none: the LLM was not involved" }),
    status: z.enum(["applied", "fallback"]).openapi({ description: "fallback: the unpersonalized content went out" }),
    reason: z.string().nullable().openapi({ description: "Why it fell back: workspace_disabled, phi_without_baa, no_api_key, content_too_large, budget_exhausted, timeout, llm_error, invalid_output, cache_unavailable, internal_error" }),
    detail: z.string().nullable(),
    model: z.string().nullable(),
    cached: z.boolean(),
    tokens: z.number(),
    masked: z.record(z.string(), z.number()).openapi({ description: "Distinct identifiers masked before anything left, by kind" }),
    at: z.string(),
  })
  .openapi("Personalization");

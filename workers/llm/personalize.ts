// LLM personalization of one message's shared content (subject, text, html), once per message
// and before per-recipient variables are filled in, so recipients' values stay local. The
// order: may it go at all (workspace patterns usable, workspace on, BAA for PHI, a key, size) →
// mask identifiers → cache → reserve tokens → call with a hard timeout → validate → restore →
// cache → record. Every failure, expected or not, ends in the unpersonalized content:
// personalization can make a message plainer, never late or lost. Logs carry reason codes (and
// the names of unusable phi_patterns) only.
import type { StructuredContent } from "../../core/content";
import { decryptText, encryptText, type Keyring } from "../../core/crypto";
import { maskParts, restore } from "../../core/llm/phi-guard";
import { buildMessages, contentHash, estimateTokens, maxOutputTokens, PART_KEYS, parseAnswer, type Parts } from "../../core/llm/prompt";
import { fallback, ineligible, problemNote, type PersonalizationRecord } from "../../core/llm/record";
import { compilePhiPatterns, type LlmSettings } from "../../core/llm/settings";
import type { TenantRegex } from "../../core/tenant-regex";
import { linksPreserved, validateAnswer } from "../../core/llm/validate";
import type { MessageRow } from "../../db/messages/types";
import type { Store } from "../../db/store/store";
import { loadRe2 } from "../lazy-libs";
import { log } from "../log";
import { loadRecipientVariables } from "../template-variables";
import { chatCompletion } from "./client";

export const llmApiKeyAad = (workspaceId: string) => `${workspaceId}/llm/api-key`;
const cacheAad = (workspaceId: string, hash: string) => `${workspaceId}/llm-cache/${hash}`;

/** The UTC day a token budget counts against. */
export const utcDay = (at: number) => new Date(at).toISOString().slice(0, 10);

export interface PersonalizeDeps {
  /** The LLM's key, cache, budget and record; the recipients' profiles (for the names to mask). */
  store: Pick<Store, "llm" | "recipients">;
  ring: Keyring;
  now: () => number;
}

interface Attempt {
  content: StructuredContent;
  record: PersonalizationRecord;
}

/**
 * The content to deliver for this message. Only messages that asked for personalization are
 * touched; the outcome is recorded on the first attempt, and a retry never calls the LLM again
 * (it reuses the cached answer, or goes unpersonalized as the first attempt did).
 */
export async function personalizeMessage(
  deps: PersonalizeDeps,
  message: MessageRow,
  recipientEmails: string[],
  content: StructuredContent,
  settings: LlmSettings,
): Promise<StructuredContent> {
  if (!message.personalize) return content;
  const previous = message.personalization as Partial<PersonalizationRecord> | null;
  if (previous && previous.status !== "applied") return content;
  let result: Attempt;
  try {
    result = await attempt(deps, message, recipientEmails, content, settings, previous === null);
  } catch (e) {
    // Only the error's type: its message could quote content.
    log.error("llm_personalization_failed", { message_id: message.id, error: e instanceof Error ? e.name : "unknown" });
    result = { content, record: fallback("internal_error", deps.now()) };
  }
  if (previous === null) {
    await deps.store.llm.recordPersonalization(message.workspaceId, message.id, result.record).catch((e: unknown) =>
      log.error("llm_record_failed", { message_id: message.id, error: e instanceof Error ? e.name : "unknown" }),
    );
  }
  const r = result.record;
  log.info("llm_personalization", { message_id: message.id, status: r.status, reason: r.reason, cached: r.cached, llm_tokens: r.tokens, retry: previous !== null });
  return result.content;
}

async function attempt(
  deps: PersonalizeDeps,
  message: MessageRow,
  recipientEmails: string[],
  content: StructuredContent,
  settings: LlmSettings,
  mayCall: boolean,
): Promise<Attempt> {
  const { ring } = deps;
  const { llm } = deps.store;
  const ws = message.workspaceId;
  const unchanged = (record: PersonalizationRecord): Attempt => ({ content, record });
  const parts: Parts = {};
  for (const k of PART_KEYS) if (content[k] !== undefined) parts[k] = content[k]!;

  // The workspace's patterns compile here, at use, on the lazily loaded RE2 engine (the settings
  // were parsed without it; core/llm/settings.ts). One that cannot be used (saved under older
  // rules) turns personalization off for the message, as settings that no longer validate
  // always have: content never goes out half-masked.
  let patterns: TenantRegex[] = [];
  if (settings.enabled && settings.phi_patterns.length > 0) {
    const compiled = compilePhiPatterns(await loadRe2(), settings.phi_patterns);
    if (!compiled.ok) {
      log.warn("llm_phi_pattern_unusable", { message_id: message.id, patterns: compiled.unusable.join(","), effect: "personalization off (fail closed)" });
      return unchanged(fallback("workspace_disabled", deps.now(), {}, `phi_patterns that RE2 cannot use: ${compiled.unusable.join(", ")}`));
    }
    patterns = compiled.res;
  }

  const keyEnc = settings.enabled ? await llm.apiKeyEnc(ws) : null;
  const refused = ineligible({
    settings,
    phi: message.containsPhi || message.tags.includes("dlp:flagged"),
    hasApiKey: keyEnc !== null,
    structured: true,
    inputChars: Object.values(parts).reduce((n, s) => n + s.length, 0),
  });
  if (refused) return unchanged(fallback(refused, deps.now()));

  // Names from recipient data: the profiles of this message's recipients and the display names it was addressed with.
  const profiles = await loadRecipientVariables(deps.store.recipients, ring, ws, recipientEmails);
  const names = [
    ...[...profiles.values()].flatMap((v) => [v.FIRST_NAME, v.LAST_NAME, v.FIRST_NAME && v.LAST_NAME ? `${v.FIRST_NAME} ${v.LAST_NAME}` : undefined]),
    ...[...content.to, ...content.cc].map((m) => m.name),
  ].filter((n): n is string => typeof n === "string" && n.trim() !== "");
  const masked = maskParts(parts, { names, patterns });
  const base = { mode: "llm" as const, model: settings.model, masked: masked.counts };
  const bounds = { minRatio: settings.min_output_ratio, maxRatio: settings.max_output_ratio };

  const applied = (answer: Parts, cached: boolean, tokens: number): Attempt | null => {
    if (validateAnswer(masked.parts, answer, masked.values, bounds) !== null) return null;
    const restored: Parts = {};
    for (const k of Object.keys(parts)) restored[k] = restore(answer[k]!, masked.values);
    if (!linksPreserved(parts, restored)) return null;
    return {
      content: {
        ...content,
        subject: restored.subject ?? content.subject,
        ...(restored.text !== undefined ? { text: restored.text } : {}),
        ...(restored.html !== undefined ? { html: restored.html } : {}),
      },
      record: { ...base, status: "applied", reason: null, detail: null, cached, tokens, at: new Date(deps.now()).toISOString() },
    };
  };

  const hash = await contentHash(settings.base_url, settings.model, settings.instructions, masked.parts);
  const cachedEnc = await llm.cachedAnswer(ws, hash);
  if (cachedEnc !== null) {
    const answer = parseAnswer(await decryptText(ring, cachedEnc, cacheAad(ws, hash)));
    const hit = answer && applied(answer, true, 0);
    if (hit) return hit;
  }
  if (!mayCall) return unchanged(fallback("cache_unavailable", deps.now(), base));

  const messages = buildMessages(settings.instructions, masked.parts);
  const maxOut = maxOutputTokens(masked.parts, settings.max_output_ratio);
  const reserved = estimateTokens(messages, maxOut);
  const day = utcDay(deps.now());
  if (!(await llm.reserveTokens(ws, day, reserved, settings.daily_token_budget))) {
    return unchanged(fallback("budget_exhausted", deps.now(), { masked: masked.counts }));
  }

  const outcome = await chatCompletion({
    baseUrl: settings.base_url,
    apiKey: await decryptText(ring, keyEnc!, llmApiKeyAad(ws)),
    model: settings.model,
    messages,
    maxOutputTokens: maxOut,
    maxTokensParam: settings.max_tokens_param,
    timeoutMs: settings.timeout_ms,
  });
  if (outcome.kind === "timeout") {
    // The endpoint may have done (and billed) the work: the reservation stands.
    return unchanged(fallback("timeout", deps.now(), { ...base, tokens: reserved }, `${settings.timeout_ms} ms`));
  }
  if (outcome.kind === "error") {
    // The endpoint refused: nothing was generated, so the reservation goes back.
    await llm.adjustTokens(ws, day, -reserved);
    return unchanged(fallback("llm_error", deps.now(), base, outcome.status === null ? "no response" : `HTTP ${outcome.status}`));
  }
  const used = outcome.totalTokens ?? reserved;
  await llm.adjustTokens(ws, day, used - reserved);

  const answer = parseAnswer(outcome.answer);
  if (!answer) return unchanged(fallback("invalid_output", deps.now(), { ...base, tokens: used }, "not a JSON object of the parts"));
  const problem = validateAnswer(masked.parts, answer, masked.values, bounds);
  if (problem) return unchanged(fallback("invalid_output", deps.now(), { ...base, tokens: used }, problemNote(problem)));
  const done = applied(answer, false, used);
  if (!done) return unchanged(fallback("invalid_output", deps.now(), { ...base, tokens: used }, "link changed"));

  // The masked answer is what is cached: restoring it needs the message's own identifiers.
  const stored = JSON.stringify(Object.fromEntries(Object.keys(parts).map((k) => [k, answer[k]!])));
  await llm.putCachedAnswer(ws, hash, await encryptText(ring, stored, cacheAad(ws, hash)), settings.model, deps.now()).catch((e: unknown) =>
    log.warn("llm_cache_write_failed", { message_id: message.id, error: e instanceof Error ? e.name : "unknown" }),
  );
  return done;
}

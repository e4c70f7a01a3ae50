// The LLM settings' phi_patterns where the RE2 engine is needed (core/llm/settings.ts says why
// the schema alone does not compile them). Each awaits the lazily loaded engine only when there
// are patterns, so settings without any never load it.
import { effectiveLlmSettings, phiPatternsProblem, type LlmSettings } from "../../core/llm/settings";
import { parseWorkspaceConfig } from "../../core/workspace-config";
import { loadRe2 } from "../lazy-libs";

/** Save time: the first unusable pattern, with the field path under the settings and the reason. */
export async function phiPatternsSaveProblem(settings: Pick<LlmSettings, "phi_patterns">): Promise<{ path: string; message: string } | null> {
  if (settings.phi_patterns.length === 0) return null;
  return phiPatternsProblem(await loadRe2(), settings.phi_patterns);
}

/**
 * The stored settings as delivery applies them: off (the defaults) when a pattern cannot be
 * used, as the personalization step decides. For the settings views, so they show what applies.
 */
export async function storedLlmSettings(configuration: unknown): Promise<LlmSettings> {
  const llm = parseWorkspaceConfig(configuration).llm;
  return llm.phi_patterns.length === 0 ? llm : effectiveLlmSettings(await loadRe2(), llm);
}

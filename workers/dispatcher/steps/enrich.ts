// enrich: the content to send. The body is read (and decrypted) from R2; a
// <<TRENDING_QUESTION>> gets one question per message, the same for every recipient and retry;
// LLM personalization (opt-in) rewrites the shared content once, before any recipient's values go
// in, and only once the limits allow the send (an LLM call costs). Never throws for the LLM.
import { readConfig } from "../../../core/config";
import { decodeContent } from "../../../core/content";
import { loadKeyring } from "../../../core/crypto";
import { applyTrending, pickTrendingQuestion } from "../../../core/trending";
import { loadBody } from "../../../db/body-store";
import { personalizeMessage } from "../../llm/personalize";
import { contentUsesVariables } from "../../template-variables";
import type { BatchContext } from "../batch-context";
import type { Enriched, Routed, Stop } from "../delivery";

export async function enrich(ctx: BatchContext, d: Routed): Promise<Enriched | Stop> {
  const { message, settings } = d;
  const ring = await loadKeyring(ctx.env.DATA_KEYS, readConfig(ctx.env).dataKeyId);
  let content = decodeContent(await loadBody(ctx.env.BODIES, ring, message.workspaceId, message.id, message));
  if (content.kind === "structured") content = applyTrending(content, pickTrendingQuestion(settings.trending_questions, message.id, message.queuedAt));
  if (content.kind === "structured" && message.personalize) {
    const hold = await d.limits;
    if (hold) return { stop: "limited", d, hold };
    content = await personalizeMessage({ store: ctx.store, ring, now: ctx.now }, message, d.recipients.map((r) => r.email), content, settings.llm);
  }
  // Templated structured content goes out as one copy per recipient; raw MIME is never templated.
  const fanOut = content.kind === "structured" && contentUsesVariables(content);
  return { ...d, ring, content, fanOut };
}

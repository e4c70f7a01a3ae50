// <<TRENDING_QUESTION>>: workspace-scoped dynamic content. The workspace keeps a list of current
// questions (newest first) and a selection rule; each message gets one question, the same for
// all its recipients and on every retry (the choice depends only on the message and its time).
import { z } from "@hono/zod-openapi";
import type { StructuredContent } from "./content";
import { escapeHtml, headerSafe } from "./variables";

export const TRENDING_RULES = ["latest", "rotating", "random"] as const;
export const TRENDING_TAG = "<<TRENDING_QUESTION>>";

export const trendingQuestionsSchema = z
  .object({
    questions: z
      .array(z.string().trim().min(1).max(500).regex(/^[^\r\n\0]*$/, "must not contain line breaks"))
      .max(100)
      .openapi({ description: "Current questions, newest first" }),
    rule: z
      .enum(TRENDING_RULES)
      .default("latest")
      .openapi({ description: "latest: the newest; rotating: the next one each UTC day, in order; random: one per message" }),
  })
  .strict()
  .openapi("TrendingQuestions");

export type TrendingQuestions = z.infer<typeof trendingQuestionsSchema>;

// FNV-1a: a stable, well-spread hash of the message id for the random rule.
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The question for one message, or null when the workspace has none. */
export function pickTrendingQuestion(t: TrendingQuestions | undefined, messageId: string, at: number): string | null {
  if (!t || t.questions.length === 0) return null;
  const n = t.questions.length;
  if (t.rule === "rotating") return t.questions[Math.floor(at / 86_400_000) % n]!;
  if (t.rule === "random") return t.questions[hash(messageId) % n]!;
  return t.questions[0]!;
}

export const usesTrending = (c: StructuredContent): boolean => [c.subject, c.text, c.html].some((t) => t?.includes(TRENDING_TAG));

/** Substitutes the question (escaped per part; empty when there is none). */
export function applyTrending(c: StructuredContent, question: string | null): StructuredContent {
  if (!usesTrending(c)) return c;
  const q = question ?? "";
  const sub = (t: string, value: string) => t.split(TRENDING_TAG).join(value);
  return {
    ...c,
    subject: headerSafe(sub(c.subject, headerSafe(q))),
    ...(c.text !== undefined ? { text: sub(c.text, q) } : {}),
    ...(c.html !== undefined ? { html: sub(c.html, escapeHtml(q)) } : {}),
  };
}

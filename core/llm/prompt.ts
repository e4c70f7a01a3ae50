// What goes to the model and how its answer is read. The content travels as a JSON object of
// the message's parts (already masked); the answer must be the same object back. JSON rather
// than free text because three parts (subject, text, html) must come back separately, and
// `response_format` is not supported by every OpenAI-compatible server, so the instruction is
// in the prompt and the parsing is lenient about code fences.
import { sha256Hex } from "../encoding";

export type Parts = Record<string, string>;

/** The message parts that may be personalized, in a fixed order (placeholder numbering depends on it). */
export const PART_KEYS = ["subject", "text", "html"] as const;

const SYSTEM = [
  "You personalize one email for a healthcare organization, following the organization's instructions.",
  "The user message is a JSON object with the email's parts (subject, and text and/or html).",
  "Answer with exactly one JSON object with the same keys, each value the rewritten part, and nothing else.",
  "Tokens like [[NAME_1]], [[EMAIL_2]], [[LINK_3]] or [[VAR_4]] stand for protected data: copy every one of them unchanged into the same part, never invent new ones, never try to guess what they stand for.",
  "Do not add links, addresses, phone numbers or facts. The subject is a single line. Keep html valid html and text plain text.",
].join("\n");

export interface ChatMessage {
  role: "system" | "user";
  content: string;
}

export function buildMessages(instructions: string, masked: Parts): ChatMessage[] {
  return [
    { role: "system", content: SYSTEM },
    ...(instructions.trim() ? [{ role: "system" as const, content: `Organization's instructions:\n${instructions.trim()}` }] : []),
    { role: "user", content: JSON.stringify(masked) },
  ];
}

/** Tokens reserved before a call: the prompt at ~3 characters a token (generous), plus the output cap. */
export function estimateTokens(messages: ChatMessage[], maxOutputTokens: number): number {
  return Math.ceil(messages.reduce((n, m) => n + m.content.length + 8, 0) / 3) + maxOutputTokens;
}

/** The output cap: the masked content's length times the allowed growth, at ~3 characters a token. */
export const maxOutputTokens = (masked: Parts, maxRatio: number): number =>
  Math.min(32_000, Math.ceil((JSON.stringify(masked).length * maxRatio) / 3) + 64);

/**
 * The cache key: SHA-256 over everything that decides the answer (endpoint, model, the
 * instructions and the masked content). Masked, so two messages that differ only in a
 * recipient's identifiers share one entry.
 */
export const contentHash = (baseUrl: string, model: string, instructions: string, masked: Parts): Promise<string> =>
  sha256Hex(JSON.stringify(["relay-llm-v1", baseUrl, model, instructions, PART_KEYS.map((k) => masked[k] ?? null)]));

/** The parts in the model's answer, or null when it is not one JSON object of strings. */
export function parseAnswer(answer: string): Parts | null {
  let s = answer.trim();
  const fenced = /^```(?:json)?\s*\n?([\s\S]*?)\n?```$/i.exec(s);
  if (fenced) s = fenced[1]!.trim();
  const first = s.indexOf("{");
  const last = s.lastIndexOf("}");
  if (first < 0 || last <= first) return null;
  let value: unknown;
  try {
    value = JSON.parse(s.slice(first, last + 1));
  } catch {
    return null;
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const out: Parts = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") return null;
    out[k] = v;
  }
  return out;
}

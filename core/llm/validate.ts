// Checks an LLM answer before it may replace the message's content. Anything wrong means the
// unpersonalized content goes out instead, so these checks only ever make mail more boring,
// never lost. The result names what failed (a code, never the text).
import { placeholdersIn } from "./phi-guard";
import type { Parts } from "./prompt";

export type OutputProblem =
  | "parts_mismatch"
  | "empty"
  | "subject_line_break"
  | "too_short"
  | "too_long"
  | "placeholder_missing"
  | "placeholder_unknown"
  | "link_changed"
  | "active_content";

export interface Bounds {
  minRatio: number;
  maxRatio: number;
}

// Short parts (a subject of three words) may grow by some absolute characters beyond the ratio.
const SLACK = 40;
const SUBJECT_MAX = 998;

// Links as the recipient would follow them: absolute URLs, mailto/tel, and HTML attribute targets.
const LINK = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+[^\s<>"'`.,;:!?)\]}]|\b(?:mailto|tel|sms):[^\s<>"'`]+|\b(?:href|src|action)\s*=\s*(?:"[^"]*"|'[^']*')/gi;
// Things in HTML that run or submit: a model must never add one the author did not write.
const ACTIVE = /<\s*(?:script|iframe|object|embed|form|meta|base|link)\b|\bon[a-z]+\s*=|javascript:|data:text\/html/gi;

const linksIn = (s: string): string[] => (s.match(LINK) ?? []).map((l) => l.replace(/\s+/g, "")).sort();
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

/** `input` and `output` are the masked parts; `known` the placeholders the guard handed out. */
export function validateAnswer(
  input: Parts,
  output: Parts,
  known: Record<string, string>,
  bounds: Bounds,
): OutputProblem | null {
  const keys = Object.keys(input).sort();
  if (Object.keys(output).sort().join() !== keys.join()) return "parts_mismatch";
  for (const k of keys) {
    const before = input[k]!;
    const after = output[k]!;
    if (after.trim() === "") return "empty";
    if (k === "subject" && (/[\r\n\u2028\u2029]/.test(after) || after.length > SUBJECT_MAX)) return "subject_line_break";
    if (after.length < Math.floor(before.length * bounds.minRatio)) return "too_short";
    if (after.length > Math.ceil(before.length * bounds.maxRatio) + SLACK) return "too_long";
    const had = placeholdersIn(before);
    const has = placeholdersIn(after);
    for (const p of had) if (!has.has(p)) return "placeholder_missing";
    for (const p of has) if (!Object.prototype.hasOwnProperty.call(known, p)) return "placeholder_unknown";
    // Links were masked, so a link in the answer that the input did not show is one the model made up.
    const shown = new Set(linksIn(before));
    if (linksIn(after).some((l) => !shown.has(l))) return "link_changed";
    if (count(after, ACTIVE) > count(before, ACTIVE)) return "active_content";
  }
  return null;
}

/** After restoring: every link of the original part is in the answer's part, and no other. */
export function linksPreserved(original: Parts, restored: Parts): boolean {
  return Object.keys(original).every((k) => {
    const a = new Set(linksIn(original[k]!));
    const b = new Set(linksIn(restored[k] ?? ""));
    return a.size === b.size && [...a].every((l) => b.has(l));
  });
}

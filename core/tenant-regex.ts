// Regular expressions a tenant supplies (DLP rules, LLM PHI patterns) run on RE2 (the `re2js`
// port), never on V8's backtracking engine: RE2 matches in time linear in the input, so a
// pattern like (a+)+$ cannot stall the isolate that also serves other workspaces. The price is
// RE2's syntax: no backreferences and no lookaround (they are what makes backtracking
// necessary); these are refused at save time with a reason. RE2's work is linear in input
// length times program size, so the program size is capped too.
import { RE2JS } from "re2js";

/** Compiled-program cap: bounds the per-character cost (RE2 is O(input × program)). */
export const MAX_PROGRAM_SIZE = 400;

export interface TenantPattern {
  pattern: string;
  /** Only "i" (case-insensitive) is offered to tenants. */
  flags?: string | undefined;
}

export type Compiled = { ok: true; re: RE2JS } | { ok: false; reason: string };

// Compiled patterns are reused across messages (a DLP policy is checked on every send); the
// map is bounded so tenants cannot grow it without limit.
const cache = new Map<string, Compiled>();
const CACHE_MAX = 500;

/** Why RE2 cannot take the pattern, in words a tenant can act on (null: unknown). */
function unsupportedFeature(pattern: string): string | null {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      const next = pattern[i + 1] ?? "";
      if (!inClass && (/[1-9]/.test(next) || next === "k")) return "backreferences (\\1, \\k<name>) are not supported";
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      continue;
    }
    if (ch === "[") inClass = true;
    else if (ch === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith("=") || rest.startsWith("!") || rest === "<=" || rest === "<!") return "lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported";
    }
  }
  return null;
}

function compileUncached(p: TenantPattern): Compiled {
  if (p.flags && p.flags !== "i") return { ok: false, reason: "only the flag 'i' is allowed" };
  let re: RE2JS;
  try {
    re = RE2JS.compile(p.pattern, p.flags === "i" ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (e) {
    const feature = unsupportedFeature(p.pattern);
    const detail = feature ?? (e instanceof Error ? e.message.replace(/^error parsing regexp: /, "") : "invalid");
    return { ok: false, reason: `not a valid regular expression for the linear-time (RE2) engine: ${detail}` };
  }
  const size = re.programSize();
  if (size > MAX_PROGRAM_SIZE) return { ok: false, reason: `too complex for the linear-time (RE2) engine: ${size} instructions, at most ${MAX_PROGRAM_SIZE} (large counted repeats like {500} expand)` };
  return { ok: true, re };
}

export function compileTenantPattern(p: TenantPattern): Compiled {
  const key = `${p.flags ?? ""}/${p.pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const compiled = compileUncached(p);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

/** Null when the pattern is usable, else the reason (for a 400 at save time). */
export function tenantPatternProblem(p: TenantPattern): string | null {
  const c = compileTenantPattern(p);
  return c.ok ? null : c.reason;
}

/** Start and end (UTF-16 offsets) of every non-empty match, left to right. */
export function* tenantMatches(re: RE2JS, text: string): Generator<{ start: number; end: number }> {
  for (const m of re.matchAll(text)) {
    if (m[0].length === 0) continue;
    yield { start: m.index!, end: m.index! + m[0].length };
  }
}

// Regular expressions a tenant supplies (DLP rules, LLM PHI patterns) run on RE2 (the `re2js`
// port), never on V8's backtracking engine: RE2 matches in time linear in the input, so a
// pattern like (a+)+$ cannot stall the isolate that also serves other workspaces. The price is
// RE2's syntax: no backreferences and no lookaround (they are what makes backtracking
// necessary); these are refused at save time with a reason. RE2's work is linear in input
// length times program size, so the program size is capped too.
//
// The engine is a value the caller passes in, not an import: re2js is ~45 KiB gzip that most
// requests never need (a workspace without DLP rules or PHI patterns never compiles one), so
// the Worker loads it lazily as a module of its own (workers/lazy-libs.ts loadRe2) and only
// where a pattern is actually compiled; core may not import workers/, and a module-level
// "installed engine" would make every sync caller depend on someone having awaited it first.
// Tests and benchmarks pass the statically imported class. Only its type is imported here, so
// nothing of re2js lands in a bundle through core.
import type { RE2JS } from "re2js";

/** The RE2 engine: re2js's RE2JS class (workers/lazy-libs.ts loadRe2, or `import { RE2JS } from "re2js"`). */
export type RegexEngine = typeof RE2JS;
/** A tenant pattern compiled on RE2. */
export type TenantRegex = RE2JS;

/** Compiled-program cap: bounds the per-character cost (RE2 is O(input × program)). */
export const MAX_PROGRAM_SIZE = 400;

export interface TenantPattern {
  pattern: string;
  /** Only "i" (case-insensitive) is offered to tenants. */
  flags?: string | undefined;
}

export type Compiled = { ok: true; re: TenantRegex } | { ok: false; reason: string };

// Compiled patterns are reused across messages (a DLP policy is checked on every send); each
// map is bounded so tenants cannot grow it without limit. Keyed by engine so a result is never
// served for an engine other than the one that produced it (in practice there is one).
const caches = new WeakMap<RegexEngine, Map<string, Compiled>>();
const CACHE_MAX = 500;

const FLAGS_REASON = "only the flag 'i' is allowed";
const invalid = (detail: string) => `not a valid regular expression for the linear-time (RE2) engine: ${detail}`;

// Outside a class, \1-\7 followed by an octal digit is an octal escape (\12 is a newline, which
// RE2 accepts); any other \1-\9, and \k, is a backreference, which RE2 refuses.
const isBackreference = (pattern: string, at: number) => {
  const d = pattern[at] ?? "";
  if (d === "k") return true;
  if (!/[1-9]/.test(d)) return false;
  return !(/[1-7]/.test(d) && /[0-7]/.test(pattern[at + 1] ?? ""));
};

/**
 * What visibly makes the pattern one RE2 refuses (backreferences, lookaround), in words a tenant
 * can act on; null: nothing visible (RE2 may still refuse it). Read the way RE2's parser reads
 * it — escapes, \Q…\E literals, classes with a leading ']' and [:name:] — so that it is sound:
 * whatever it names, RE2 refuses too (tenant-regex.test.ts checks this against the engine). That
 * is what lets it run without the engine (tenantPatternSyntaxProblem).
 */
function unsupportedFeature(pattern: string): string | null {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      if (!inClass && pattern[i + 1] === "Q") {
        const end = pattern.indexOf("\\E", i + 2);
        if (end < 0) return null; // the rest is literal text
        i = end + 1;
        continue;
      }
      if (!inClass && isBackreference(pattern, i + 1)) return "backreferences (\\1, \\k<name>) are not supported";
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "[" && pattern[i + 1] === ":") {
        const end = pattern.indexOf(":]", i + 2);
        if (end >= 0) i = end + 1;
      } else if (ch === "]") inClass = false;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      // A ']' first in the class (after an optional '^') is a literal, not its end.
      if (pattern[i + 1] === "^") i++;
      if (pattern[i + 1] === "]") i++;
    } else if (ch === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith("=") || rest.startsWith("!") || rest === "<=" || rest === "<!") return "lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported";
    }
  }
  return null;
}

/**
 * The part of the check that needs no engine: a flag other than i, backreferences, lookaround.
 * Stored settings are parsed with it on hot paths (parseWorkspaceConfig on every accept), where
 * loading RE2 for every workspace would undo the point of loading it lazily; the full check
 * (tenantPatternProblem) runs at save time and where the pattern is compiled for use.
 */
export function tenantPatternSyntaxProblem(p: TenantPattern): string | null {
  if (p.flags && p.flags !== "i") return FLAGS_REASON;
  const feature = unsupportedFeature(p.pattern);
  return feature ? invalid(feature) : null;
}

function compileUncached(engine: RegexEngine, p: TenantPattern): Compiled {
  if (p.flags && p.flags !== "i") return { ok: false, reason: FLAGS_REASON };
  let re: TenantRegex;
  try {
    re = engine.compile(p.pattern, p.flags === "i" ? engine.CASE_INSENSITIVE : 0);
  } catch (e) {
    const feature = unsupportedFeature(p.pattern);
    return { ok: false, reason: invalid(feature ?? (e instanceof Error ? e.message.replace(/^error parsing regexp: /, "") : "invalid")) };
  }
  const size = re.programSize();
  if (size > MAX_PROGRAM_SIZE) return { ok: false, reason: `too complex for the linear-time (RE2) engine: ${size} instructions, at most ${MAX_PROGRAM_SIZE} (large counted repeats like {500} expand)` };
  return { ok: true, re };
}

export function compileTenantPattern(engine: RegexEngine, p: TenantPattern): Compiled {
  let cache = caches.get(engine);
  if (!cache) caches.set(engine, (cache = new Map()));
  const key = `${p.flags ?? ""}/${p.pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const compiled = compileUncached(engine, p);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

/** Null when the pattern is usable, else the reason (for a 400 at save time). */
export function tenantPatternProblem(engine: RegexEngine, p: TenantPattern): string | null {
  const c = compileTenantPattern(engine, p);
  return c.ok ? null : c.reason;
}

/** Start and end (UTF-16 offsets) of every non-empty match, left to right. */
export function* tenantMatches(re: TenantRegex, text: string): Generator<{ start: number; end: number }> {
  for (const m of re.matchAll(text)) {
    if (m[0].length === 0) continue;
    yield { start: m.index!, end: m.index! + m[0].length };
  }
}

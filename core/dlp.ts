// Data-loss prevention: identifiers a workspace forbids in outgoing mail (medical record numbers
// in a subject line, national ids, ...), as regular expressions over chosen parts of the
// message. Policy `reject` refuses the message at accept (nothing is stored); `allow` accepts it
// and marks it (tag `dlp:flagged`, an audit row). The scanner never reports what matched, only
// which rule did, so the finding itself carries no PHI.
//
// Patterns run on RE2 (core/tenant-regex.ts): linear time, so a tenant's pattern cannot stall
// the isolate. The engine is passed in (a lazily loaded module, see core/tenant-regex.ts): the
// save route awaits it to check a policy (dlpPolicyProblem), and accept awaits it only for a
// workspace whose stored policy has rules (dlpDecision). A stored rule RE2 cannot compile
// (saved before RE2, when V8 syntax such as lookahead was accepted) fails closed: it counts as
// matched, so a `reject` policy refuses the workspace's mail and an `allow` policy flags it,
// until an admin fixes the rule. Silently skipping it would let the identifier it was written
// for leave unchecked.
import { z } from "@hono/zod-openapi";
import type { MessageContent } from "./content";
import { fromBase64, fromUtf8 } from "./encoding";
import { compileTenantPattern, tenantPatternProblem, type RegexEngine } from "./tenant-regex";

export const DLP_FIELDS = ["subject", "text", "html", "headers", "attachment_names", "raw"] as const;
export type DlpField = (typeof DLP_FIELDS)[number];

// Content beyond this many characters per field is not scanned: a bound on regex work per
// message (patterns are also length-capped), stated in the README.
const MAX_SCAN_CHARS = 512 * 1024;

const ruleShape = z
  .object({
    name: z.string().regex(/^[\w.-]{1,64}$/, "1-64 letters, digits, '_', '.' or '-'"),
    pattern: z.string().min(1).max(256),
    flags: z.string().regex(/^i?$/, "only 'i' is allowed").optional(),
    fields: z.array(z.enum(DLP_FIELDS)).min(1).default(["subject", "text", "html", "attachment_names", "raw"]),
  })
  .strict();

/**
 * A policy, as saved and as read back. Whether every pattern compiles on RE2 is not part of it:
 * that needs the engine, which a synchronous schema cannot await, and the schema also parses
 * stored policies on every accept. The save route checks it after parsing (dlpPolicyProblem);
 * what is read back is never refused for it (see failing closed above).
 */
export const dlpPolicySchema = z
  .object({
    action: z.enum(["reject", "allow"]),
    rules: z.array(ruleShape).max(20),
  })
  .strict()
  .openapi("DlpPolicy", {
    description: "Patterns are RE2 syntax (linear-time matching): no backreferences, no lookahead or lookbehind.",
  });

export type DlpPolicy = z.infer<typeof dlpPolicySchema>;

/** What may be saved: every pattern compiles on RE2, or the first that does not, with the reason (a 400). */
export function dlpPolicyProblem(engine: RegexEngine, policy: DlpPolicy): { path: string; message: string } | null {
  for (const [i, rule] of policy.rules.entries()) {
    const problem = tenantPatternProblem(engine, rule);
    if (problem) return { path: `rules.${i}.pattern`, message: problem };
  }
  return null;
}

function fieldTexts(content: MessageContent, field: DlpField): string[] {
  if (content.kind === "raw") {
    if (field !== "raw" && field !== "subject" && field !== "headers") return [];
    const bytes = fromBase64(content.raw);
    return bytes ? [fromUtf8.decode(bytes.subarray(0, MAX_SCAN_CHARS))] : [];
  }
  switch (field) {
    case "subject":
      return [content.subject];
    case "text":
      return content.text ? [content.text] : [];
    case "html":
      return content.html ? [content.html] : [];
    case "headers":
      return content.headers.map(([n, v]) => `${n}: ${v}`);
    case "attachment_names":
      return content.attachments.map((a) => a.filename);
    case "raw":
      return [];
  }
}

export interface DlpScan {
  /** Names of the rules the content matches (empty: clean). */
  hits: string[];
  /** Stored rules RE2 cannot compile; they are among `hits` (fail closed). */
  unusable: string[];
}

export function scanContent(engine: RegexEngine, policy: DlpPolicy, content: MessageContent): DlpScan {
  const hits: string[] = [];
  const unusable: string[] = [];
  for (const rule of policy.rules) {
    const compiled = compileTenantPattern(engine, rule);
    if (!compiled.ok) {
      unusable.push(rule.name);
      hits.push(rule.name);
      continue;
    }
    const texts = rule.fields.flatMap((f) => fieldTexts(content, f));
    if (texts.some((t) => compiled.re.test(t.length > MAX_SCAN_CHARS ? t.slice(0, MAX_SCAN_CHARS) : t))) hits.push(rule.name);
  }
  return { hits, unusable };
}

export function parseDlpPolicy(value: unknown): DlpPolicy | null {
  const parsed = dlpPolicySchema.safeParse(value);
  return parsed.success && parsed.data.rules.length > 0 ? parsed.data : null;
}

export type DlpDecision = { action: "pass" } | { action: "reject" | "flag"; rules: string[] };

/**
 * What the workspace's policy says about this content. The caller parses the stored policy
 * first (parseDlpPolicy, no engine needed) so that a workspace without rules never loads RE2.
 */
export function dlpDecision(engine: RegexEngine, policy: DlpPolicy, content: MessageContent): DlpDecision {
  const { hits, unusable } = scanContent(engine, policy, content);
  if (unusable.length > 0) {
    // core has no logger binding; this line carries rule names only (never content), which
    // workers/log.ts would pass through unchanged too.
    console.warn(JSON.stringify({ level: "warn", event: "dlp_rule_unusable", rules: unusable.join(","), effect: "counted as matched (fail closed)" }));
  }
  if (hits.length === 0) return { action: "pass" };
  return { action: policy.action === "reject" ? "reject" : "flag", rules: hits };
}

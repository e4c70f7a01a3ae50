// Data-loss prevention: identifiers a workspace forbids in outgoing mail (medical record numbers
// in a subject line, national ids, ...), as regular expressions over chosen parts of the
// message. Policy `reject` refuses the message at accept (nothing is stored); `allow` accepts it
// and marks it (tag `dlp:flagged`, an audit row). The scanner never reports what matched, only
// which rule did, so the finding itself carries no PHI.
//
// Patterns run on RE2 (core/tenant-regex.ts): linear time, so a tenant's pattern cannot stall
// the isolate. A stored rule RE2 cannot compile (saved before RE2, when V8 syntax such as
// lookahead was accepted) fails closed: it counts as matched, so a `reject` policy refuses the
// workspace's mail and an `allow` policy flags it, until an admin fixes the rule. Silently
// skipping it would let the identifier it was written for leave unchecked.
import { z } from "@hono/zod-openapi";
import type { MessageContent } from "./content";
import { fromBase64, fromUtf8 } from "./encoding";
import { compileTenantPattern, tenantPatternProblem } from "./tenant-regex";

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

/** What may be saved: every pattern compiles on RE2, or the save is a 400 saying why. */
const ruleSchema = ruleShape.superRefine((r, ctx) => {
  const problem = tenantPatternProblem(r);
  if (problem) ctx.addIssue({ code: "custom", path: ["pattern"], message: problem });
});

const policyShape = <R extends z.ZodType>(rule: R) =>
  z
    .object({
      action: z.enum(["reject", "allow"]),
      rules: z.array(rule).max(20),
    })
    .strict();

export const dlpPolicySchema = policyShape(ruleSchema).openapi("DlpPolicy", {
  description: "Patterns are RE2 syntax (linear-time matching): no backreferences, no lookahead or lookbehind.",
});

/** What is read back: the same shape, without the compile check (see failing closed above). */
const storedPolicySchema = policyShape(ruleShape);

export type DlpPolicy = z.infer<typeof storedPolicySchema>;

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

export function scanContent(policy: DlpPolicy, content: MessageContent): DlpScan {
  const hits: string[] = [];
  const unusable: string[] = [];
  for (const rule of policy.rules) {
    const compiled = compileTenantPattern(rule);
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
  const parsed = storedPolicySchema.safeParse(value);
  return parsed.success && parsed.data.rules.length > 0 ? parsed.data : null;
}

export type DlpDecision = { action: "pass" } | { action: "reject" | "flag"; rules: string[] };

/** What the workspace's stored policy (if any) says about this content. */
export function dlpDecision(stored: unknown, content: MessageContent): DlpDecision {
  const policy = stored ? parseDlpPolicy(stored) : null;
  if (!policy) return { action: "pass" };
  const { hits, unusable } = scanContent(policy, content);
  if (unusable.length > 0) {
    // core has no logger binding; this line carries rule names only (never content), which
    // workers/log.ts would pass through unchanged too.
    console.warn(JSON.stringify({ level: "warn", event: "dlp_rule_unusable", rules: unusable.join(","), effect: "counted as matched (fail closed)" }));
  }
  if (hits.length === 0) return { action: "pass" };
  return { action: policy.action === "reject" ? "reject" : "flag", rules: hits };
}

// Data-loss prevention: identifiers a workspace forbids in outgoing mail (medical record numbers
// in a subject line, national ids, ...), as regular expressions over chosen parts of the
// message. Policy `reject` refuses the message at accept (nothing is stored); `allow` accepts it
// and marks it (tag `dlp:flagged`, an audit row). The scanner never reports what matched, only
// which rule did, so the finding itself carries no PHI.
import { z } from "@hono/zod-openapi";
import type { MessageContent } from "./content";
import { fromBase64, fromUtf8 } from "./encoding";

export const DLP_FIELDS = ["subject", "text", "html", "headers", "attachment_names", "raw"] as const;
export type DlpField = (typeof DLP_FIELDS)[number];

// Content beyond this many characters per field is not scanned: a bound on regex work per
// message (patterns are also length-capped), stated in the README.
const MAX_SCAN_CHARS = 512 * 1024;

const compiles = (r: { pattern: string; flags?: string | undefined }) => {
  try {
    new RegExp(r.pattern, r.flags ?? "");
    return true;
  } catch {
    return false;
  }
};

const ruleSchema = z
  .object({
    name: z.string().regex(/^[\w.-]{1,64}$/, "1-64 letters, digits, '_', '.' or '-'"),
    pattern: z.string().min(1).max(256),
    flags: z.string().regex(/^i?$/, "only 'i' is allowed").optional(),
    fields: z.array(z.enum(DLP_FIELDS)).min(1).default(["subject", "text", "html", "attachment_names", "raw"]),
  })
  .strict()
  .refine(compiles, "pattern is not a valid regular expression");

export const dlpPolicySchema = z
  .object({
    action: z.enum(["reject", "allow"]),
    rules: z.array(ruleSchema).max(20),
  })
  .strict()
  .openapi("DlpPolicy");

export type DlpPolicy = z.infer<typeof dlpPolicySchema>;

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

/** Names of the rules the content matches (empty: clean). */
export function scanContent(policy: DlpPolicy, content: MessageContent): string[] {
  const hits: string[] = [];
  for (const rule of policy.rules) {
    const re = new RegExp(rule.pattern, rule.flags ?? "");
    const texts = rule.fields.flatMap((f) => fieldTexts(content, f));
    if (texts.some((t) => re.test(t.length > MAX_SCAN_CHARS ? t.slice(0, MAX_SCAN_CHARS) : t))) hits.push(rule.name);
  }
  return hits;
}

export function parseDlpPolicy(value: unknown): DlpPolicy | null {
  const parsed = dlpPolicySchema.safeParse(value);
  return parsed.success && parsed.data.rules.length > 0 ? parsed.data : null;
}

export type DlpDecision = { action: "pass" } | { action: "reject" | "flag"; rules: string[] };

/** What the workspace's stored policy (if any) says about this content. */
export function dlpDecision(stored: unknown, content: MessageContent): DlpDecision {
  const policy = stored ? parseDlpPolicy(stored) : null;
  if (!policy) return { action: "pass" };
  const rules = scanContent(policy, content);
  if (rules.length === 0) return { action: "pass" };
  return { action: policy.action === "reject" ? "reject" : "flag", rules };
}

// Recipient data for templates: one batched lookup of the recipients' profiles, decrypted into
// their variables (FIRST_NAME, LAST_NAME, custom fields). Used by strict mode at accept and by
// per-recipient rendering in the dispatcher.
import type { StructuredContent } from "../core/content";
import type { Keyring } from "../core/crypto";
import { RelayError } from "../core/errors";
import { usesTrending, type TrendingQuestions } from "../core/trending";
import { recipientVariables, renderTemplate, unknownVariables, usesVariables } from "../core/variables";
import { openRecipient, type RecipientStore } from "../db/store/recipients";

/** The templated parts of structured content (raw MIME is never templated). */
export const templatedParts = (c: StructuredContent): (string | undefined)[] => [c.subject, c.text, c.html];

export const contentUsesVariables = (c: StructuredContent): boolean => usesVariables(...templatedParts(c));

/** Where the profiles are read: the store's recipients group (`store.recipients`). */
export type ProfileSource = Pick<RecipientStore, "recipientsByEmails">;

/** Lower-cased address → that recipient's variables; addresses without a profile are absent. */
export async function loadRecipientVariables(source: ProfileSource, keys: Keyring, workspaceId: string, emails: string[]): Promise<Map<string, Record<string, string>>> {
  const rows = await source.recipientsByEmails(workspaceId, emails);
  const out = new Map<string, Record<string, string>>();
  for (const r of rows) out.set(r.email.toLowerCase(), recipientVariables(await openRecipient(keys, r)));
  return out;
}

/**
 * Strict mode: every variable used without a default must have a value for every recipient
 * (from their profile, the message or the workspace); otherwise 422 naming the first unknown.
 */
export async function enforceStrictVariables(
  source: ProfileSource,
  keys: Keyring,
  workspaceId: string,
  content: StructuredContent,
  workspaceVariables: Record<string, unknown>,
  emails: string[],
  trending: TrendingQuestions,
): Promise<void> {
  if (usesTrending(content) && trending.questions.length === 0) {
    throw new RelayError("unprocessable", "unknown variable: TRENDING_QUESTION (strict_variables is on and the workspace has no trending questions; set them with PUT /v1/workspace/trending-questions)");
  }
  if (!contentUsesVariables(content)) return;
  const shared = new Set([...Object.keys(content.variables), ...Object.keys(workspaceVariables)]);
  const unknown = new Set(unknownVariables(shared, ...templatedParts(content)));
  if (unknown.size === 0) return;
  // What is left must come from every recipient's own profile.
  const profiles = await loadRecipientVariables(source, keys, workspaceId, emails);
  const missing = [...unknown].filter((name) => emails.length === 0 || emails.some((e) => profiles.get(e.toLowerCase())?.[name] === undefined));
  if (missing.length > 0) {
    throw new RelayError("unprocessable", `unknown variable${missing.length > 1 ? "s" : ""}: ${missing.join(", ")} (strict_variables is on; define ${missing.length > 1 ? "them" : "it"} or add a default like {{${missing[0]}|...}})`);
  }
}

/**
 * One recipient's copy of templated content: only their own address in To (no Cc, nobody
 * else's address), and every variable resolved for them (recipient > message > workspace >
 * default), HTML-escaped in the HTML part, CR/LF-free in the subject.
 */
export function personalCopy(
  content: StructuredContent,
  email: string,
  recipient: Record<string, string>,
  workspaceVariables: Record<string, string | number | boolean>,
): StructuredContent {
  const lower = email.toLowerCase();
  const own = [...content.to, ...content.cc].find((m) => m.address.toLowerCase() === lower) ?? { address: email, name: "" };
  const sources = { recipient, message: content.variables, workspace: workspaceVariables };
  return {
    ...content,
    to: [own],
    cc: [],
    subject: renderTemplate(content.subject, sources, "header"),
    ...(content.text !== undefined ? { text: renderTemplate(content.text, sources, "text") } : {}),
    ...(content.html !== undefined ? { html: renderTemplate(content.html, sources, "html") } : {}),
  };
}

// RFC 822-style field blocks as used by message/delivery-status (RFC 3464) and
// message/feedback-report (RFC 5965): "Name: value" lines, folded continuation lines, blocks
// separated by blank lines. Tolerant: anything that is not a field is skipped.

export type FieldBlock = Map<string, string>;

export { addressField } from "./address";

export function parseFieldBlocks(text: string): FieldBlock[] {
  const blocks: FieldBlock[] = [];
  let current: FieldBlock = new Map();
  let lastKey: string | null = null;
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    if (line.trim() === "") {
      if (current.size > 0) blocks.push(current);
      current = new Map();
      lastKey = null;
      continue;
    }
    if (/^[ \t]/.test(line) && lastKey) {
      current.set(lastKey, `${current.get(lastKey)} ${line.trim()}`);
      continue;
    }
    const m = /^([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.*)$/.exec(line);
    if (!m) {
      lastKey = null;
      continue;
    }
    const key = m[1]!.toLowerCase();
    // Some MTAs run recipients' blocks together without the blank line between them.
    if (key === "final-recipient" && current.has(key)) {
      blocks.push(current);
      current = new Map();
    }
    lastKey = key;
    // The first occurrence wins (later ones are usually repeats or comments).
    if (!current.has(key)) current.set(key, m[2]!.trim());
  }
  if (current.size > 0) blocks.push(current);
  return blocks;
}

/** The enhanced status code (RFC 3463) in a Status field or a diagnostic text, e.g. "5.1.1". */
export function enhancedStatus(text: string | undefined): string | null {
  return enhancedStatuses(text)[0] ?? null;
}

/** Every enhanced status code in a text, in order. */
export function enhancedStatuses(text: string | undefined): string[] {
  if (!text) return [];
  return [...text.matchAll(/(?:^|[^\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)/g)].map((m) => `${m[1]}.${m[2]}.${m[3]}`);
}

/**
 * The failure a prose text reports: its first 4.x.x or 5.x.x status, else its first status. A
 * transcript quotes the server's 2.x.x answers before the one that failed.
 */
export function failureStatus(text: string | undefined): string | null {
  const all = enhancedStatuses(text);
  return all.find((s) => s[0] !== "2") ?? all[0] ?? null;
}

/** A three-digit SMTP reply code in a diagnostic text, e.g. "550". */
export function smtpReplyCode(text: string | undefined): string | null {
  return smtpReplyCodes(text)[0] ?? null;
}

/** Every SMTP reply code in a text, in order ("ERROR_CODE :421," counts: a comma may follow). */
export function smtpReplyCodes(text: string | undefined): string[] {
  if (!text) return [];
  return [...text.matchAll(/(?:^|[\s;:(<"'=])([245][0-5]\d)(?=[\s,-]|$)/gm)].map((m) => m[1]!);
}

/** The first 4xx or 5xx reply code in a text, else its first code. */
export function failureReplyCode(text: string | undefined): string | null {
  const all = smtpReplyCodes(text);
  return all.find((c) => c[0] !== "2") ?? all[0] ?? null;
}

/**
 * A DSN recipient's status. The remote server's own code, as its reply gives it right after the
 * reply code (`550 5.7.1 ...`, `550-'5.2.2 ...`), is the most specific witness, so it is taken when
 * it is of the Status field's class (Amazon SES writes its generic `5.1.0 - Unknown address error`
 * before quoting the server; Sendmail's Status 5.1.1 may sit over a `550 5.7.1` reply). Then the
 * Status field, unless it is only a class (x.0.0); then any specific code the diagnostic names.
 */
export function dsnStatus(statusField: string | undefined, diagnostic: string | undefined): string | null {
  const field = enhancedStatus(statusField);
  const sameClass = (s: string) => !field || s[0] === field[0];
  const generic = (s: string) => /^\d\.0\.0$/.test(s);
  const replied = [...(diagnostic ?? "").matchAll(/(?:^|[^\d.])[245]\d\d[ -]['"]?([245]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/g)].map((m) => m[1]!);
  const fromReply = replied.find((s) => sameClass(s) && !generic(s));
  if (fromReply) return fromReply;
  if (field && !generic(field)) return field;
  const specific = enhancedStatuses(diagnostic).filter((s) => !generic(s) && sameClass(s));
  return specific.at(-1) ?? field ?? enhancedStatus(diagnostic);
}

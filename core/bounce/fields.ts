// RFC 822-style field blocks as used by message/delivery-status (RFC 3464) and
// message/feedback-report (RFC 5965): "Name: value" lines, folded continuation lines, blocks
// separated by blank lines. Tolerant: anything that is not a field is skipped.

export type FieldBlock = Map<string, string>;

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
    lastKey = key;
    // The first occurrence wins (later ones are usually repeats or comments).
    if (!current.has(key)) current.set(key, m[2]!.trim());
  }
  if (current.size > 0) blocks.push(current);
  return blocks;
}

/** `rfc822; user@example.org` → `user@example.org` (address-type prefix and brackets removed). */
export function addressField(value: string | undefined): string | null {
  if (!value) return null;
  const v = value.includes(";") ? value.slice(value.indexOf(";") + 1) : value;
  const m = /<?([^\s<>;"]+@[^\s<>;"]+?)>?(?:\s|$)/.exec(v.trim() + " ");
  return m ? m[1]!.replace(/[.,]+$/, "").toLowerCase() : null;
}

/** The enhanced status code (RFC 3463) in a Status field or a diagnostic text, e.g. "5.1.1". */
export function enhancedStatus(text: string | undefined): string | null {
  if (!text) return null;
  const m = /(?:^|[^\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)/.exec(text);
  return m ? `${m[1]}.${m[2]}.${m[3]}` : null;
}

/** A three-digit SMTP reply code in a diagnostic text, e.g. "550". */
export function smtpReplyCode(text: string | undefined): string | null {
  if (!text) return null;
  const m = /(?:^|[\s;:(<"'=])([245][0-5]\d)(?=[\s-]|$)/m.exec(text);
  return m ? m[1]! : null;
}

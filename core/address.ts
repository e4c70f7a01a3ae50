// Addresses are parsed, never concatenated: nodemailer's addressparser is the maintained
// RFC 5322 address-list parser (handles quoting, comments, groups); we only add the strictness
// a relay needs (one mailbox, a plausible addr-spec, no CR/LF, a length cap).
import addressparser from "nodemailer/lib/addressparser";

export interface Mailbox {
  /** Lower-cased domain, local part kept as given (local parts may be case-sensitive). */
  address: string;
  name: string;
}

// Dot-atom local part or a quoted string; a domain of LDH labels with a TLD, or an IP literal.
const LOCAL = /^(?:[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*")$/;
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function isValidAddrSpec(addr: string): boolean {
  if (addr.length > 254 || /[\r\n\0]/.test(addr)) return false;
  const at = addr.lastIndexOf("@");
  if (at < 1 || at === addr.length - 1) return false;
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  if (local.length > 64 || !LOCAL.test(local)) return false;
  if (domain.startsWith("[") && domain.endsWith("]")) return false; // IP literals are not deliverable through providers
  const labels = domain.split(".");
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) && /[A-Za-z]/.test(labels[labels.length - 1]!);
}

export function normalizeAddress(addr: string): string {
  const at = addr.lastIndexOf("@");
  return addr.slice(0, at) + "@" + addr.slice(at + 1).toLowerCase();
}

export const domainOf = (addr: string): string => addr.slice(addr.lastIndexOf("@") + 1).toLowerCase();

/** Parses exactly one mailbox ("Name <a@b.c>" or "a@b.c"); null when it is not one valid mailbox. */
// A bare dot-atom address (no name, quotes, comments, brackets, spaces or separators): what most
// API callers send. addressparser returns such input unchanged, so it is validated directly
// (parsing it was a measurable share of accept's CPU).
const BARE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+@[A-Za-z0-9.-]+$/;

export function parseMailbox(input: string): Mailbox | null {
  if (BARE.test(input)) return isValidAddrSpec(input) ? { address: normalizeAddress(input), name: "" } : null;
  if (/[\r\n\0]/.test(input) || input.length > 998) return null;
  const parsed = addressparser(input, { flatten: true });
  if (parsed.length !== 1) return null;
  const only = parsed[0]!;
  if (!("address" in only) || !only.address || !isValidAddrSpec(only.address)) return null;
  return { address: normalizeAddress(only.address), name: only.name ?? "" };
}

/** Parses an address-list header value (To, Cc) into bare addresses; invalid entries are returned separately. */
export function parseAddressList(input: string): { valid: Mailbox[]; invalid: string[] } {
  const valid: Mailbox[] = [];
  const invalid: string[] = [];
  for (const a of addressparser(input, { flatten: true })) {
    if ("address" in a && a.address && isValidAddrSpec(a.address)) valid.push({ address: normalizeAddress(a.address), name: a.name ?? "" });
    else invalid.push(("address" in a && a.address) || a.name || "");
  }
  return { valid, invalid };
}

// Email addresses as bounce reports write them: in DSN fields (`rfc822; <user@example.org>`),
// in prose (`<user@example.org>:`, `"user@example.org":`, `RCPT TO:<user@example.org>`), behind a
// source route (`<@relay.example:user@example.org>`), with a quoted local part
// (`"john smith"@example.org`, kept quoted: it is the address). Never concatenated back into a
// header: these are compared with the relay's own records only.

// A dot-atom local part (RFC 5322 atext, without the apostrophe at either end: prose quotes an
// address in single quotes) or a quoted string.
const LOCAL = String.raw`(?:"[^"\r\n]{1,64}"|[A-Za-z0-9!#$%&*+/=?^_{|}~-](?:[A-Za-z0-9!#$%&'*+/=?^_{|}~.-]{0,62}[A-Za-z0-9!#$%&*+/=?^_{|}~-])?)`;
const DOMAIN = String.raw`(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)`;

/** Every address in a text, with where it starts. A source route's hops are not addresses. */
const ANY = new RegExp(String.raw`(?<![A-Za-z0-9!#$%&*+/=?^_{|}~.@-])(${LOCAL}@${DOMAIN})`, "g");

export interface FoundAddress {
  address: string;
  index: number;
  end: number;
}

/**
 * The addresses in a text, normalised (domain lowercased, local part as written). A domain
 * without a dot is taken only when `bareHosts` (DSN fields name local hosts: `user@mailhub0`).
 */
export function findAddresses(text: string, bareHosts = false): FoundAddress[] {
  const out: FoundAddress[] = [];
  for (const m of text.matchAll(ANY)) {
    const raw = m[1]!;
    // `user@example.org.` at the end of a sentence: the dot is not the domain's.
    const trimmed = raw.replace(/[.-]+$/, "");
    const at = trimmed.lastIndexOf("@");
    const domain = trimmed.slice(at + 1);
    if (!bareHosts && !domain.includes(".") && !domain.startsWith("[")) continue;
    if (/^\d+(\.\d+)*$/.test(domain)) continue;
    // A Message-ID's `<id@host>` inside a longer token (`=?utf-8?...`, `mailto:`) is still found;
    // what is a Message-ID is decided by the caller, who knows the message's ids.
    out.push({ address: normalize(trimmed), index: m.index!, end: m.index! + raw.length });
  }
  return out;
}

/** `User@Example.ORG` → `User@example.org`: the domain is case-insensitive, the local part may not be. */
export function normalize(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? address : `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}

/** The key an address is compared by (RFC 5321 leaves local-part case to the host; mail systems ignore it). */
export const addressKey = (address: string): string => address.toLowerCase();

/**
 * A DSN recipient field: `rfc822; user@example.org`, `rfc822;<user@example.org>`, `RFC822;
 * "a b"@example.org`, `rfc822; <@relay.example:user@example.org>` (the route is dropped).
 * The address type must be rfc822 (or absent); `x-unix; |/bin/prog` names no address.
 */
export function addressField(value: string | undefined): string | null {
  if (!value) return null;
  let v = value.trim();
  const semi = v.indexOf(";");
  if (semi >= 0 && /^[A-Za-z0-9-]+$/.test(v.slice(0, semi).trim())) {
    if (!/^(rfc822|utf-8)$/i.test(v.slice(0, semi).trim())) return null;
    v = v.slice(semi + 1).trim();
  }
  // A source route: everything up to the last `:` before the address.
  v = v.replace(/^<?\s*@[^:<>]+:/, "<");
  const found = findAddresses(v, true)[0];
  return found?.address ?? null;
}

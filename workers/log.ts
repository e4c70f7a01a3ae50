// Structured JSON logs (Workers observability indexes JSON fields). Logs never hold a message
// body, a credential or a clear email address, and this module enforces it rather than trusting
// callers:
//  - fields named like content (body, text, html, subject, raw, headers, attachments, variables)
//    are replaced by "[redacted]";
//  - fields named like a person or address (email, recipient, name, ...) are tokenized, and so are
//    envelope fields (to, from, cc, ...) holding an address;
//  - every other string has email addresses (with any display name before them), API keys and
//    JWTs replaced.
// A token is a keyed HMAC-SHA256 of the lower-cased address (key: the LOG_TOKEN_KEY secret), so
// the same address gives the same token in every log line and isolate, and a reader holding the
// key can find one person's lines (`piiToken(address)`), while the logs alone reveal nothing.
import { env } from "cloudflare:workers";
import { createHmac, randomBytes } from "node:crypto";

type Scalar = string | number | boolean | null | undefined;
type Fields = Record<string, Scalar>;

let tokenKey: string | Uint8Array | null = null;

function key(): string | Uint8Array {
  if (tokenKey === null) {
    const configured = (env as unknown as Record<string, unknown>)["LOG_TOKEN_KEY"];
    if (typeof configured === "string" && configured.length >= 16) tokenKey = configured;
    else {
      // Without the secret, tokens are still unlinkable to addresses but only stable within
      // this isolate; say so once.
      tokenKey = new Uint8Array(randomBytes(32));
      emit("warn", "log_token_key_missing", { detail: "LOG_TOKEN_KEY is not set; PII tokens are stable per isolate only" });
    }
  }
  return tokenKey;
}

/** The log token of a piece of personal data (an address, a name). */
// Tokens of recently logged values: every delivery logs its recipient, and an HMAC per line
// showed in the delivery profile. Bounded, and in isolate memory only (like the mail in flight).
const tokens = new Map<string, string>();

export function piiToken(value: string): string {
  const norm = value.trim().toLowerCase();
  let token = tokens.get(norm);
  if (token === undefined) {
    token = `pii_${createHmac("sha256", key()).update(norm).digest("base64url").slice(0, 22)}`;
    if (tokens.size >= 10_000) tokens.clear();
    tokens.set(norm, token);
  }
  return token;
}

/** Marks a value as personal data for a log field whose name does not say so. */
export const pii = (value: string | null | undefined): string | null => (value ? piiToken(value) : null);

const CONTENT_KEY = /(^|_)(body|bodies|text|html|subject|content|raw|headers?|attachments?|variables|password|secret|token|authorization|credentials?)$/i;
const PERSON_KEY = /(^|_)(e?mails?|addresse?s?|recipients?|(first_|last_|display_|file)?names?)$/i;
// Envelope-like keys also name non-personal things (a breaker going `from` closed `to` open), so
// their values are tokenized only when they hold an address.
const ENVELOPE_KEY = /(^|_)(to|from|cc|bcc|rcpt(_to)?|mail_from|sender|reply_to)$/i;

// An address, optionally preceded by a display name ("Jane Doe <jane@x>", "\"Doe, J\" <j@x>").
const NAMED_ADDRESS = /(?:"[^"\r\n]{0,200}"\s*|(?:[^\s<>"(),:;@]+[ \t]+){0,3})<\s*[^\s<>@]+@[^\s<>]+\s*>/g;
const BARE_ADDRESS = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+/g;
const API_KEY = /\brk_[A-Za-z0-9_-]{8,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** Free text with addresses, keys and tokens replaced. */
export function scrub(text: string): string {
  // Most values (ids, paths, codes) hold none of the three: skip the four regex passes.
  if (!text.includes("@") && !text.includes("rk_") && !text.includes("eyJ")) return text;
  return text
    .replace(API_KEY, "rk_[redacted]")
    .replace(JWT, "[jwt]")
    .replace(NAMED_ADDRESS, (m) => `<${piiToken(m.slice(m.lastIndexOf("<") + 1, m.lastIndexOf(">")))}>`)
    .replace(BARE_ADDRESS, (m) => piiToken(m));
}

function clean(name: string, value: Scalar): Scalar {
  if (typeof value !== "string") return value;
  if (value.startsWith("pii_") && /^pii_[A-Za-z0-9_-]{22}$/.test(value)) return value;
  if (CONTENT_KEY.test(name)) return "[redacted]";
  if (PERSON_KEY.test(name) || (ENVELOPE_KEY.test(name) && value.includes("@"))) return piiToken(value);
  return scrub(value);
}

function emit(level: "info" | "warn" | "error", event: string, fields: Fields): void {
  const out: Record<string, Scalar> = { level, event };
  for (const [name, value] of Object.entries(fields)) if (name !== "level" && name !== "event") out[name] = clean(name, value);
  const line = JSON.stringify(out);
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

export const log = {
  info: (event: string, fields: Fields = {}) => emit("info", event, fields),
  warn: (event: string, fields: Fields = {}) => emit("warn", event, fields),
  error: (event: string, fields: Fields = {}) => emit("error", event, fields),
};

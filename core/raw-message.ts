// Raw RFC 5322 messages from the MIME path, the SMTP bridge and inbound mail. The body is kept
// byte for byte; only the header section is read (postal-mime parses it), and the relay changes
// it in two ways: a missing Message-ID is added, and Bcc is removed (as Postfix's cleanup does)
// so blind recipients are never disclosed to the others.
import type { Email } from "postal-mime";
import { parseMailbox, type Mailbox } from "./address";
import { fromUtf8, sha256Hex, utf8 } from "./encoding";
import { RelayError } from "./errors";

const CR = 13;
const LF = 10;

const NUL = 0;

/**
 * What to do with bytes that different MTAs read differently: a bare CR (some treat it as a line
 * end, so `X-A: a\rFrom: b` is a second From downstream), and NUL (stripped by some servers, so
 * `\r\n\0.\r\n` ends DATA there). "refuse" is for submitters (HTTP raw route, SMTP bridge):
 * their client is broken or hostile and is told so. "repair" is for inbound mail from the outside
 * world, which we cannot send back: a bare CR becomes CRLF and NUL is dropped. Either way it happens
 * before any header is read, so what is checked is byte for byte what is delivered.
 */
export type LineEndPolicy = "refuse" | "repair";

/**
 * The one canonical form of a raw message for every raw path: lines end with CRLF, no bare CR,
 * no NUL. A bare LF always becomes CRLF (files written on Unix; Postfix's cleanup does the same),
 * which is safe because it happens before anything is read.
 */
export function canonicalRaw(raw: Uint8Array, policy: LineEndPolicy): Uint8Array {
  let extra = 0;
  let dropped = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (b === LF && (i === 0 || raw[i - 1] !== CR)) extra++;
    else if (b === CR && raw[i + 1] !== LF) {
      if (policy === "refuse") throw new RelayError("invalid_mime", `message contains a bare CR (at byte ${i}); lines must end with CRLF`);
      extra++;
    } else if (b === NUL) {
      if (policy === "refuse") throw new RelayError("invalid_mime", `message contains a NUL byte (at byte ${i}); RFC 5322 does not allow it`);
      dropped++;
    }
  }
  if (extra === 0 && dropped === 0) return raw;
  const out = new Uint8Array(raw.length + extra - dropped);
  let j = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === NUL) continue;
    if (b === LF && (i === 0 || raw[i - 1] !== CR)) out[j++] = CR;
    out[j++] = b;
    if (b === CR && raw[i + 1] !== LF) out[j++] = LF;
  }
  return out;
}

/**
 * What makes two submissions of one Message-ID the same message: the canonical bytes without the
 * trace fields each hop adds (Received, Return-Path) and without Date (a client that rebuilds the
 * message to retry it stamps a new one), so a copy that came a different way or was rebuilt still
 * matches, and a changed word in any other header or in the body does not.
 */
export async function contentHash(raw: Uint8Array): Promise<string> {
  return sha256Hex(removeHeaderFields(raw, ["received", "return-path", "date"]));
}

/** Byte offset where the body starts (after the blank line), or raw.length when there is no body. */
function headerEnd(raw: Uint8Array): number {
  for (let i = 0; i + 3 < raw.length; i++) {
    if (raw[i] === CR && raw[i + 1] === LF && raw[i + 2] === CR && raw[i + 3] === LF) return i + 4;
  }
  return raw.length;
}

export interface RawHeaders {
  from: Mailbox;
  sender?: Mailbox;
  messageId?: string;
  subject?: string;
  to: string[];
  cc: string[];
  parsed: Email;
}

const MESSAGE_ID = /^<[^<>\s@]+@[^<>\s@]+>$/;

/** The header section of a CRLF message, blank line included: all that readRawHeaders parses. */
export const headerSection = (raw: Uint8Array): Uint8Array => raw.subarray(0, headerEnd(raw));

/**
 * Judges a parsed header section (workers/mime-parse.ts readRawHeaders parses it). Refuses a
 * message without one valid From mailbox, with a second Message-ID, or with a malformed one.
 */
export function checkRawHeaders(parsed: Email): RawHeaders {
  const fromHeaders = parsed.headers.filter((h) => h.key === "from");
  if (fromHeaders.length !== 1) throw new RelayError("invalid_mime", "message must have exactly one From header");
  const from = parseMailbox(fromHeaders[0]!.value);
  if (!from) throw new RelayError("invalid_address", "From: not a single valid email address");
  const senderHeader = parsed.headers.find((h) => h.key === "sender");
  const sender = senderHeader ? parseMailbox(senderHeader.value) : undefined;
  if (senderHeader && !sender) throw new RelayError("invalid_address", "Sender: not a single valid email address");
  const idHeaders = parsed.headers.filter((h) => h.key === "message-id");
  if (idHeaders.length > 1) throw new RelayError("invalid_mime", "message has more than one Message-ID header");
  const messageId = idHeaders[0]?.value.trim();
  if (messageId !== undefined && !MESSAGE_ID.test(messageId)) throw new RelayError("invalid_mime", "Message-ID: not of the form <id@domain>");
  const flat = (list: Email["to"]) =>
    (list ?? []).flatMap((a) => (a.group ? a.group.map((m) => m.address) : [a.address])).filter((a): a is string => !!a);
  return {
    from,
    ...(sender ? { sender } : {}),
    ...(messageId ? { messageId } : {}),
    ...(parsed.subject !== undefined ? { subject: parsed.subject } : {}),
    to: flat(parsed.to),
    cc: flat(parsed.cc),
    parsed,
  };
}

/**
 * Removes every field named in `names` (case-insensitive, with its folded continuation lines).
 * Works on bytes so 8-bit header text passes through untouched.
 */
export function removeHeaderFields(raw: Uint8Array, names: string[]): Uint8Array {
  const end = headerEnd(raw);
  const drop = new Set(names.map((n) => n.toLowerCase()));
  const keep: [number, number][] = [];
  let dropping = false;
  let changed = false;
  for (let start = 0; start < end; ) {
    let stop = start;
    while (stop < end && !(raw[stop] === CR && raw[stop + 1] === LF)) stop++;
    stop = Math.min(end, stop + 2);
    const first = raw[start];
    if (first !== 0x20 && first !== 0x09) {
      const colon = raw.subarray(start, stop).indexOf(0x3a);
      const name = colon > 0 ? fromUtf8.decode(raw.subarray(start, start + colon)).trim().toLowerCase() : "";
      dropping = drop.has(name);
    }
    if (dropping) changed = true;
    else keep.push([start, stop]);
    start = stop;
  }
  if (!changed) return raw;
  const size = keep.reduce((n, [a, b]) => n + b - a, 0) + raw.length - end;
  const out = new Uint8Array(size);
  let at = 0;
  for (const [a, b] of keep) {
    out.set(raw.subarray(a, b), at);
    at += b - a;
  }
  out.set(raw.subarray(end), at);
  return out;
}

/** Prepends one header field (the caller guarantees name and value carry no CR/LF). */
export function prependHeaderField(raw: Uint8Array, name: string, value: string): Uint8Array {
  if (/[\r\n]/.test(name + value)) throw new RelayError("header_injection", "header must not contain CR or LF");
  const line = utf8.encode(`${name}: ${value}\r\n`);
  const out = new Uint8Array(line.length + raw.length);
  out.set(line, 0);
  out.set(raw, line.length);
  return out;
}

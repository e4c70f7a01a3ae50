// The message content document: what is encrypted and stored for each message (in the D1 row
// when small, in R2 when large). Two shapes: structured (from the JSON API) and raw (an RFC 5322
// message from the MIME path, the SMTP bridge or inbound mail, kept byte for byte).
import type { Mailbox } from "./address";
import { fromBase64, fromUtf8, toBase64, utf8 } from "./encoding";
import type { NormalizedMessage } from "./message-input";

export interface StructuredContent {
  kind: "structured";
  from: Mailbox;
  to: Mailbox[];
  cc: Mailbox[];
  replyTo?: Mailbox;
  subject: string;
  text?: string;
  html?: string;
  headers: [string, string][];
  attachments: { filename: string; contentType: string; contentId?: string; content: string }[];
  variables: Record<string, string | number | boolean>;
}

export interface RawContent {
  kind: "raw";
  /** Base64 of the RFC 5322 bytes, CRLF line endings. */
  raw: string;
}

export type MessageContent = StructuredContent | RawContent;

export function structuredContent(m: NormalizedMessage): StructuredContent {
  return {
    kind: "structured",
    from: m.from,
    to: m.to,
    cc: m.cc,
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    subject: m.subject,
    ...(m.text !== undefined ? { text: m.text } : {}),
    ...(m.html !== undefined ? { html: m.html } : {}),
    headers: m.headers,
    attachments: m.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      ...(a.contentId ? { contentId: a.contentId } : {}),
      content: toBase64(a.content),
    })),
    variables: m.variables,
  };
}

export const rawContent = (raw: Uint8Array): RawContent => ({ kind: "raw", raw: toBase64(raw) });

export const encodeContent = (c: MessageContent): Uint8Array => utf8.encode(JSON.stringify(c));

export function decodeContent(bytes: Uint8Array): MessageContent {
  return JSON.parse(fromUtf8.decode(bytes)) as MessageContent;
}

export function rawBytes(c: RawContent): Uint8Array {
  const bytes = fromBase64(c.raw);
  if (!bytes) throw new Error("stored raw content is not base64");
  return bytes;
}

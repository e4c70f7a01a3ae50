// Renders stored content into the RFC 5322 message a provider sends. Multipart building is
// nodemailer's MailComposer (maintained, RFC 2045-2047/2231-correct: encoded words, folding,
// quoted-printable, boundaries); we never hand-roll MIME.
import { Buffer } from "node:buffer";
import MailComposer from "nodemailer/lib/mail-composer";
import type { MessageContent } from "./content";
import { rawBytes } from "./content";
import { fromBase64 } from "./encoding";

export interface RenderOptions {
  /** Message-ID header value, with angle brackets. */
  messageIdHeader: string;
  /** The Date header; the accept time, so re-renders are identical. */
  date: Date;
}

export async function renderMime(content: MessageContent, opts: RenderOptions): Promise<Uint8Array> {
  if (content.kind === "raw") return rawBytes(content);
  const composer = new MailComposer({
    from: content.from,
    to: content.to,
    cc: content.cc.length ? content.cc : undefined,
    replyTo: content.replyTo,
    subject: content.subject,
    text: content.text,
    html: content.html,
    messageId: opts.messageIdHeader,
    date: opts.date,
    headers: content.headers.map(([key, value]) => ({ key, value })),
    attachments: content.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: Buffer.from(fromBase64(a.content) ?? new Uint8Array()),
      ...(a.contentId ? { cid: a.contentId } : {}),
    })),
    // No file or URL access: content only ever comes from the stored document.
    disableFileAccess: true,
    disableUrlAccess: true,
    xMailer: false,
    newline: "\r\n",
  });
  const built = await composer.compile().build();
  return new Uint8Array(built.buffer, built.byteOffset, built.byteLength);
}

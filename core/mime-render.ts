// Renders stored content into the RFC 5322 message a provider sends. Multipart building is
// nodemailer's MailComposer (maintained, RFC 2045-2047/2231-correct: encoded words, folding,
// quoted-printable, boundaries); we never hand-roll MIME.
//
// What we do ourselves is only the last step for the common message: nodemailer writes its tree
// out through a pipeline of Node streams (a PassThrough per part, encoder transforms, newline
// transforms), which was most of a delivery's render time in workerd (bench/profile.mjs). For a
// tree whose parts are plain strings or buffers, serializeMime() writes the same bytes
// synchronously with nodemailer's own header builder and encoders (test/mime-render.test.ts
// compares the two byte for byte). Anything it does not cover exactly goes through build().
import { Buffer } from "node:buffer";
import MailComposer from "nodemailer/lib/mail-composer";
import type MimeNode from "nodemailer/lib/mime-node";
import { encode as qpEncode, wrap as qpWrap } from "nodemailer/lib/qp";
import { wrap as base64Wrap } from "nodemailer/lib/base64";
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
  const built = await renderTree(mimeTree(content, opts));
  return new Uint8Array(built.buffer, built.byteOffset, built.byteLength);
}

/** A compiled tree's bytes: written synchronously when it can be, else streamed by nodemailer. */
export async function renderTree(root: MimeNode): Promise<Buffer> {
  return serializeMime(root) ?? (await root.build());
}

/** The compiled MIME tree of structured content. `baseBoundary` is for tests only (fixed boundaries). */
export function mimeTree(content: Extract<MessageContent, { kind: "structured" }>, opts: RenderOptions, baseBoundary?: string): MimeNode {
  return new MailComposer({
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
    ...(baseBoundary ? { baseBoundary } : {}),
  }).compile();
}

// Above this much content the streaming build is used: it encodes in chunks, where writing a
// 25 MB attachment in one piece would hold several whole copies of it at once (the isolate has
// 128 MB). The common message is far below it.
const SYNC_MAX_BYTES = 1024 * 1024;

// nodemailer's quoted-printable encoder works in 64 KiB slices and holds back trailing
// whitespace between writes; below that size and without trailing whitespace its output is
// exactly wrap(encode(content)), which is all the fast path uses.
const QP_SLICE = 64 * 1024;

/** Internals of MimeNode that its typings do not list. */
interface NodeInternals {
  _raw?: unknown;
  _transforms: unknown[];
  _processFuncs: unknown[];
}

/**
 * The bytes MimeNode.build() would produce for this tree, written synchronously, or null when
 * the tree has something only the streaming build handles (streams, file or URL content, raw
 * parts, transforms, large quoted-printable parts) or is larger than SYNC_MAX_BYTES.
 */
export function serializeMime(root: MimeNode): Buffer | null {
  if (contentBytes(root) > SYNC_MAX_BYTES) return null;
  const out: Buffer[] = [];
  if (!writeNode(root, out)) return null;
  return toCrlf(withFinalNewline(Buffer.concat(out)));
}

/** The size of a tree's string and buffer contents (strings counted by length: an estimate). */
function contentBytes(node: MimeNode): number {
  const c = node.content;
  const own = typeof c === "string" || Buffer.isBuffer(c) ? c.length : 0;
  return node.childNodes.reduce((sum, child) => sum + contentBytes(child), own);
}

function writeNode(node: MimeNode, out: Buffer[]): boolean {
  const inner = node as unknown as NodeInternals;
  if (inner._raw || inner._transforms.length || inner._processFuncs.length) return false;
  const content = node.content;
  if (content && typeof content !== "string" && !Buffer.isBuffer(content)) return false;
  // Headers first, as the stream does: building them settles the content type and boundary.
  out.push(Buffer.from(`${node.buildHeaders()}\r\n\r\n`));
  if (content) {
    const bytes = typeof content === "string" ? Buffer.from(content) : content;
    const encoding = node.getTransferEncoding();
    if (encoding === "base64") {
      out.push(Buffer.from(base64Wrap(bytes.toString("base64"), 76), "latin1"));
    } else if (encoding === "quoted-printable") {
      const binary = !/^text\//i.test(node.contentType ?? "");
      const last = bytes[bytes.length - 1];
      if (binary || bytes.length > QP_SLICE || last === 0x20 || last === 0x09) return false;
      out.push(Buffer.from(qpWrap(qpEncode(bytes), 76), "latin1"));
    } else {
      out.push(bytes);
    }
  }
  if (node.multipart) {
    for (const [i, child] of node.childNodes.entries()) {
      out.push(Buffer.from(`${i > 0 ? "\r\n" : ""}--${node.boundary}\r\n`));
      if (!writeNode(child, out)) return false;
    }
    out.push(Buffer.from(`\r\n--${node.boundary}--\r\n`));
  }
  return true;
}

/** nodemailer's LastNewline: the message ends with a line break. */
function withFinalNewline(buf: Buffer): Buffer {
  const last = buf[buf.length - 1];
  if (last === 0x0a) return buf;
  return Buffer.concat([buf, Buffer.from(last === 0x0d ? "\n" : "\r\n")]);
}

/** nodemailer's LeWindows: every LF not already after a CR becomes CRLF. */
function toCrlf(buf: Buffer): Buffer {
  let lone = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) lone++;
  if (lone === 0) return buf;
  const out = Buffer.allocUnsafe(buf.length + lone);
  let to = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (b === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) out[to++] = 0x0d;
    out[to++] = b;
  }
  return out;
}

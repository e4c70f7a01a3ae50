// Sits between the DATA stream and the relay upload. It checks every byte before passing it
// on, so a message that breaks a rule never reaches the relay in full:
// - every CR must be followed by LF and every LF preceded by CR. smtp-server only ends DATA at
//   CRLF.CRLF and passes `\n.\r\n`, `\r.\r` or `\r\n.\n` through as content; a later SMTP hop
//   that is laxer would see a second message there (SMTP smuggling, CVE-2023-51764), so such a
//   message is refused as Postfix's smtpd_forbid_bare_newline does.
// - lines are at most `maxLineLength` octets (RFC 5322: 998), the message at most `maxBytes`.
// - the header section is held back (at most `maxHeaderBytes`) until it is known whether it has a
//   Message-ID; if not, one is prepended. Everything else passes through byte for byte.
import crypto from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import type { LocalRejection } from "./replies.ts";

const CR = 0x0d;
const LF = 0x0a;
const HEADER_END = Buffer.from("\r\n\r\n");

export class DataRejected extends Error {
  readonly reason: LocalRejection;
  constructor(reason: LocalRejection) {
    super(`message rejected: ${reason}`);
    this.name = "DataRejected";
    this.reason = reason;
  }
}

export interface DataGuardOptions {
  maxBytes: number;
  maxLineLength: number;
  maxHeaderBytes: number;
  /** right-hand side of a generated Message-ID */
  messageIdDomain: string;
}

export class DataGuard extends Transform {
  /** bytes received from the client (before any Message-ID is added) */
  bytes = 0;
  /** the Message-ID this guard added, if the message had none */
  addedMessageId: string | null = null;
  readonly #options: DataGuardOptions;
  #pendingCR = false;
  #lineLength = 0;
  #header: Buffer[] | null = [];
  #headerBytes = 0;

  constructor(options: DataGuardOptions) {
    super();
    this.#options = options;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const problem = this.#scan(chunk);
    if (problem) return callback(new DataRejected(problem));
    if (this.#header === null) return callback(null, chunk);
    this.#header.push(chunk);
    this.#headerBytes += chunk.length;
    const joined = Buffer.concat(this.#header, this.#headerBytes);
    this.#header = [joined];
    const end = headerEnd(joined);
    if (end >= 0) {
      this.#releaseHeader(joined, end);
      return callback();
    }
    if (this.#headerBytes > this.#options.maxHeaderBytes) return callback(new DataRejected("header_too_large"));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#pendingCR) return callback(new DataRejected("bare_cr"));
    if (this.#header !== null) {
      // a message without a body: the whole of it is the header section
      const joined = Buffer.concat(this.#header, this.#headerBytes);
      this.#releaseHeader(joined, joined.length);
    }
    callback();
  }

  #scan(chunk: Buffer): LocalRejection | null {
    this.bytes += chunk.length;
    if (this.bytes > this.#options.maxBytes) return "too_large";
    const maxLine = this.#options.maxLineLength;
    let pendingCR = this.#pendingCR;
    let lineLength = this.#lineLength;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (pendingCR) {
        if (byte !== LF) return "bare_cr";
        pendingCR = false;
        lineLength = 0;
      } else if (byte === CR) {
        pendingCR = true;
      } else if (byte === LF) {
        return "bare_lf";
      } else if (++lineLength > maxLine) {
        return "line_too_long";
      }
    }
    this.#pendingCR = pendingCR;
    this.#lineLength = lineLength;
    return null;
  }

  /** `end` is the offset just past the CRLF that ends the last header field. */
  #releaseHeader(buffer: Buffer, end: number): void {
    this.#header = null;
    if (!hasMessageId(buffer.subarray(0, end))) {
      const id = `<${crypto.randomBytes(12).toString("hex")}.${Date.now().toString(36)}@${this.#options.messageIdDomain}>`;
      this.addedMessageId = id;
      this.push(Buffer.from(`Message-ID: ${id}\r\n`, "latin1"));
    }
    this.push(buffer);
  }
}

/** Offset just past the header section's last CRLF, or -1 if the blank line has not arrived. */
function headerEnd(buffer: Buffer): number {
  if (buffer.length >= 2 && buffer[0] === CR && buffer[1] === LF) return 0;
  const at = buffer.indexOf(HEADER_END);
  return at < 0 ? -1 : at + 2;
}

export function hasMessageId(header: Buffer): boolean {
  return /(?:^|\r\n)message-id[ \t]*:/i.test(header.toString("latin1"));
}

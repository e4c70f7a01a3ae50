// MIME parsing with postal-mime, loaded on first use (workers/lazy-libs.ts keeps it out of the
// main bundle). Parsing is the only part that needs the library; what a parsed message means is
// decided in core/ (core/raw-message.ts for submitted mail, core/bounce/classify.ts for reports).
import type { Email } from "postal-mime";
import type { Classification } from "../core/bounce/classify";
import { RelayError } from "../core/errors";
import { checkRawHeaders, headerSection, type RawHeaders } from "../core/raw-message";
import { loadBounceReader, loadPostalMime } from "./lazy-libs";

/** Reads and checks the header section of a canonical (CRLF) raw message. */
export async function readRawHeaders(raw: Uint8Array): Promise<RawHeaders> {
  let parsed: Email;
  try {
    const PostalMime = await loadPostalMime();
    parsed = await PostalMime.parse(headerSection(raw), { maxHeadersSize: 256 * 1024 });
  } catch (e) {
    throw new RelayError("invalid_mime", `message headers could not be parsed: ${(e as Error).message}`);
  }
  return checkRawHeaders(parsed);
}

export class UnparseableMail extends Error {}

/** The whole message, attachments and nested messages (a bounce's returned original) included. */
export async function parseMail(raw: Uint8Array | string): Promise<Email> {
  try {
    const PostalMime = await loadPostalMime();
    return await PostalMime.parse(raw, { forceRfc822Attachments: true, attachmentEncoding: "arraybuffer", maxNestingDepth: 50 });
  } catch (e) {
    throw new UnparseableMail(e instanceof Error ? e.message : String(e));
  }
}

/** Bounce, complaint or neither, with who and why (core/bounce/classify.ts). */
export async function classifyMail(raw: Uint8Array | string): Promise<Classification> {
  const [{ classifyParsed }, parsed] = await Promise.all([loadBounceReader(), parseMail(raw)]);
  return classifyParsed(parsed, raw);
}

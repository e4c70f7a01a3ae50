// Bounces written as prose (qmail, Exim, old Sendmail, Exchange 2003, Domino, webmail providers,
// ...): no machine-readable part, so the failed recipients and what happened to each are read from
// the text that precedes the returned copy of the original message.
//
// Which address failed, in order of trust:
// 1. an address that opens a line of the explanation (`<user@example.org>:`, `  user@example.org`,
//    `550 <user@example.org>... User unknown`, `Recipient address: user@example.org`), and the
//    quoted RCPT TO of a transcript (`>>> RCPT To:<user@example.org>`): one block each;
// 2. the X-Failed-Recipients header (Exim, Google);
// 3. an address the explanation mentions on a line that speaks of the failure;
// 4. the To of the returned copy.
// Never the sender: the bounce's own From and To, the original's From, a MAIL FROM, an address
// after "from" or "sent by", a header line quoted from the original, or a Message-ID.
import { addressKey, findAddresses } from "./address";

const DAEMON_LOCAL = /^(mailer-daemon|mailerdaemon|post_?master|poostmaster|mail\.delivery\.system|mail-daemon|maildaemon|mdaemon|no-?reply-?dsn|bounces?|sysadmin|mailadmin|mail-router)$/i;

export function isDaemonAddress(address: string): boolean {
  const local = address.slice(0, address.lastIndexOf("@") >= 0 ? address.lastIndexOf("@") : address.length);
  return DAEMON_LOCAL.test(local);
}

const FAILURE_SUBJECT =
  /undeliver|undelivered|delivery (status|failure|failed|has failed|notification)|failure (notice|delivery)|failed delivery|returned mail|mail delivery failed|could not be delivered|not delivered|returning message|returned to sender|delivery problem|mail system error|error sending|delivery failure|non[- ]?delivery|warning: message .* delayed|bounce notification|mail failure|メールエラー|配信できません/i;

export const looksLikeFailureSubject = (subject: string): boolean => FAILURE_SUBJECT.test(subject);

// Where the returned copy of the original message starts: addresses after it are not the
// failed recipient. A line "The original message was received at ..." (Sendmail) is not one.
const COPY_MARKERS = [
  /^[ \t]*[-=*_]{2,}[ \t]*(this is a copy|original message|the original message|below this line is a copy|returned message|message headers? follows?|unsent message|original mail|the header of the original|headers of the original|enclosed is a copy|a copy of the)/im,
  /^[ \t]*(below this line is a copy|below is a copy of the original message|original message follows|original message headers|original message:|original mail info|included is a copy of the message|a copy of the original message|the original message is attached|your message reads \(in part\))/im,
  /^Return-Path:\s*</im,
  /^Received:\s+(from|by)\s/im,
  /^Content-Type: message\/rfc822/im,
  /^DKIM-Signature:/im,
];

export function splitAtCopy(body: string): { head: string; copy: string } {
  const text = body.replace(/\r\n?/g, "\n");
  let end = text.length;
  for (const re of COPY_MARKERS) {
    const m = re.exec(text);
    if (m && m.index > 0 && m.index < end) end = m.index;
  }
  return { head: text.slice(0, end), copy: text.slice(end) };
}

export interface ProseContext {
  /** Keys (addressKey) of addresses that are never the failed recipient. */
  exclude: Set<string>;
  /** Message-IDs of the report and of the original, lowercased, without brackets. */
  messageIds: Set<string>;
  /** X-Failed-Recipients of the report, in order. */
  failedHeader: string[];
}

export interface ProseRecipient {
  email: string;
  /** What the report says about this recipient (its block of the explanation). */
  text: string;
  source: "line" | "rcpt" | "header" | "mention" | "copy";
}

// A header quoted from the original message (Exchange's "Your message / To: ... / Subject: ...").
const HEADER_LABEL = /^\s*(from|to|cc|bcc|subject|date|sent|sender|reply-to|return-path|message-id|in-reply-to|references|delivered-to|envelope-to|errors-to|resent-[a-z]+|x-[a-z0-9-]+)\s*:/i;
// What precedes a sender's address on its line.
const SENDER_BEFORE = /(mail from|envelope-from|envelope from|\bfrom|\bsender|return-path|reply-to|sent by|message-?id|\bmsg-?id|\bid|references|in-reply-to|authenticated user|mailto)\s*[:=]?\s*[<"'(\[]*\s*$/i;
// A line that opens with the failed address: bullets, a reply code, a label.
const LINE_START =
  /^\s*(?:[-*>•·]+\s*|\d{3}[- ](?:[245]\.\d{1,3}\.\d{1,3}\s+)?|(?:final-|original-)?recipient(?:\s+address)?\s*:\s*|address(?:es)?\s*:\s*|\(?\d{1,3}[.)]\s+)*[<"'(\[]*\s*$/i;
const RCPT_BEFORE = /rcpt(?:\s+to)?\s*:?\s*[<"']*\s*$/i;
const FAILURE_WORDS = /deliver|fail|unknown|reject|invalid|not (found|exist|listed)|error|bounce|refused|unable|could not|couldn't|cannot|full|quota|disabled|no such|problem|\bto:/i;

interface Hit {
  email: string;
  line: number;
  kind: "line" | "rcpt" | "mention";
  /** A Sendmail transcript's verdict line (`554 <user@example.org>... reason`), after its exchange. */
  closes?: boolean;
}

function hitsOf(lines: string[], ctx: ProseContext, exclude: Set<string>): Hit[] {
  const hits: Hit[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    for (const f of findAddresses(line)) {
      const key = addressKey(f.address);
      if (exclude.has(key) || ctx.messageIds.has(key) || /^mailer-?daemon@/i.test(f.address)) continue;
      const before = line.slice(0, f.index);
      if (RCPT_BEFORE.test(before)) {
        hits.push({ email: f.address, line: i, kind: "rcpt" });
        continue;
      }
      if (HEADER_LABEL.test(line) || SENDER_BEFORE.test(before)) continue;
      // "A message sent by\n  <sender@example.org>\ncould not be delivered".
      const previous = lines.slice(0, i).reverse().find((l) => l.trim() !== "") ?? "";
      if (LINE_START.test(before) && /(sent by|from|sender)\s*:?\s*$/i.test(previous)) continue;
      const opens = LINE_START.test(before);
      const closes = opens && /^\s*\d{3} <?$/.test(before) && /^\s*\.\.\./.test(line.slice(f.end).replace(/^>/, "")) && lines.some((l) => /^\s*while talking to\b/i.test(l));
      hits.push({ email: f.address, line: i, kind: opens ? "line" : "mention", closes });
    }
  }
  return hits;
}

/**
 * The failed recipients of a prose bounce and, for each, the text that says what happened to it.
 * `head` is the explanation (before the returned copy), `copy` the returned message.
 */
export function proseRecipients(head: string, copy: string, ctx: ProseContext): ProseRecipient[] {
  const lines = head.split("\n");
  const hits = hitsOf(lines, ctx, ctx.exclude);
  let strong = hits.filter((h) => h.kind !== "mention");
  // The header is the MTA's own word: taken even when it names the bounce's own addressee
  // (a message to oneself, or an anonymised report).
  if (strong.length === 0 && ctx.failedHeader.length > 0) return ctx.failedHeader.map((email) => ({ email, text: head, source: "header" as const }));
  // Every address that opens a line is the bounce's own addressee or the original's sender: an
  // anonymised report (xxxx@xxxx.example everywhere) or a message to oneself. The lines still say
  // which address failed.
  if (strong.length === 0) strong = hitsOf(lines, ctx, new Set()).filter((h) => h.kind !== "mention");
  if (strong.length > 0) {
    // Each line that opens with an address starts that address's block, which runs to the next
    // line that opens with another address; a transcript's RCPT TO starts one too. A Sendmail
    // transcript's `554 <user@example.org>... Remote protocol error` closes its exchange instead:
    // its block is the `While talking to` exchange above it.
    const starts = strong.map((h) => h.line);
    const blocks = new Map<string, { email: string; text: string[]; source: ProseRecipient["source"] }>();
    strong.forEach((h, n) => {
      const key = addressKey(h.email);
      const block = blocks.get(key) ?? { email: h.email, text: [], source: h.kind === "rcpt" ? "rcpt" : "line" };
      if (h.closes) {
        const from = n > 0 ? strong[n - 1]!.line + 1 : h.line;
        let start = from;
        for (let l = h.line - 1; l >= Math.max(0, n > 0 ? from : h.line - 12); l--) {
          if (/^\s*while talking to\b/i.test(lines[l]!)) {
            start = l;
            break;
          }
        }
        block.text.push(...lines.slice(Math.min(start, h.line), h.line + 1));
      } else {
        const next = starts.find((l) => l > h.line) ?? lines.length;
        block.text.push(...lines.slice(h.line, next));
      }
      blocks.set(key, block);
    });
    // Lines of a transcript after a RCPT TO belong to it until the next address; lines before the
    // first block (the report's opening) are context, read by the caller.
    return [...blocks.values()].map((b) => ({ email: b.email, text: dedupeLines(b.text).join("\n"), source: b.source }));
  }

  const mention = hits.find((h) => FAILURE_WORDS.test(lines[h.line]!)) ?? hits[0];
  if (mention) return [{ email: mention.email, text: head, source: "mention" }];

  const to = copiedTo(copy, ctx);
  return to ? [{ email: to, text: head, source: "copy" }] : [];
}

function dedupeLines(lines: string[]): string[] {
  const seen = new Set<string>();
  return lines.filter((l) => {
    const k = l.trim();
    if (k === "") return false;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The To of the returned copy (its header block), when nothing better names the recipient. */
function copiedTo(copy: string, ctx: ProseContext): string | null {
  const headers = copy.split(/\n\s*\n/).find((b) => /^(to|from|subject|received|return-path)\s*:/im.test(b)) ?? "";
  const m = /^To:\s*(.+(?:\n[ \t].+)*)$/im.exec(headers) ?? /^To:\s*(.+)$/im.exec(copy);
  if (!m) return null;
  const found = findAddresses(m[1]!).find((f) => !ctx.exclude.has(addressKey(f.address)));
  return found?.address ?? null;
}

/** Words of a report that is only a warning: the MTA keeps trying. */
const DELAY_WORDS = /\bdelay(ed)?\b|will (continue|keep) (trying|to try)|will be retried|will retry|retry(ing)? for \d|has not yet been delivered|not yet been delivered|still (trying|queued|being retried)|warning: message|no action is required on your part|this is a warning/i;
const GIVEN_UP_WORDS = /permanent(ly)?|given up|giving up|gave up|will not be retried|no further (delivery )?attempts|not going to try again|failed permanently|could not be delivered|undeliverable|was not delivered|returning message/i;

/** True when a prose report only warns of a delay. */
export function isDelayNotice(text: string): boolean {
  return DELAY_WORDS.test(text) && !GIVEN_UP_WORDS.test(text.replace(/in the queue too long/gi, ""));
}

/** The remote server a prose report quotes (`host mx.example.org[192.0.2.1] said`, `while talking to mx...`). */
export function remoteHost(text: string): string | null {
  const patterns = [
    /\bhost:?\s+([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})\s*(?:\[|\(|said|:)/i,
    /(?:while talking to|talking to|connected to|remote server at|server)\s+([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})/i,
    /\bby\s+([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})\.?\s*\[/i,
    /remote host\s+([0-9.]+|[0-9a-f:]+)\s+said/i,
    /^\s*([0-9]{1,3}(?:\.[0-9]{1,3}){3}) (?:does not like recipient|failed after)/im,
  ];
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) return m[1]!.replace(/\.$/, "").toLowerCase();
  }
  return null;
}

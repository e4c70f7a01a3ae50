// Bounces written as prose (qmail, Exim, old Sendmail, Exchange 2003, webmail providers...):
// no machine-readable part, so the failed recipient and the reason are read from the text
// that precedes the returned copy of the original message.
import { failureReplyCode, failureStatus } from "./fields";
import { recipientKind, type ReportedRecipient } from "./recipient-kind";

const DAEMON_LOCAL = /^(mailer-daemon|mailerdaemon|post_?master|poostmaster|mail\.delivery\.system|mail-daemon|maildaemon|mdaemon|no-?reply-?dsn|bounces?|sysadmin|mailadmin|mail-router)$/i;

export function isDaemonAddress(address: string): boolean {
  const local = address.slice(0, address.lastIndexOf("@") >= 0 ? address.lastIndexOf("@") : address.length);
  return DAEMON_LOCAL.test(local);
}

const FAILURE_SUBJECT =
  /undeliver|undelivered|delivery (status|failure|failed|has failed|notification)|failure (notice|delivery)|failed delivery|returned mail|mail delivery failed|could not be delivered|not delivered|returning message|returned to sender|delivery problem|mail system error|error sending|delivery failure|non[- ]?delivery|warning: message .* delayed|bounce notification/i;

export const looksLikeFailureSubject = (subject: string): boolean => FAILURE_SUBJECT.test(subject);

// Where the returned copy of the original message starts: addresses after it are not the
// failed recipient.
const COPY_MARKERS = [
  /^-+ ?(this is a copy of|original message|the original message|below this line is a copy|returned message|message headers? follows?|unsent message|original message follows)/im,
  /^--- Below this line is a copy of the message/im,
  /^\s*-+\s*original message\s*-+/im,
  /^Return-Path:\s*</im,
  /^Received:\s/im,
  /^Content-Type: message\/rfc822/im,
];

const HARD_WORDS =
  /user unknown|unknown user|no such (user|mailbox|address|recipient)|does ?n[o']t exist|not exist|invalid (recipient|address|mailbox|user)|mailbox (is )?unavailable|address rejected|recipient rejected|account (is )?(disabled|closed|suspended|expired)|permanent(ly)? (error|failure)|i've given up|unrouteable|host unknown|domain not found|rejected|blocked|refused/i;
const SOFT_WORDS =
  /delay|will (continue|keep) (trying|to try)|still (trying|queued)|not yet been delivered|has not been delivered yet|try again later|temporar|mailbox (is )?full|over ?quota|quota exceeded|exceeded (the )?(storage|quota)|insufficient (disk|storage)|not enough disk/i;

const FULL_WORDS =
  /mailbox (is )?full|mail ?folder is full|mailbox size limit|over ?quota|quota (is )?exceeded|exceeded (the )?(storage|quota|local limit)|storage quota/i;

const EXPIRED_WORDS =
  /in the queue too long|too long in (the )?queue|retry timeout exceeded|after multiple retries|could not deliver for the last|envelope expired|not delivered within|did not accept our requests to connect|unable to connect to remote|remote host is not responding|connection timed out|operation timed\s+out|host (is )?not reachable|(message|delivery time) expired/i;

const ADDRESS = /<?([A-Za-z0-9._%+'=\/-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?/g;

export type ProseResult = Omit<ReportedRecipient, "email"> & { email: string | null };

export function classifyProse(body: string, fromAddress: string): ProseResult {
  const text = body.replace(/\r\n?/g, "\n");
  let end = text.length;
  for (const re of COPY_MARKERS) {
    const m = re.exec(text);
    if (m && m.index > 0 && m.index < end) end = m.index;
  }
  const head = text.slice(0, end);
  // Without an address in the explanation, the returned copy's To is the best witness.
  const email = firstRecipient(head, fromAddress) ?? copiedTo(text.slice(end));
  const status = failureStatus(head);
  const reply = failureReplyCode(head);
  let kind: ReportedRecipient["kind"];
  if (status || reply) kind = recipientKind("failed", status, reply);
  else if (SOFT_WORDS.test(head) && !/permanent|given up/i.test(head)) kind = "soft";
  else kind = HARD_WORDS.test(head) ? "hard" : "hard";
  // A full mailbox clears up by itself (as x.2.2 does in recipientKind), however the notice words
  // it ("permanent error ... mailbox is full"), unless it also quotes another permanent status.
  if (kind === "hard" && FULL_WORDS.test(head) && (!status || /^\d\.2\.2$/.test(status) || status[0] !== "5")) kind = "soft";
  // So does a delivery the sending MTA gave up on (unreachable host, too long in its queue): that
  // says nothing about the address, unless the notice also quotes a server's permanent refusal.
  if (kind === "hard" && EXPIRED_WORDS.test(head) && !(status?.[0] === "5" && !/^\d\.4\.7$/.test(status)) && reply?.[0] !== "5") kind = "soft";
  // A delay notice that quotes a 4xx is soft even when the wording says "failed".
  if (/delay|will (continue|keep) (trying|to try)|has not yet been delivered/i.test(head) && !/permanent|given up/i.test(head) && status?.[0] !== "5" && reply?.[0] !== "5") kind = "soft";
  const diagnostic = diagnosticLine(head, email ?? "");
  return { email, kind, action: null, status, diagnostic };
}

function firstRecipient(head: string, fromAddress: string): string | null {
  // A quoted envelope names the recipient outright; its MAIL FROM is the sender, never the failure.
  const rcpt = /RCPT TO:\s*<?([A-Za-z0-9._%+'=\/-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})/i.exec(head);
  if (rcpt) return rcpt[1]!.toLowerCase();
  for (const m of head.matchAll(ADDRESS)) {
    const line = head.slice(head.lastIndexOf("\n", m.index) + 1, m.index);
    if (/^\s*(mail from|from|sender|reply-to|return-path)\s*:/i.test(line)) continue;
    const addr = m[1]!.replace(/[.]+$/, "").toLowerCase();
    if (addr === fromAddress || /^mailer-?daemon@/.test(addr)) continue;
    return addr;
  }
  return null;
}

function copiedTo(copy: string): string | null {
  const m = /^To:\s*(.+)$/im.exec(copy);
  if (!m) return null;
  const a = /([A-Za-z0-9._%+'=\/-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})/.exec(m[1]!);
  return a ? a[1]!.toLowerCase() : null;
}

function diagnosticLine(head: string, email: string): string | null {
  const lines = head.split("\n").map((l) => l.trim()).filter(Boolean);
  const i = email ? lines.findIndex((l) => l.toLowerCase().includes(email)) : -1;
  const candidates = i >= 0 ? lines.slice(i, i + 6) : lines;
  const line = candidates.find((l) => /\b[45]\d\d\b|[45]\.\d+\.\d+/.test(l)) ?? candidates.find((l) => HARD_WORDS.test(l) || SOFT_WORDS.test(l));
  return line ? line.slice(0, 500) : null;
}

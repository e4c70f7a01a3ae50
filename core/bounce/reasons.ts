// Why a delivery bounced, in sisimai's reason names (https://libsisimai.org/en/reason/), and what
// each means for the relay: who caused it, whether the address is suppressed, and the status
// reported when the bounce itself gives none. The README's bounce section is this table.

export const REASONS = [
  "userunknown",
  "hostunknown",
  "hasmoved",
  "notaccept",
  "mailboxfull",
  "suspend",
  "filtered",
  "exceedlimit",
  "mesgtoobig",
  "blocked",
  "spamdetected",
  "virusdetected",
  "policyviolation",
  "securityerror",
  "rejected",
  "norelaying",
  "toomanyconn",
  "contenterror",
  "expired",
  "networkerror",
  "systemerror",
  "systemfull",
  "mailererror",
  "syntaxerror",
  "onhold",
  "undefined",
  "delivered",
  "feedback",
  "vacation",
] as const;

export type Reason = (typeof REASONS)[number];

/**
 * Who the bounce says is at fault:
 * - recipient: the address (or its domain) cannot take mail: suppress it (hard).
 * - mailbox: the recipient's mailbox, for now (full, suspended, filtering): no suppression.
 * - sender: the relay's reputation, authentication or content (the sending IP is blocklisted,
 *   the content looks like spam, DMARC fails, too many connections): never the recipient's
 *   fault, so never suppressed; counted against the provider and the sending domain.
 * - transient: the network or a server on the way (timeouts, DNS, a full disk): retry later.
 * - none: not a failure (a delivery report, a complaint, an auto-reply).
 */
export type Cause = "recipient" | "mailbox" | "sender" | "transient" | "unknown" | "none";

export interface ReasonInfo {
  cause: Cause;
  /** The status reported when the bounce gives none (RFC 3463), without its class digit. */
  status: string | null;
  /** One line for the README and the API documentation. */
  meaning: string;
}

export const REASON_INFO: Record<Reason, ReasonInfo> = {
  userunknown: { cause: "recipient", status: "1.1", meaning: "the mailbox does not exist" },
  hostunknown: { cause: "recipient", status: "1.2", meaning: "the recipient's domain does not exist or has no mail server" },
  hasmoved: { cause: "recipient", status: "1.6", meaning: "the mailbox has moved and mail is not forwarded" },
  notaccept: { cause: "recipient", status: "3.2", meaning: "the recipient's domain accepts no mail at all (null MX, no SMTP service)" },
  mailboxfull: { cause: "mailbox", status: "2.2", meaning: "the mailbox is full or over quota" },
  suspend: { cause: "mailbox", status: "2.1", meaning: "the mailbox is disabled, suspended or locked" },
  filtered: { cause: "mailbox", status: "2.0", meaning: "the recipient's own filter or settings refused the message" },
  exceedlimit: { cause: "mailbox", status: "2.3", meaning: "the message exceeds the recipient's size limit" },
  mesgtoobig: { cause: "sender", status: "3.4", meaning: "the message is larger than the receiving server takes" },
  blocked: { cause: "sender", status: "7.1", meaning: "the sending IP or host is refused (blocklist, missing PTR, SPF, reputation)" },
  spamdetected: { cause: "sender", status: "7.1", meaning: "the content was judged to be spam" },
  virusdetected: { cause: "sender", status: "7.1", meaning: "the content was judged to carry a virus" },
  policyviolation: { cause: "sender", status: "7.1", meaning: "the message breaks the receiver's policy (DMARC, headers, attachments)" },
  securityerror: { cause: "sender", status: "7.1", meaning: "authentication or another security check of the sender failed" },
  rejected: { cause: "sender", status: "1.8", meaning: "the envelope sender (MAIL FROM) or its domain was refused" },
  norelaying: { cause: "sender", status: "7.1", meaning: "the receiving server refuses to relay for the sender" },
  toomanyconn: { cause: "sender", status: "7.0", meaning: "too many connections, messages or recipients: rate limited" },
  contenterror: { cause: "sender", status: "6.0", meaning: "the message's format or headers were refused" },
  expired: { cause: "transient", status: "4.7", meaning: "delivery was given up after retrying (timeouts, unreachable hosts)" },
  networkerror: { cause: "transient", status: "4.0", meaning: "DNS or network failure on the way (lookup errors, routing loops)" },
  systemerror: { cause: "transient", status: "3.0", meaning: "the receiving system failed internally" },
  systemfull: { cause: "transient", status: "3.1", meaning: "the receiving system's disk or spool is full" },
  mailererror: { cause: "transient", status: "3.0", meaning: "the receiving host's local delivery program failed" },
  syntaxerror: { cause: "transient", status: "5.2", meaning: "the SMTP conversation went wrong (bad command or sequence)" },
  onhold: { cause: "unknown", status: null, meaning: "a failure the bounce does not explain well enough to name" },
  undefined: { cause: "unknown", status: null, meaning: "a failure of no known kind" },
  delivered: { cause: "none", status: null, meaning: "delivered (a success report)" },
  feedback: { cause: "none", status: null, meaning: "a complaint (ARF feedback report): the recipient is suppressed as complained" },
  vacation: { cause: "none", status: null, meaning: "an auto-reply, not a failure" },
};

/**
 * Hard (the address is bad: suppress) or soft. By reason, as sisimai decides it: only a mailbox
 * or domain that does not exist, has moved, or takes no mail is hard; a domain that refuses mail
 * only for now (4.x.x) is soft. Everything the sender caused is soft: it says nothing about the
 * address.
 */
export function isHard(reason: Reason, statusClass: string | null): boolean {
  if (reason === "notaccept") return statusClass !== "4";
  return REASON_INFO[reason].cause === "recipient";
}

/** True for reasons that mean the relay's reputation, authentication or content is the problem. */
export const isSenderSide = (reason: Reason): boolean => REASON_INFO[reason].cause === "sender";

/** The status a reason implies, in the given class (4 temporary, 5 permanent); null when it implies none. */
export function inferredStatus(reason: Reason, statusClass: "4" | "5"): string | null {
  const s = REASON_INFO[reason].status;
  return s ? `${statusClass}.${s}` : null;
}

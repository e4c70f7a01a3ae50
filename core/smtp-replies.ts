// The one mapping from the relay's error codes (core/errors.ts) to an SMTP reply: what the SMTP
// bridge answers at the end of DATA when the relay refused a message, and what inbound mail
// (workers/email-ingest) tells the sending server. A refusal reads the same whichever door the
// mail came in by; test/inbound-smtp-replies.test.ts and the bridge's test/replies.test.ts
// drive both doors over every code.
//
// Pure data without imports: the bridge (a separate Node service, containers/smtp-bridge) imports
// this file directly and its image copies it alone. Its keys are exactly ERROR_CODES: the
// Record<ErrorCode, SmtpReply> in workers/email-ingest/refusal.ts fails to compile when a code
// is missing, core/smtp-replies.test.ts when one is left over.
//
// Replies answer a message (end of DATA, or Email Routing's setReject), so only the codes RFC
// 5321 §4.3.2 allows there are used: 550/552/554 permanent, 451/452 temporary. 535 is the reply
// to AUTH (RFC 4954 §6), hence 550 5.7.8 for a key the relay no longer accepts.

export interface SmtpReply {
  /** The basic reply code: 4xx temporary (the sender retries), 5xx permanent (it bounces). */
  readonly code: number;
  /** RFC 3463 enhanced status code, written first in the reply text. */
  readonly enhanced: string;
}

export const SMTP_REPLIES = {
  // The message is wrong (content, headers, structure, a Message-ID reused for other content):
  // the sender has to change it.
  validation_error: { code: 550, enhanced: "5.6.0" },
  header_injection: { code: 550, enhanced: "5.6.0" },
  invalid_mime: { code: 550, enhanced: "5.6.0" },
  unsupported_media_type: { code: 550, enhanced: "5.6.0" },
  idempotency_conflict: { code: 550, enhanced: "5.6.0" },
  unprocessable: { code: 550, enhanced: "5.6.0" },
  unknown_campaign: { code: 550, enhanced: "5.6.0" },
  // Addresses: a malformed one, and a mailbox of ours that does not exist (inbound mail to an
  // address the relay does not serve, an unknown bounce address).
  invalid_address: { code: 550, enhanced: "5.1.3" },
  not_found: { code: 550, enhanced: "5.1.1" },
  // Policy: who may send what.
  unauthorized: { code: 550, enhanced: "5.7.8" },
  forbidden: { code: 550, enhanced: "5.7.1" },
  sender_domain_not_verified: { code: 550, enhanced: "5.7.1" },
  // RFC 7372: the sender's domain failed DMARC / authentication.
  sender_not_authenticated: { code: 550, enhanced: "5.7.26" },
  campaign_not_active: { code: 550, enhanced: "5.7.1" },
  message_too_large: { code: 552, enhanced: "5.3.4" },
  // The workspace cannot deliver anything (no provider): the operator's to fix, not a retry.
  no_provider: { code: 550, enhanced: "5.3.0" },
  // Never the answer to a message; only the class is known.
  conflict: { code: 550, enhanced: "5.0.0" },
  not_cancellable: { code: 550, enhanced: "5.0.0" },
  // Temporary: the same message succeeds later. Over a limit is a wait, never a bounce; our own
  // failures (every 5xx of the API) are never the sender's fault.
  rate_limited: { code: 452, enhanced: "4.7.0" },
  internal_error: { code: 451, enhanced: "4.3.0" },
  not_implemented: { code: 451, enhanced: "4.3.0" },
  unavailable: { code: 451, enhanced: "4.3.0" },
} as const satisfies Record<string, SmtpReply>;

export type SmtpReplyCode = keyof typeof SMTP_REPLIES;

/** A code the relay answered with that this table does not know (a newer relay): refused, class only. */
export const UNKNOWN_REFUSAL: SmtpReply = { code: 550, enhanced: "5.7.0" };

/** The reply for a code read off the wire; undefined for one this table does not know. */
export function smtpReplyForCode(code: string): SmtpReply | undefined {
  return Object.hasOwn(SMTP_REPLIES, code) ? SMTP_REPLIES[code as SmtpReplyCode] : undefined;
}

/** One line of printable text of at most `max` characters, for a message echoed in a reply. */
export function replyText(text: string, max = 300): string {
  const oneLine = text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]+/g, " ").replace(/\s+/g, " ").trim();
  return oneLine.length > max ? oneLine.slice(0, max - 3) + "..." : oneLine;
}

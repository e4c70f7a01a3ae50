// SMTP replies the bridge writes itself. Each carries its RFC 3463 enhanced status code in the
// text: smtp-server's automatic enhanced codes are off, because it cannot tell a bad sender
// domain (5.7.1) from an unknown mailbox (5.1.1) when both are 550.
//
// The relay's error codes map through core/smtp-replies.ts, the table inbound mail uses too: one
// file shared with the Worker (the image copies it, see the Dockerfile), so the two cannot drift;
// test/replies.test.ts drives both over every code.
import { replyText, SMTP_REPLIES, smtpReplyForCode, UNKNOWN_REFUSAL, type SmtpReply } from "../../../core/smtp-replies.ts";
import type { SubmitResult } from "./relay-client.ts";

export interface Reply {
  code: number;
  text: string;
}

export class SmtpReplyError extends Error {
  readonly responseCode: number;
  constructor(reply: Reply) {
    super(reply.text);
    this.responseCode = reply.code;
  }
}

export const replyError = (code: number, text: string) => new SmtpReplyError({ code, text });

/** One line of printable text, for relay messages echoed to the client. */
export const sanitize = replyText;

const reply = (r: SmtpReply, text: string): Reply => ({ code: r.code, text: `${r.enhanced} ${text}` });

export const REPLIES = {
  authRequired: { code: 530, text: "5.7.0 Authentication required" },
  starttlsFirst: { code: 530, text: "5.7.0 Must issue a STARTTLS command first" },
  authTlsRequired: { code: 538, text: "5.7.11 Encryption required for requested authentication mechanism" },
  authInvalid: { code: 535, text: "5.7.8 Authentication credentials invalid" },
  authNoScope: { code: 535, text: "5.7.8 API key lacks the send scope" },
  authUnavailable: { code: 454, text: "4.7.0 Temporary authentication failure, try again later" },
  authBlocked: { code: 454, text: "4.7.0 Too many failed authentication attempts, try again later" },
  authTooManyInSession: { code: 421, text: "4.7.0 Too many failed authentication attempts, closing connection" },
  shuttingDown: { code: 421, text: "4.3.2 Service shutting down, try again later" },
  sessionTooLong: { code: 421, text: "4.4.2 Session time limit reached, closing connection" },
  dataTooSlow: { code: 421, text: "4.4.2 Message not received in time, closing connection" },
  // Whatever the relay's 5xx said: internal detail is not the client's.
  relayUnavailable: reply(SMTP_REPLIES.unavailable, "Relay temporarily unavailable, try again later"),
} as const satisfies Record<string, Reply>;

export type LocalRejection = "bare_lf" | "bare_cr" | "nul" | "control_dot" | "line_too_long" | "too_large" | "header_too_large";

export function localRejectionReply(reason: LocalRejection, limits: { maxBytes: number; maxLineLength: number; maxHeaderBytes: number }): Reply {
  switch (reason) {
    // Malformed mail the relay would refuse as invalid_mime, refused here before it gets there.
    case "bare_lf":
      return reply(SMTP_REPLIES.invalid_mime, "Message contains a bare LF; lines must end with CRLF");
    case "bare_cr":
      return reply(SMTP_REPLIES.invalid_mime, "Message contains a bare CR; lines must end with CRLF");
    case "nul":
      return reply(SMTP_REPLIES.invalid_mime, "Message contains a NUL octet, which RFC 5322 does not allow");
    case "control_dot":
      return reply(SMTP_REPLIES.invalid_mime, "Message contains a line of control characters before a dot (an end-of-data smuggling pattern)");
    case "line_too_long":
      return reply(SMTP_REPLIES.invalid_mime, `Message contains a line longer than ${limits.maxLineLength} octets`);
    case "too_large":
      return reply(SMTP_REPLIES.message_too_large, `Message exceeds fixed maximum message size of ${limits.maxBytes} bytes`);
    case "header_too_large":
      return reply(SMTP_REPLIES.message_too_large, `Message header section exceeds ${limits.maxHeaderBytes} bytes`);
  }
}

/**
 * The reply for a relay refusal: by its error code; a code this bridge does not know (a newer
 * relay, or `http_<status>` for a body that was not the relay's JSON) by its HTTP status.
 */
function replyForRefusal(status: number, code: string): SmtpReply | "unavailable" {
  const known = smtpReplyForCode(code);
  if (known) return known;
  if (status === 413) return SMTP_REPLIES.message_too_large;
  if (status === 429) return SMTP_REPLIES.rate_limited;
  // Timeouts the relay (or a proxy before it) reports as 4xx are still transient.
  if (status === 408) return "unavailable";
  return UNKNOWN_REFUSAL;
}

/** Maps the relay's answer to the reply for the end of DATA. */
export function replyForSubmit(result: SubmitResult): Reply {
  switch (result.kind) {
    case "accepted":
      return { code: 250, text: `2.0.0 Ok: queued as ${result.id}` };
    case "unavailable":
      return REPLIES.relayUnavailable;
    case "rejected": {
      const r = replyForRefusal(result.status, result.code);
      if (r === "unavailable") return REPLIES.relayUnavailable;
      const relayText = sanitize(result.message) || `relay refused the message (${sanitize(result.code, 60)})`;
      const wait = r.code < 500 && result.retryAfterS !== null ? ` (retry after ${result.retryAfterS} seconds)` : "";
      return reply(r, `${relayText}${wait}`);
    }
  }
}

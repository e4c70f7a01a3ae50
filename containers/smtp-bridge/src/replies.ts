// SMTP replies the bridge writes itself. Each carries its RFC 3463 enhanced status code in the
// text: smtp-server's automatic enhanced codes are off, because it cannot tell a bad sender
// domain (5.7.1) from an unknown mailbox (5.1.1) when both are 550.
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
export function sanitize(text: string, max = 300): string {
  const oneLine = text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]+/g, " ").replace(/\s+/g, " ").trim();
  return oneLine.length > max ? oneLine.slice(0, max - 3) + "..." : oneLine;
}

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
  relayUnavailable: { code: 451, text: "4.3.0 Relay temporarily unavailable, try again later" },
} as const satisfies Record<string, Reply>;

export type LocalRejection = "bare_lf" | "bare_cr" | "nul" | "control_dot" | "line_too_long" | "too_large" | "header_too_large";

export function localRejectionReply(reason: LocalRejection, limits: { maxBytes: number; maxLineLength: number; maxHeaderBytes: number }): Reply {
  switch (reason) {
    case "bare_lf":
      return { code: 550, text: "5.6.0 Message contains a bare LF; lines must end with CRLF" };
    case "bare_cr":
      return { code: 550, text: "5.6.0 Message contains a bare CR; lines must end with CRLF" };
    case "nul":
      return { code: 550, text: "5.6.0 Message contains a NUL octet, which RFC 5322 does not allow" };
    case "control_dot":
      return { code: 550, text: "5.6.0 Message contains a line of control characters before a dot (an end-of-data smuggling pattern)" };
    case "line_too_long":
      return { code: 550, text: `5.6.0 Message contains a line longer than ${limits.maxLineLength} octets` };
    case "too_large":
      return { code: 552, text: `5.3.4 Message exceeds fixed maximum message size of ${limits.maxBytes} bytes` };
    case "header_too_large":
      return { code: 552, text: `5.3.4 Message header section exceeds ${limits.maxHeaderBytes} bytes` };
  }
}

const ENHANCED_FOR_CODE: Record<string, string> = {
  validation_error: "5.6.0",
  invalid_mime: "5.6.0",
  header_injection: "5.6.0",
  unsupported_media_type: "5.6.0",
  invalid_address: "5.1.3",
  unauthorized: "5.7.8",
  forbidden: "5.7.1",
  sender_domain_not_verified: "5.7.1",
  idempotency_conflict: "5.6.0",
  unprocessable: "5.6.0",
  no_provider: "5.3.0",
};

/** Maps the relay's answer to the reply for the end of DATA. */
export function replyForSubmit(result: SubmitResult): Reply {
  switch (result.kind) {
    case "accepted":
      return { code: 250, text: `2.0.0 Ok: queued as ${result.id}` };
    case "unavailable":
      return REPLIES.relayUnavailable;
    case "rejected": {
      const relayText = sanitize(result.message) || `relay refused the message (${sanitize(result.code, 60)})`;
      if (result.status === 413 || result.code === "message_too_large") {
        return { code: 552, text: `5.3.4 ${relayText}` };
      }
      if (result.status === 429 || result.code === "rate_limited") {
        const wait = result.retryAfterS !== null ? ` (retry after ${result.retryAfterS} seconds)` : "";
        return { code: 452, text: `4.5.3 ${relayText}${wait}` };
      }
      // Timeouts the relay reports as 4xx are still transient.
      if (result.status === 408) return REPLIES.relayUnavailable;
      return { code: 550, text: `${ENHANCED_FOR_CODE[result.code] ?? "5.7.0"} ${relayText}` };
    }
  }
}

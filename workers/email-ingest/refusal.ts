// What inbound mail tells the sending server when the relay refuses a message: a RelayError's
// code through the one table (core/smtp-replies.ts) the SMTP bridge uses too.
import type { ErrorCode, RelayError } from "../../core/errors";
import { replyText, SMTP_REPLIES, type SmtpReply } from "../../core/smtp-replies";

// Annotated so that a code added to ERROR_CODES without a reply does not compile.
const REPLY_FOR: Readonly<Record<ErrorCode, SmtpReply>> = SMTP_REPLIES;

export interface InboundRefusal extends SmtpReply {
  /** `<code> <enhanced> <message>`, the setReject text. */
  text: string;
  /**
   * A 4xx reply. setReject always refuses permanently, so the handler throws instead and Email
   * Routing answers with a temporary failure: the sender retries (a rate limit, our outage).
   */
  temporary: boolean;
}

export function inboundRefusal(e: RelayError): InboundRefusal {
  const { code, enhanced } = REPLY_FOR[e.code];
  return { code, enhanced, text: `${code} ${enhanced} ${replyText(e.message)}`, temporary: code < 500 };
}

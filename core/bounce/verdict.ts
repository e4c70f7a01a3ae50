// One reported recipient and what its failure means: the reason (core/bounce/reasons.ts), hard or
// soft by that reason, whether delivery was given up or is still being tried, and the status,
// taken from the report or, when it gives none, inferred from the reason and marked so.
import { enhancedStatus, smtpReplyCode } from "./fields";
import { classifyReason, type SmtpCommand } from "./reason";
import { inferredStatus, isHard, type Reason } from "./reasons";

export interface ReportedRecipient {
  /** The failed address as the report names it (domain lowercased, quotes of a quoted local part kept). */
  email: string;
  /** hard: the address is bad (suppress); soft: it is not (or not yet) the address; delivered: no failure. */
  kind: "hard" | "soft" | "delivered";
  /** The delivery was given up (a bounce), not only delayed (a warning). */
  final: boolean;
  reason: Reason;
  action: string | null;
  /** Enhanced status code (RFC 3463), e.g. "5.1.1". */
  status: string | null;
  /** True when the report gave no status and `status` was inferred from the reason. */
  statusInferred: boolean;
  /** The SMTP reply code the remote server answered, e.g. "550". */
  replyCode: string | null;
  /** The SMTP command the failure answered, when the report says. */
  command: SmtpCommand | null;
  diagnostic: string | null;
  /** The remote server that answered (DSN Remote-MTA, or the host a prose report quotes). */
  remoteMta: string | null;
}

export interface RecipientFacts {
  email: string;
  action: string | null;
  status: string | null;
  replyCode: string | null;
  command: SmtpCommand | null;
  /** The remote server's reply (or the recipient's block of a prose report). */
  text: string;
  /** What the report's human-readable part says about this recipient. */
  explanation?: string;
  /** The rest of the report, read when the failure's own text names no reason. */
  context?: string;
  /** A warning that delivery continues (DSN Action: delayed, or a prose delay notice). */
  delayed: boolean;
  diagnostic: string | null;
  remoteMta: string | null;
  /** DSN Diagnostic-Code of type x-unix: the receiving host's local delivery program answered. */
  localDelivery?: boolean;
}

export function verdict(f: RecipientFacts): ReportedRecipient {
  const replyCode = f.replyCode ?? smtpReplyCode(f.text) ?? null;
  const status = enhancedStatus(f.status ?? undefined);
  const reason = classifyReason({ text: f.text, explanation: f.explanation, context: f.context, status, replyCode, command: f.command, action: f.action, delayed: f.delayed, localDelivery: f.localDelivery });
  const cls = status?.[0] ?? replyCode?.[0] ?? null;
  const delivered = reason === "delivered";
  const final = !delivered && !f.delayed && f.action !== "delayed";
  let reported = status;
  let inferred = false;
  if (!reported && !delivered) {
    reported = inferredStatus(reason, cls === "4" || (!final && cls !== "5") ? "4" : "5");
    inferred = reported !== null;
  }
  return {
    email: f.email,
    kind: delivered ? "delivered" : isHard(reason, cls) ? "hard" : "soft",
    final,
    reason,
    action: f.action,
    status: reported,
    statusInferred: inferred,
    replyCode,
    command: f.command,
    diagnostic: f.diagnostic ? f.diagnostic.slice(0, 500) : null,
    remoteMta: f.remoteMta,
  };
}

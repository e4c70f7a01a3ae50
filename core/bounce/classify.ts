// Classifies a message that arrived at the bounce address (or was forwarded there): an RFC 3464
// delivery status notification, an RFC 5965 (ARF) complaint, a non-standard bounce written as
// prose by an MTA that ignores RFC 3464, an RFC 3834 auto-reply, or none of these.
//
// Order matters: structured reports first (they are unambiguous), then auto-replies (many
// bounces also carry `Auto-Submitted: auto-replied`, so a message that looks like it comes
// from a mailer daemon is not taken for an out-of-office), then prose bounces.
import type { Email } from "postal-mime";
import { addressField, dsnStatus, enhancedStatus, parseFieldBlocks, type FieldBlock } from "./fields";
import { classifyProse, isDaemonAddress, looksLikeFailureSubject } from "./prose";
import { recipientKind, type ReportedRecipient } from "./recipient-kind";

export type { ReportedRecipient };

export type BounceKind = "hard" | "soft" | "complaint" | "auto_reply" | "not_bounce";


export interface Classification {
  kind: BounceKind;
  /** How it was recognised. */
  format: "dsn" | "arf" | "ses" | "prose" | "rfc3834" | "none";
  /** The first recipient the report is about (lowercased), when it names one. */
  recipient: string | null;
  recipients: ReportedRecipient[];
  status: string | null;
  diagnostic: string | null;
  /** ARF Feedback-Type (abuse, fraud, ...). */
  feedbackType: string | null;
  /** Message-ID of the message the report is about, with angle brackets, when found. */
  originalMessageId: string | null;
  subject: string | null;
}

const decoder = new TextDecoder();
const asText = (c: ArrayBuffer | Uint8Array | string): string => (typeof c === "string" ? c : decoder.decode(c));

/**
 * Classifies a parsed message (workers/mime-parse.ts parses it). `raw`, when given, rescues a
 * multipart message whose parts do not match its declared boundary: it parses to nothing (seen in
 * a real Postfix bounce), and its body is then read as plain text rather than lost.
 */
export function classifyParsed(mail: Email, raw?: Uint8Array | string): Classification {
  if (raw !== undefined && !mail.text && !mail.html && mail.attachments.length === 0) {
    const text = typeof raw === "string" ? raw : decoder.decode(raw);
    const m = /\r?\n\r?\n/.exec(text);
    if (m) mail.text = text.slice(m.index + m[0].length);
  }
  const header = (k: string) => mail.headers.find((h) => h.key === k)?.value ?? "";
  const contentType = header("content-type").toLowerCase();
  const parts = mail.attachments.map((a) => ({ type: a.mimeType.toLowerCase(), text: asText(a.content) }));
  const originalMessageId = findOriginalMessageId(mail, parts);
  const base = { feedbackType: null, originalMessageId, subject: mail.subject ?? null };

  // 1. ARF complaint.
  const feedback = parts.find((p) => p.type === "message/feedback-report");
  if (feedback || /report-type="?feedback-report/.test(contentType)) {
    const fields = parseFieldBlocks(feedback?.text ?? mail.text ?? "")[0] ?? new Map<string, string>();
    const feedbackType = (fields.get("feedback-type") ?? "abuse").toLowerCase();
    const recipient = addressField(fields.get("original-rcpt-to")) ?? addressField(fields.get("removal-recipient")) ?? originalRecipient(parts);
    // auth-failure and not-spam reports are not a recipient complaining.
    const complaint = feedbackType !== "auth-failure" && feedbackType !== "not-spam";
    return {
      ...base,
      kind: complaint ? "complaint" : "not_bounce",
      format: "arf",
      recipient,
      recipients: [],
      status: null,
      diagnostic: null,
      feedbackType,
    };
  }

  // 2. RFC 3464 delivery status (some MTAs send it as text/plain or mislabel the type).
  const dsnPart =
    parts.find((p) => p.type === "message/delivery-status" || p.type === "message/global-delivery-status") ??
    [...parts, { type: "text/plain", text: mail.text ?? "" }].find((p) => /^(reporting-mta|final-recipient)\s*:/im.test(p.text) && /^action\s*:/im.test(p.text));
  if (dsnPart) {
    const recipients = dsnRecipients(parseFieldBlocks(dsnPart.text)).map((r) => withExplanation(r, mail.text ?? ""));
    if (recipients.length > 0) return fromRecipients(base, "dsn", recipients);
  }

  // 3. Amazon SES notifications delivered by SNS as email (JSON body).
  const ses = sesNotification(mail.text ?? "");
  if (ses) return { ...base, ...ses };

  // 4. Old Hotmail-style complaints: a forwarded original from the provider's staff address.
  const fromAddress = (mail.from && "address" in mail.from ? mail.from.address : "")?.toLowerCase() ?? "";
  if (/complaint about message|abuse report/i.test(mail.subject ?? "") && parts.some((p) => p.type === "message/rfc822")) {
    return { ...base, kind: "complaint", format: "arf", recipient: originalRecipient(parts), recipients: [], status: null, diagnostic: null, feedbackType: "abuse" };
  }

  // 5. Auto-replies (RFC 3834 and the common vendor headers).
  const daemonish = isDaemonAddress(fromAddress) || looksLikeFailureSubject(mail.subject ?? "");
  if (!daemonish && isAutoReply(header)) {
    return { ...base, kind: "auto_reply", format: "rfc3834", recipient: fromAddress || null, recipients: [], status: null, diagnostic: null };
  }

  // 6. Prose bounces.
  if (daemonish || header("return-path").trim() === "<>") {
    const body = [mail.text ?? "", ...parts.filter((p) => p.type.startsWith("text/")).map((p) => p.text)].join("\n");
    const prose = classifyProse(body, fromAddress);
    if (prose.email) return fromRecipients(base, "prose", [{ ...prose, email: prose.email }]);
    // A failure notice that names nobody (the address is only in the VERP envelope): still a bounce.
    if (prose.kind !== "delivered" && (daemonish || prose.status)) {
      return { ...base, kind: prose.kind, format: "prose", recipient: null, recipients: [], status: prose.status, diagnostic: prose.diagnostic };
    }
  }
  if (isAutoReply(header)) {
    return { ...base, kind: "auto_reply", format: "rfc3834", recipient: fromAddress || null, recipients: [], status: null, diagnostic: null };
  }
  return { ...base, kind: "not_bounce", format: "none", recipient: null, recipients: [], status: null, diagnostic: null };
}

function fromRecipients(
  base: Pick<Classification, "feedbackType" | "originalMessageId" | "subject">,
  format: Classification["format"],
  recipients: ReportedRecipient[],
): Classification {
  const worst = recipients.find((r) => r.kind === "hard") ?? recipients.find((r) => r.kind === "soft") ?? recipients[0]!;
  const kind: BounceKind = worst.kind === "delivered" ? "not_bounce" : worst.kind;
  return { ...base, kind, format, recipient: worst.email, recipients, status: worst.status, diagnostic: worst.diagnostic };
}

/**
 * A DSN recipient whose report gives only a status class (x.0.0) and no diagnostic (OpenSMTPD
 * does this): the human-readable part usually quotes the server's answer on the recipient's
 * line ("user@x: 550 5.1.1 ... User unknown"), which is the specific status and the diagnostic.
 */
function withExplanation(r: ReportedRecipient, text: string): ReportedRecipient {
  if (r.diagnostic || (r.status && !/^\d\.0\.0$/.test(r.status))) return r;
  const line = text
    .split(/\r?\n/)
    .find((l) => l.toLowerCase().includes(r.email) && /\b[45]\d\d\b|[45]\.\d+\.\d+/.test(l));
  if (!line) return r;
  const status = dsnStatus(r.status ?? undefined, line);
  return { ...r, status, diagnostic: line.trim().slice(0, 500), kind: recipientKind(r.action, status, line) };
}

function dsnRecipients(blocks: FieldBlock[]): ReportedRecipient[] {
  const out: ReportedRecipient[] = [];
  for (const b of blocks) {
    const email = addressField(b.get("final-recipient")) ?? addressField(b.get("original-recipient"));
    if (!email) continue;
    const action = b.get("action")?.toLowerCase().split(/[\s(]/)[0] ?? null;
    const diagnostic = b.get("diagnostic-code") ?? null;
    const status = dsnStatus(b.get("status"), diagnostic ?? undefined);
    out.push({ email, action, status, diagnostic: diagnostic ? diagnostic.replace(/^smtp;\s*/i, "").slice(0, 500) : null, kind: recipientKind(action, status, diagnostic) });
  }
  return out;
}

function sesNotification(text: string): Pick<Classification, "kind" | "format" | "recipient" | "recipients" | "status" | "diagnostic" | "feedbackType"> | null {
  const start = text.indexOf("{");
  if (start < 0 || !text.includes("notificationType")) return null;
  let doc: unknown;
  try {
    const json = text.slice(start, text.lastIndexOf("}") + 1);
    // Notification mails wrap the one-line JSON at a fixed width.
    try {
      doc = JSON.parse(json);
    } catch {
      doc = JSON.parse(json.replace(/\r?\n/g, ""));
    }
    // SNS wraps the SES notification as a JSON string in "Message".
    if (doc && typeof doc === "object" && typeof (doc as { Message?: unknown }).Message === "string") doc = JSON.parse((doc as { Message: string }).Message);
  } catch {
    return null;
  }
  const n = doc as {
    notificationType?: string;
    bounce?: { bounceType?: string; bouncedRecipients?: { emailAddress?: string; status?: string; diagnosticCode?: string; action?: string }[] };
    complaint?: { complainedRecipients?: { emailAddress?: string }[]; complaintFeedbackType?: string };
    delivery?: { recipients?: string[] };
  };
  if (n.notificationType === "Bounce" && n.bounce) {
    const permanent = n.bounce.bounceType === "Permanent";
    const recipients: ReportedRecipient[] = (n.bounce.bouncedRecipients ?? [])
      .filter((r) => typeof r.emailAddress === "string")
      .map((r) => ({
        email: r.emailAddress!.toLowerCase(),
        kind: permanent ? "hard" : "soft",
        action: r.action ?? null,
        status: enhancedStatus(r.status) ?? null,
        diagnostic: r.diagnosticCode?.slice(0, 500) ?? null,
      }));
    const first = recipients[0];
    return { kind: permanent ? "hard" : "soft", format: "ses", recipient: first?.email ?? null, recipients, status: first?.status ?? null, diagnostic: first?.diagnostic ?? null, feedbackType: null };
  }
  if (n.notificationType === "Complaint" && n.complaint) {
    const email = n.complaint.complainedRecipients?.[0]?.emailAddress?.toLowerCase() ?? null;
    return { kind: "complaint", format: "ses", recipient: email, recipients: [], status: null, diagnostic: null, feedbackType: n.complaint.complaintFeedbackType ?? "abuse" };
  }
  if (n.notificationType === "Delivery") {
    return { kind: "not_bounce", format: "ses", recipient: n.delivery?.recipients?.[0]?.toLowerCase() ?? null, recipients: [], status: null, diagnostic: null, feedbackType: null };
  }
  return null;
}

function isAutoReply(header: (k: string) => string): boolean {
  const auto = header("auto-submitted").trim().toLowerCase();
  if (auto && auto !== "no") return true;
  if (header("x-autoreply") || header("x-autorespond") || header("x-autoresponder")) return true;
  if (/^vacation$/i.test(header("x-apple-action").trim())) return true;
  if (/^auto[-_]reply$/i.test(header("precedence").trim())) return true;
  return /^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|autoreply|abwesenheit|away\b|vacation)/i.test(header("subject"));
}

/** The To of the original message attached to a report (message/rfc822 or text/rfc822-headers). */
function originalRecipient(parts: { type: string; text: string }[]): string | null {
  for (const p of parts) {
    if (p.type !== "message/rfc822" && p.type !== "text/rfc822-headers") continue;
    const headers = parseFieldBlocks(p.text.split(/\r?\n\r?\n/)[0] ?? "")[0];
    const to = headers?.get("to") ?? headers?.get("x-hmxmroriginalrecipient");
    const addr = addressField(to);
    if (addr) return addr;
  }
  return null;
}

function findOriginalMessageId(mail: Email, parts: { type: string; text: string }[]): string | null {
  const own = mail.messageId?.trim();
  const sources = [
    ...parts.filter((p) => p.type === "message/rfc822" || p.type === "text/rfc822-headers" || p.type.startsWith("text/")).map((p) => p.text),
    mail.text ?? "",
  ];
  for (const s of sources) {
    for (const m of s.matchAll(/^Message-ID:\s*(<[^>\s]+>)/gim)) {
      if (m[1] !== own) return m[1]!;
    }
  }
  return null;
}

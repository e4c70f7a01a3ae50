// Classifies a message that arrived at the bounce address (or was forwarded there): an RFC 3464
// delivery status notification, an RFC 5965 (ARF) complaint, a non-standard bounce written as
// prose by an MTA that ignores RFC 3464, an RFC 3834 auto-reply, or none of these. For a bounce,
// each failed recipient gets a reason (sisimai's names, core/bounce/reasons.ts), hard or soft by
// that reason, a status (from the report, else inferred and marked so) and the remote server.
//
// Order matters: structured reports first (they are unambiguous), then auto-replies (many
// bounces also carry `Auto-Submitted: auto-replied`, so a message that looks like it comes
// from a mailer daemon is not taken for an out-of-office), then prose bounces.
import type { Email } from "postal-mime";
import { addressKey, addressField, findAddresses } from "./address";
import { dsnStatus, enhancedStatus, failureReplyCode, failureStatus, parseFieldBlocks, smtpReplyCode, type FieldBlock } from "./fields";
import { isDaemonAddress, isDelayNotice, looksLikeFailureSubject, proseRecipients, remoteHost, splitAtCopy, type ProseContext } from "./prose";
import { smtpCommand } from "./reason";
import type { Reason } from "./reasons";
import { verdict, type ReportedRecipient } from "./verdict";

export type { ReportedRecipient };

export type BounceKind = "hard" | "soft" | "complaint" | "auto_reply" | "not_bounce";

export interface Classification {
  kind: BounceKind;
  /** How it was recognised. */
  format: "dsn" | "arf" | "ses" | "prose" | "rfc3834" | "none";
  /** The reason of the report as a whole (its worst recipient's); feedback, vacation, delivered for the others. */
  reason: Reason | null;
  /** The delivery was given up (a bounce), not only delayed (a warning). */
  final: boolean;
  /** The first recipient the report is about, when it names one. */
  recipient: string | null;
  recipients: ReportedRecipient[];
  status: string | null;
  statusInferred: boolean;
  diagnostic: string | null;
  remoteMta: string | null;
  /** ARF Feedback-Type (abuse, fraud, ...). */
  feedbackType: string | null;
  /** Message-ID of the message the report is about, with angle brackets, when found. */
  originalMessageId: string | null;
  /** The To and Cc of the returned original (lowercased), when the report attaches it: a cross-check of who was sent to. */
  originalRecipients: string[];
  subject: string | null;
}

const decoder = new TextDecoder();
const asText = (c: ArrayBuffer | Uint8Array | string): string => (typeof c === "string" ? c : decoder.decode(c));

type Part = { type: string; text: string };
type Base = Pick<Classification, "feedbackType" | "originalMessageId" | "subject" | "originalRecipients">;

const empty = (): Pick<Classification, "recipients" | "status" | "statusInferred" | "diagnostic" | "remoteMta" | "final"> => ({ recipients: [], status: null, statusInferred: false, diagnostic: null, remoteMta: null, final: false });

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
  const parts: Part[] = mail.attachments.map((a) => ({ type: a.mimeType.toLowerCase(), text: asText(a.content) }));
  const originalMessageId = findOriginalMessageId(mail, parts);
  const original = originalHeaders(parts, mail.text ?? "");
  const base: Base = { feedbackType: null, originalMessageId, subject: mail.subject ?? null, originalRecipients: original.recipients };

  // 1. ARF complaint.
  const feedback = parts.find((p) => p.type === "message/feedback-report");
  if (feedback || /report-type="?feedback-report/.test(contentType)) {
    const fields = parseFieldBlocks(feedback?.text ?? mail.text ?? "")[0] ?? new Map<string, string>();
    const feedbackType = (fields.get("feedback-type") ?? "abuse").toLowerCase();
    const recipient = addressField(fields.get("original-rcpt-to")) ?? addressField(fields.get("removal-recipient")) ?? original.to;
    // auth-failure and not-spam reports are not a recipient complaining.
    const complaint = feedbackType !== "auth-failure" && feedbackType !== "not-spam";
    return { ...base, ...empty(), kind: complaint ? "complaint" : "not_bounce", format: "arf", reason: "feedback", recipient, feedbackType };
  }

  const fromAddress = (mail.from && "address" in mail.from ? mail.from.address : "") ?? "";
  const ctx = proseContext(mail, parts, original, fromAddress);

  // 2. RFC 3464 delivery status (some MTAs send it as text/plain or mislabel the type).
  const dsnPart =
    parts.find((p) => p.type === "message/delivery-status" || p.type === "message/global-delivery-status") ??
    [...parts, { type: "text/plain", text: mail.text ?? "" }].find((p) => /^(reporting-mta|final-recipient)\s*:/im.test(p.text) && /^action\s*:/im.test(p.text));
  if (dsnPart) {
    const human = splitAtCopy(humanText(mail, parts, dsnPart)).head;
    const recipients = dsnRecipients(parseFieldBlocks(dsnPart.text), human);
    if (recipients.length > 0) return fromRecipients(base, "dsn", recipients);
  }

  // 3. Amazon SES notifications delivered by SNS as email (JSON body).
  const ses = sesNotification(mail.text ?? "");
  if (ses) return { ...base, ...ses };

  // 4. Old Hotmail-style complaints: a forwarded original from the provider's staff address.
  if (/complaint about message|abuse report/i.test(mail.subject ?? "") && parts.some((p) => p.type === "message/rfc822")) {
    return { ...base, ...empty(), kind: "complaint", format: "arf", reason: "feedback", recipient: original.to, feedbackType: "abuse" };
  }

  // 5. Auto-replies (RFC 3834 and the common vendor headers).
  const daemonish = isDaemonAddress(fromAddress) || looksLikeFailureSubject(mail.subject ?? "");
  const autoReply = (): Classification => ({ ...base, ...empty(), kind: "auto_reply", format: "rfc3834", reason: "vacation", recipient: fromAddress.toLowerCase() || null });
  if (!daemonish && isAutoReply(header)) return autoReply();

  // 6. Prose bounces.
  if (daemonish || header("return-path").trim() === "<>") {
    const body = humanText(mail, parts, null);
    const { head, copy } = splitAtCopy(body);
    const found = proseRecipients(head, copy + "\n" + original.text, ctx);
    const delayed = isDelayNotice(head);
    const recipients = found.map((r) => {
      const single = found.length === 1;
      const status = failureStatus(r.text) ?? (single ? failureStatus(head) : null);
      return verdict({
        email: r.email,
        action: null,
        status,
        replyCode: failureReplyCode(r.text) ?? (single ? failureReplyCode(head) : null),
        command: smtpCommand(r.text) ?? (single ? smtpCommand(head) : null),
        text: r.text,
        context: head,
        delayed,
        diagnostic: proseDiagnostic(r.text, r.email),
        remoteMta: remoteHost(r.text) ?? remoteHost(head),
      });
    });
    if (recipients.length > 0 && recipients.some((r) => r.kind !== "delivered")) return fromRecipients(base, "prose", recipients.map(googleGroups));
    // A failure notice that names nobody (the address is only in the VERP envelope): still a bounce.
    const status = failureStatus(head);
    if (daemonish || status) {
      const anonymous = verdict({
        email: "",
        action: null,
        status,
        replyCode: failureReplyCode(head),
        command: smtpCommand(head),
        text: head,
        delayed,
        diagnostic: proseDiagnostic(head, ""),
        remoteMta: remoteHost(head),
      });
      if (anonymous.kind !== "delivered") return { ...fromRecipients(base, "prose", [anonymous]), recipient: null, recipients: [] };
    }
  }
  if (isAutoReply(header)) return autoReply();
  return { ...base, ...empty(), kind: "not_bounce", format: "none", reason: null, recipient: null };
}

/**
 * Google Groups answers a post it refuses (the group does not exist, or the sender may not post to
 * it) in the poster's language, with no status: the sender was refused, not the address.
 */
function googleGroups(r: ReportedRecipient): ReportedRecipient {
  if (!/@googlegroups\.com$/i.test(r.email) || (r.reason !== "onhold" && r.reason !== "userunknown") || (r.status && !r.statusInferred)) return r;
  return { ...r, reason: "rejected", kind: "soft", status: "5.7.1", statusInferred: true };
}

function fromRecipients(base: Base, format: Classification["format"], recipients: ReportedRecipient[]): Classification {
  const failed = recipients.filter((r) => r.kind !== "delivered");
  const worst = failed.find((r) => r.kind === "hard") ?? failed.find((r) => r.final) ?? failed[0] ?? recipients[0]!;
  const kind: BounceKind = worst.kind === "delivered" ? "not_bounce" : worst.kind;
  return {
    ...base,
    kind,
    format,
    reason: worst.reason,
    final: worst.final,
    recipient: worst.email || null,
    recipients,
    status: worst.status,
    statusInferred: worst.statusInferred,
    diagnostic: worst.diagnostic,
    remoteMta: worst.remoteMta,
  };
}

/** The human-readable text of a report: its body and text parts, but not the DSN fields or the returned message. */
function humanText(mail: Email, parts: Part[], dsnPart: Part | null): string {
  return [mail.text ?? "", ...parts.filter((p) => p !== dsnPart && p.type.startsWith("text/") && p.type !== "text/rfc822-headers").map((p) => p.text)].join("\n");
}

function dsnRecipients(blocks: FieldBlock[], human: string): ReportedRecipient[] {
  const out: ReportedRecipient[] = [];
  for (const b of blocks) {
    const email = addressField(b.get("final-recipient")) ?? addressField(b.get("original-recipient"));
    if (!email) continue;
    const action = b.get("action")?.toLowerCase().split(/[\s(]/)[0] ?? null;
    const rawDiagnostic = b.get("diagnostic-code") ?? null;
    const diagnostic = rawDiagnostic ? wholeReply(rawDiagnostic.replace(/^[a-z0-9-]+;\s*/i, ""), human) : null;
    // What the human-readable part says about this recipient: OpenSMTPD and others quote the
    // server's answer there and leave Diagnostic-Code out.
    const explanation = linesAbout(human, email);
    const localDelivery = /^x-unix\s*;/i.test(rawDiagnostic ?? "");
    const text = [diagnostic ?? "", explanation].join("\n");
    const status = dsnStatus(b.get("status"), diagnostic ?? (enhancedStatus(b.get("status")) === null || /^\d\.0\.0$/.test(enhancedStatus(b.get("status"))!) ? explanation : undefined));
    const remote = b.get("remote-mta") ?? null;
    out.push(
      verdict({
        email,
        action,
        status,
        replyCode: smtpReplyCode(diagnostic ?? undefined) ?? failureReplyCode(explanation),
        command: smtpCommand(text) ?? smtpCommand(human),
        text: diagnostic ?? explanation,
        explanation: diagnostic ? explanation : undefined,
        context: human,
        delayed: action === "delayed",
        localDelivery,
        diagnostic: diagnostic ?? (explanation ? explanation.replace(/\s+/g, " ").trim() : null),
        remoteMta: (remote ? remote.replace(/^[a-z0-9-]+;\s*/i, "").replace(/[\s[].*$/, "").toLowerCase() : null) || remoteHost(text),
      }),
    );
  }
  return out;
}

/**
 * A multi-line reply that the DSN cut after its first line (`552-5.7.0 This message was blocked
 * because its content presents a potential`): the whole reply, from the transcript the report
 * quotes (`<<< 552-5.7.0 ...` lines), when it has it.
 */
function wholeReply(diagnostic: string, human: string): string {
  const m = /^\s*(\d{3})-(\d\.\d{1,3}\.\d{1,3})?/.exec(diagnostic);
  if (!m) return diagnostic;
  const prefix = new RegExp(`^\\s*(?:<<<\\s*)?${m[1]}[- ]${m[2] ? m[2].replace(/\./g, "\\.") : ""}`);
  const lines = human.split(/\r?\n/).filter((l) => prefix.test(l));
  if (lines.length < 2) return diagnostic;
  const joined = lines.map((l, i) => (i === 0 ? l.replace(/^\s*(<<<\s*)?/, "") : l.replace(prefix, ""))).join(" ").replace(/\s+/g, " ").trim();
  return joined.length > diagnostic.length ? joined : diagnostic;
}

/** The lines of a text about one address: the line naming it and those after it, up to the next address. */
function linesAbout(text: string, email: string): string {
  // DSN fields copied into the text part are not an explanation.
  const lines = text.split(/\r?\n/).filter((l) => !/^\s*(final-recipient|original-recipient|action|status|remote-mta|diagnostic-code|last-attempt-date|reporting-mta|arrival-date|will-retry-until|received-from-mta|x-[a-z0-9-]+)\s*:/i.test(l));
  const key = addressKey(email);
  const i = lines.findIndex((l) => findAddresses(l, true).some((f) => addressKey(f.address) === key));
  if (i < 0) return "";
  const out = [lines[i]!];
  for (let j = i + 1; j < lines.length && out.length < 8; j++) {
    const l = lines[j]!;
    if (findAddresses(l).some((f) => addressKey(f.address) !== key) && !/^\s/.test(l)) break;
    if (l.trim() === "" && out.length > 1) break;
    out.push(l);
  }
  return out.join("\n");
}

/** A prose recipient's diagnostic: its block without the line that only names it, collapsed. */
function proseDiagnostic(text: string, email: string): string | null {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !(email && l.replace(/[<>"':]/g, "").trim().toLowerCase() === email.toLowerCase()));
  const joined = lines.join(" ").replace(/\s+/g, " ").trim();
  return joined ? joined.slice(0, 500) : null;
}

interface OriginalHeaders {
  /** The returned original's first To address. */
  to: string | null;
  /** Its To and Cc addresses. */
  recipients: string[];
  /** Its From, Sender, Return-Path (the relay's own sender). */
  senders: string[];
  /** Its header section's text, for a prose report that copies it in the body. */
  text: string;
}

/** The header section of the original message a report returns (message/rfc822 or text/rfc822-headers, else the body's copy). */
function originalHeaders(parts: Part[], body: string): OriginalHeaders {
  const attached = parts.find((p) => p.type === "message/rfc822" || p.type === "text/rfc822-headers" || p.type === "message/rfc822-headers");
  const section = attached ? (attached.text.split(/\r?\n\r?\n/)[0] ?? "") : splitAtCopy(body).copy;
  const fields = parseFieldBlocks(section.replace(/^[\s\S]*?(?=^[A-Za-z-]+:)/m, ""));
  const get = (k: string) => fields.map((f) => f.get(k)).filter((v): v is string => v !== undefined);
  const addrs = (vals: string[]) => vals.flatMap((v) => findAddresses(v).map((f) => f.address));
  const recipients = addrs([...get("to"), ...get("cc")]);
  return {
    to: attached ? (recipients[0]?.toLowerCase() ?? addressField(get("x-hmxmroriginalrecipient")[0])) : null,
    recipients: attached ? [...new Set(recipients.map(addressKey))] : [],
    senders: addrs([...get("from"), ...get("sender"), ...get("return-path")]),
    text: attached ? section : "",
  };
}

function proseContext(mail: Email, parts: Part[], original: OriginalHeaders, fromAddress: string): ProseContext {
  const exclude = new Set<string>();
  const add = (a: string | undefined | null) => {
    if (a) exclude.add(addressKey(a));
  };
  add(fromAddress);
  for (const t of mail.to ?? []) if ("address" in t) add(t.address);
  for (const h of mail.headers) {
    if (/^(return-path|x-original-to|delivered-to|envelope-to)$/.test(h.key)) for (const f of findAddresses(h.value)) add(f.address);
  }
  for (const s of original.senders) add(s);
  const messageIds = new Set<string>();
  const texts = [mail.headers.map((h) => `${h.key}: ${h.value}`).join("\n"), mail.text ?? "", ...parts.map((p) => p.text)];
  for (const t of texts) {
    for (const m of t.matchAll(/^(?:message-id|references|in-reply-to|content-id|resent-message-id|x-ms-tnef-correlator|original-envelope-id|x-message-id)\s*:\s*([^\n]*(?:\n[ \t][^\n]*)*)/gim)) {
      for (const id of m[1]!.matchAll(/<([^<>\s]+)>|(\S+@\S+)/g)) messageIds.add((id[1] ?? id[2]!).toLowerCase());
    }
    for (const m of t.matchAll(/message[- ]id(?: of| is)?:?\s*<?([^\s<>]+@[^\s<>]+?)>?[\s.,;)]/gi)) messageIds.add(m[1]!.toLowerCase());
  }
  const failedHeader = mail.headers.filter((h) => h.key === "x-failed-recipients").flatMap((h) => findAddresses(h.value, true).map((f) => f.address));
  return { exclude, messageIds, failedHeader };
}

function sesNotification(text: string): Omit<Classification, "originalMessageId" | "subject" | "originalRecipients"> | null {
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
    bounce?: { bounceType?: string; bounceSubType?: string; reportingMTA?: string; bouncedRecipients?: { emailAddress?: string; status?: string; diagnosticCode?: string; action?: string }[] };
    complaint?: { complainedRecipients?: { emailAddress?: string }[]; complaintFeedbackType?: string };
    delivery?: { recipients?: string[]; smtpResponse?: string; remoteMtaIp?: string; reportingMTA?: string };
  };
  if (n.notificationType === "Bounce" && n.bounce) {
    const transient = n.bounce.bounceType === "Transient";
    const subType = n.bounce.bounceSubType ?? "";
    const recipients: ReportedRecipient[] = (n.bounce.bouncedRecipients ?? [])
      .filter((r) => typeof r.emailAddress === "string")
      .map((r) => {
        const diagnostic = r.diagnosticCode?.replace(/^smtp;\s*/i, "") ?? null;
        // SES names the kind of failure in its sub-type when the diagnostic does not.
        const hint = { NoEmail: "user unknown", MailboxFull: "mailbox full", MessageTooLarge: "message too large", ContentRejected: "content rejected", AttachmentRejected: "attachment not allowed" }[subType] ?? "";
        return verdict({
          email: r.emailAddress!,
          action: r.action?.toLowerCase() ?? (transient ? "delayed" : "failed"),
          status: enhancedStatus(r.status) ?? enhancedStatus(diagnostic ?? undefined),
          replyCode: smtpReplyCode(diagnostic ?? undefined),
          command: diagnostic ? smtpCommand(diagnostic) : null,
          text: [diagnostic ?? "", hint].join("\n"),
          delayed: false,
          diagnostic,
          remoteMta: n.bounce?.reportingMTA?.replace(/^dns;\s*/i, "") ?? null,
        });
      });
    if (recipients.length === 0) return null;
    const c = fromRecipients({ feedbackType: null, originalMessageId: null, subject: null, originalRecipients: [] }, "ses", recipients);
    const { feedbackType: _f, originalMessageId: _o, subject: _s, originalRecipients: _r, ...rest } = c;
    return { ...rest, feedbackType: null };
  }
  if (n.notificationType === "Complaint" && n.complaint) {
    const email = n.complaint.complainedRecipients?.[0]?.emailAddress ?? null;
    return { ...empty(), kind: "complaint", format: "ses", reason: "feedback", recipient: email, feedbackType: n.complaint.complaintFeedbackType ?? "abuse" };
  }
  if (n.notificationType === "Delivery") {
    const email = n.delivery?.recipients?.[0] ?? null;
    const status = enhancedStatus(n.delivery?.smtpResponse) ?? null;
    const delivered: ReportedRecipient | null = email
      ? { email, kind: "delivered", final: false, reason: "delivered", action: "delivered", status, statusInferred: false, replyCode: smtpReplyCode(n.delivery?.smtpResponse), command: null, diagnostic: n.delivery?.smtpResponse ?? null, remoteMta: n.delivery?.remoteMtaIp ?? null }
      : null;
    return { ...empty(), kind: "not_bounce", format: "ses", reason: "delivered", recipient: email, recipients: delivered ? [delivered] : [], status, feedbackType: null };
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

function findOriginalMessageId(mail: Email, parts: Part[]): string | null {
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

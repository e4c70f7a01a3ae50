// Raw RFC 5322 messages with their envelope: the MIME route, the SMTP bridge and inbound mail.
// Read once in the canonical form, checked, deduplicated by Message-ID + envelope recipients +
// content (core/resubmission.ts), then committed by the one accept path (workers/accept.ts).
import { domainOf, parseMailbox } from "../core/address";
import { CAMPAIGN_HEADER, campaignIdSchema } from "../core/campaigns";
import { readConfig } from "../core/config";
import { rawContent } from "../core/content";
import { RelayError } from "../core/errors";
import { newId } from "../core/ids";
import { canonicalRaw, contentHash, prependHeaderField, removeHeaderFields } from "../core/raw-message";
import { decideResubmission, generationBase } from "../core/resubmission";
import { commit, dedupe, GenerationTaken, replayIfSeen, type AcceptContext, type AcceptOutcome, type Idempotency, type Prepared } from "./accept";
import { readRawHeaders } from "./mime-parse";

export interface RawSubmission {
  raw: Uint8Array;
  /** MAIL FROM; empty string or null for the null sender. */
  mailFrom: string | null;
  rcptTo: string[];
  source: "mime" | "smtp" | "email";
  tags?: string[];
  metadata?: Record<string, string>;
  /** The campaign to count the message in; otherwise the message's X-Relay-Campaign header, if any. */
  campaignId?: string;
}

/**
 * A raw RFC 5322 message with its envelope. Without an explicit key, a submission under a
 * Message-ID already accepted is decided by core/resubmission.ts: a true duplicate gets the first
 * answer, new envelope recipients get a linked message, other content is refused.
 */
export async function acceptRaw(ctx: AcceptContext, sub: RawSubmission, explicitKey?: Idempotency): Promise<AcceptOutcome> {
  const { maxMessageBytes } = readConfig(ctx.env);
  if (sub.raw.length > maxMessageBytes) {
    throw new RelayError("message_too_large", `message is ${sub.raw.length} bytes; the limit is ${maxMessageBytes}`);
  }
  if (sub.rcptTo.length === 0) throw new RelayError("validation_error", "rcpt_to: at least one envelope recipient is required");
  const recipients = sub.rcptTo.map((r, i) => {
    const m = parseMailbox(r);
    if (!m || m.name) throw new RelayError("invalid_address", `rcpt_to[${i}]: not a valid email address`);
    return m.address;
  });
  let envelopeFrom: string | null = null;
  if (sub.mailFrom) {
    const m = parseMailbox(sub.mailFrom);
    if (!m || m.name) throw new RelayError("invalid_address", "mail_from: not a valid email address");
    envelopeFrom = m.address;
  }

  // Mail from the outside world is repaired, a submitter's refused (core/raw-message.ts); either
  // way before the headers are read, so the checks below see the bytes that will be delivered.
  let raw = canonicalRaw(sub.raw, sub.source === "email" ? "repair" : "refuse");
  const headers = await readRawHeaders(raw);
  const hash = explicitKey || !headers.messageId ? null : await contentHash(raw);

  let messageIdHeader = headers.messageId;
  const generatedId = messageIdHeader ? null : newId("msg");
  if (!messageIdHeader) {
    messageIdHeader = `<${generatedId!.slice(4)}@${domainOf(headers.from.address)}>`;
    raw = prependHeaderField(raw, "Message-ID", messageIdHeader);
  }
  const campaignHeader = headers.parsed.headers.find((h) => h.key === CAMPAIGN_HEADER)?.value.trim();
  const campaignId = sub.campaignId ?? (campaignHeader || undefined);
  if (campaignId !== undefined && !campaignIdSchema.safeParse(campaignId).success) {
    throw new RelayError("validation_error", `${sub.campaignId !== undefined ? "campaign_id" : "X-Relay-Campaign"}: must be a campaign id (cmp_...)`);
  }
  raw = removeHeaderFields(raw, ["bcc", CAMPAIGN_HEADER]);
  const visible = new Map<string, "to" | "cc">();
  for (const a of headers.to) visible.set(a.toLowerCase(), "to");
  for (const a of headers.cc) if (!visible.has(a.toLowerCase())) visible.set(a.toLowerCase(), "cc");

  const prepared: Prepared = {
    source: sub.source,
    fromEmail: headers.from.address,
    // The envelope sender is held to the same rule as From and Sender: with VERP off it is what
    // the provider puts in MAIL FROM, so another tenant's domain there is spoofing too.
    senderDomains: [
      { field: "From", domain: domainOf(headers.from.address) },
      ...(headers.sender ? [{ field: "Sender", domain: domainOf(headers.sender.address) }] : []),
      ...(envelopeFrom ? [{ field: "mail_from (envelope sender)", domain: domainOf(envelopeFrom) }] : []),
    ],
    envelopeFrom,
    messageIdHeader,
    recipients: dedupe(recipients.map((email) => ({ email, kind: visible.get(email.toLowerCase()) ?? "bcc" }))),
    tags: sub.tags ?? [],
    metadata: sub.metadata ?? {},
    content: rawContent(raw),
    headerNames: [],
    attachments: [],
    sizeBytes: raw.length,
    forceSend: false,
    ...(campaignId !== undefined ? { campaignId } : {}),
  };

  if (hash === null) {
    const replay = await replayIfSeen(ctx.store, ctx.principal.workspaceId, explicitKey);
    if (replay) return replay;
    return commit(ctx, generatedId ?? newId("msg"), prepared, explicitKey);
  }
  // Two transactions of one split message can arrive side by side: both may decide to write the
  // same next generation, and the primary key lets one win. The other reads again and decides
  // anew (now seeing the winner's recipients), so neither answers for recipients it did not store.
  for (let attempt = 1; ; attempt++) {
    const earlier = await ctx.store.accept.messageIdGenerations(ctx.principal.workspaceId, generationBase(messageIdHeader));
    const decision = decideResubmission(messageIdHeader, hash, prepared.recipients.map((r) => r.email), earlier);
    if (decision.kind === "duplicate") return { status: 202, body: decision.answer, replayed: true };
    const wanted = decision.kind === "more" ? new Set(decision.recipients) : null;
    const p = wanted ? { ...prepared, recipients: prepared.recipients.filter((r) => wanted.has(r.email)) } : prepared;
    try {
      return await commit(ctx, newId("msg"), p, { key: decision.key, requestHash: hash, onTaken: "decide-again" });
    } catch (e) {
      if (!(e instanceof GenerationTaken) || attempt >= 5) throw e;
    }
  }
}

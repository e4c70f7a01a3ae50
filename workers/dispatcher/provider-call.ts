// One provider call as delivery makes it: the outbound message for a group of recipients (its
// envelope sender a VERP address through an SMTP smarthost), sent under the provider's hard
// deadline, with anything thrown turned into a transient failure.
import { readConfig } from "../../core/config";
import type { MessageContent } from "../../core/content";
import { callDeadlineMs, withDeadline } from "../../core/deadline";
import { encodeVerp } from "../../core/verp";
import type { MessageRecipientRow, MessageRow } from "../../db/messages/types";
import type { ProviderRow } from "../../db/providers";
import { readRawHeaders } from "../mime-parse";
import { providerFetch } from "./providers/transport";
import type { OutboundMessage, Provider, ProviderContext, SendResult } from "./providers/types";

export async function outboundFor(message: MessageRow, content: MessageContent, raw: Uint8Array, recipients: MessageRecipientRow[], deliveryId: string): Promise<OutboundMessage> {
  const base = {
    id: message.id,
    deliveryId,
    raw,
    messageIdHeader: message.messageIdHeader,
    envelopeFrom: message.envelopeFrom ?? message.fromEmail,
    recipients: recipients.map((r) => r.email),
    tags: message.tags,
    metadata: message.metadata,
  };
  if (content.kind === "structured") {
    return {
      ...base,
      from: content.from.address,
      to: content.to.map((m) => m.address),
      cc: content.cc.map((m) => m.address),
      ...(content.replyTo ? { replyTo: content.replyTo.address } : {}),
      subject: content.subject,
      ...(content.text !== undefined ? { text: content.text } : {}),
      ...(content.html !== undefined ? { html: content.html } : {}),
      headers: Object.fromEntries(content.headers),
      attachments: [],
    };
  }
  const h = await readRawHeaders(raw);
  return { ...base, from: h.from.address, to: h.to, cc: h.cc, subject: h.subject ?? "", headers: {}, attachments: [] };
}

/**
 * Through an SMTP smarthost the envelope sender is a VERP address (bounces+<id>@BOUNCE_DOMAIN),
 * so a bounce names the delivery it is about. API providers (Mailgun, Gmail) report bounces
 * through their own webhooks and keep the message's sender.
 */
export function envelopeFor(env: Env, provider: ProviderRow, outbound: OutboundMessage, message: MessageRow, recipients: MessageRecipientRow[]): OutboundMessage {
  const domain = readConfig(env).inbound.bounceDomain;
  if (provider.type !== "smtp" || !domain || (provider.config as { verp?: boolean }).verp === false) return outbound;
  return { ...outbound, envelopeFrom: encodeVerp(recipients.length === 1 ? recipients[0]!.id : message.id, domain) };
}

/**
 * One provider call under its hard deadline (core/deadline.ts): when the provider's timeout_ms
 * passes, its requests and sockets are aborted and the call is a transient timeout, so the
 * claim renewed for it (deadline + margin) always outlives it.
 */
export async function sendSafely(row: ProviderRow, provider: Provider, message: OutboundMessage, ctx: Omit<ProviderContext, "fetch" | "signal">): Promise<SendResult> {
  const deadline = callDeadlineMs(row.type, row.config);
  try {
    return await withDeadline(
      deadline,
      (signal) => provider.send(message, { ...ctx, fetch: providerFetch, signal }),
      (): SendResult => ({ status: "transient", reason: `${row.type} call abandoned: no answer within its deadline of ${deadline} ms (timeout)` }),
    );
  } catch (e) {
    // Providers return values for expected failures; anything thrown is unexpected and is
    // treated as transient so the message is retried rather than lost.
    return { status: "transient", reason: `provider error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

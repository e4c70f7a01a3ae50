// The contract every delivery provider implements. A provider never throws for an expected
// outcome: it classifies its own errors into one of three values so the pipeline can decide
// between "done", "try again later / elsewhere" and "give up on this recipient".
import type { SendResult } from "../../../core/delivery/send-result";
import type { SmtpSessionPool } from "./smtp-sessions";

export interface OutboundAttachment {
  filename: string;
  contentType: string;
  content: Uint8Array;
  /** Set for inline parts referenced from HTML as cid:... */
  contentId?: string;
}

/** What the dispatcher hands a provider: the rendered RFC 5322 message plus its parts. */
export interface OutboundMessage {
  /** Relay message id (msg_...). */
  id: string;
  /** Relay delivery id for this attempt's job; stable across queue redelivery. */
  deliveryId: string;
  /** The fully rendered RFC 5322 message, CRLF line endings, dot-unstuffed. */
  raw: Uint8Array;
  /** The Message-ID header value, with angle brackets. Providers must preserve it. */
  messageIdHeader: string;
  /** Envelope sender (bare address). */
  envelopeFrom: string;
  /** Envelope recipients for this send (bare addresses); may be a subset of the To/Cc list. */
  recipients: string[];
  from: string;
  to: string[];
  cc: string[];
  replyTo?: string;
  subject: string;
  text?: string;
  html?: string;
  /** Custom headers as the sender gave them (already validated: no CR/LF). */
  headers: Record<string, string>;
  attachments: OutboundAttachment[];
  tags: string[];
  metadata: Record<string, string>;
}

// What a call's answer is classified as: pure data, decided on in core/delivery/outcome.ts.
export type { SendResult } from "../../../core/delivery/send-result";
export interface ProviderContext {
  /** Wall clock, injectable for tests. */
  now(): number;
  /** Outbound fetch, injectable for tests; defaults to globalThis.fetch. */
  fetch: typeof fetch;
  /**
   * Aborts when the caller's deadline for this call passes (core/deadline.ts): every request
   * and socket of the call is cancelled with it. Providers also bound a call by their own
   * timeout_ms, in total (all its steps together), whether or not a signal is given.
   */
  signal?: AbortSignal;
  /**
   * The queue batch's shared SMTP sessions (smtp-sessions.ts); absent outside a batch, where a
   * send opens and closes its own. Only the SMTP provider uses it.
   */
  sessions?: SmtpSessionPool;
}

/** A cheap liveness check of a provider (token/domain endpoint, SMTP handshake); sends nothing. */
export interface ProbeResult {
  status: "healthy" | "degraded" | "unhealthy";
  latencyMs: number;
  /** Short, log-safe explanation; never a credential. */
  detail?: string;
}

export interface ProbeContext extends ProviderContext {
  /** Deadline for the whole probe; providers use the smaller of this and their own timeout. */
  timeoutMs?: number;
}

export interface Provider {
  readonly type: string;
  send(message: OutboundMessage, ctx: ProviderContext): Promise<SendResult>;
  /** Optional health probe used by the periodic health-check job and the API. */
  probe?(ctx: ProbeContext): Promise<ProbeResult>;
  /**
   * Optional: asks the provider which of these recipients it already took the message (by its
   * Message-ID header, with angle brackets) for. Used only when a call's consumer died with it in
   * flight and no answer was reported (pipeline.ts takeover), before resending. Returns the
   * recipients it names (lower-cased bare addresses) with the provider's message id; throws (or
   * rejects) when the provider cannot be asked, and the caller then resends.
   */
  reconcile?(messageIdHeader: string, recipients: string[], ctx: ProviderContext): Promise<Map<string, string>>;
}

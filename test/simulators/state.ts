// What the simulators received, kept in memory for tests and benchmarks to assert on.
import PostalMime from "postal-mime";
import { FaultTable } from "./faults";

export interface ParsedSummary {
  messageId?: string;
  subject?: string;
  from?: string;
  to: string[];
  cc: string[];
  text?: string;
  html?: string;
  headers: { key: string; value: string }[];
  attachments: { filename: string | null; mimeType: string; size: number; contentId?: string }[];
}

export interface MailgunReceived {
  kind: "mailgun";
  at: number;
  scope: string;
  domain: string;
  endpoint: "messages.mime" | "messages";
  apiUser: string;
  to: string[];
  tags: string[];
  variables: Record<string, string>;
  /** Every form field except the MIME file, values in order. */
  fields: Record<string, string[]>;
  mime: string;
  parsed?: ParsedSummary;
  /** Recorded by an "accept_then_timeout" fault: taken, never answered. */
  unanswered?: boolean;
}

export interface GmailReceived {
  kind: "gmail";
  at: number;
  scope: string;
  sender: string;
  endpoint: "send" | "upload";
  raw: string;
  parsed?: ParsedSummary;
}

export interface GmailTokenIssued {
  kind: "gmail-token";
  at: number;
  scope: string;
  clientEmail: string;
  claims: Record<string, unknown>;
  header: Record<string, unknown>;
  signatureVerified: boolean;
}

export interface SmtpReceived {
  kind: "smtp";
  at: number;
  scope: string;
  mailFrom: string;
  rcptTo: string[];
  user?: string;
  secure: boolean;
  /** The SMTP session (connection) the message came on: shows which sends shared one. */
  session: string;
  data: string;
  parsed?: ParsedSummary;
}

export interface OpenAIReceived {
  kind: "openai";
  at: number;
  scope: string;
  model: string;
  /** The Authorization header as sent. */
  authorization: string;
  /** The request body exactly as it arrived (what left the relay). */
  body: string;
}

export type Received = MailgunReceived | GmailReceived | GmailTokenIssued | SmtpReceived | OpenAIReceived;
export type ReceivedKind = Received["kind"];

/** Requests seen per endpoint and scope, including the ones answered with an injected failure. */
export type Counts = Record<string, number>;

export class SimulatorState {
  readonly faults: FaultTable;
  private received: Received[] = [];
  private counts = new Map<string, number>();

  constructor(seed?: number) {
    this.faults = new FaultTable(seed);
  }

  record(r: Received): void {
    this.received.push(r);
  }

  count(target: string, scope: string | undefined): void {
    for (const key of [target, `${target}|${(scope ?? "").toLowerCase()}`]) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  getCounts(scope?: string): Counts {
    const out: Counts = {};
    for (const [k, v] of this.counts) {
      const [target, s] = k.split("|");
      if (scope === undefined ? s === undefined : s === scope.toLowerCase()) out[target!] = v;
    }
    return out;
  }

  list(kind?: ReceivedKind, scope?: string): Received[] {
    return this.received.filter((r) => (kind === undefined || r.kind === kind) && (scope === undefined || r.scope.toLowerCase() === scope.toLowerCase()));
  }

  reset(scope?: string): void {
    if (scope === undefined) {
      this.received = [];
      this.counts.clear();
      this.faults.clear();
      return;
    }
    const s = scope.toLowerCase();
    this.received = this.received.filter((r) => r.scope.toLowerCase() !== s);
    for (const k of [...this.counts.keys()]) if (k.endsWith(`|${s}`)) this.counts.delete(k);
    this.faults.clear(scope);
  }
}

export async function summarize(raw: string | Uint8Array): Promise<ParsedSummary | undefined> {
  try {
    const email = await PostalMime.parse(raw);
    const addrs = (list: { address?: string; name?: string }[] | undefined) => (list ?? []).map((a) => a.address ?? "").filter(Boolean);
    return {
      messageId: email.messageId,
      subject: email.subject,
      from: email.from?.address,
      to: addrs(email.to as { address?: string }[] | undefined),
      cc: addrs(email.cc as { address?: string }[] | undefined),
      text: email.text,
      html: email.html,
      headers: email.headers.map((h) => ({ key: h.key, value: h.value })),
      attachments: email.attachments.map((a) => ({
        filename: a.filename,
        mimeType: a.mimeType,
        size: typeof a.content === "string" ? a.content.length : a.content.byteLength,
        ...(a.contentId ? { contentId: a.contentId } : {}),
      })),
    };
  } catch {
    return undefined;
  }
}

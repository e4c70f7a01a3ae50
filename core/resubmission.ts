// A raw message submitted again under a Message-ID the workspace already accepted. Its identity is
// Message-ID + envelope recipients + content hash, never the Message-ID alone: Postfix splits one
// message with 120 recipients into transactions of 50, and a client told `452` after 100 RCPTs
// sends the rest in a new transaction (RFC 5321 §4.5.3.1.8), both under one Message-ID. Answering
// those with the first message's id would drop the later recipients while saying 250.
//
// Each accepted submission is one "generation" of the Message-ID: an idempotency record keyed
// `message-id:<id>` (the first) or `message-id:<id>#<n>`, holding the content hash and the answer
// it gave, which lists the recipients it was accepted for. A new submission is then:
// - same content, every recipient already in some generation: a true duplicate, answered again;
// - same content, some recipients new: a new linked message (same Message-ID header, same bytes)
//   for just the new recipients, recorded as the next generation;
// - other content: refused (409 idempotency_conflict, 550 5.6.0 over SMTP), whatever the
//   recipients. One Message-ID names one message (RFC 5322 §3.6.4); delivering two contents under
//   it would let a corrected dosage and the original both stand, with no way to tell them apart.
import { RelayError } from "./errors";

export interface GenerationAnswer {
  id: string;
  status: "queued" | "failed";
  message_id: string;
  recipients: { email: string; status: "queued" | "suppressed" }[];
}

export interface Generation {
  key: string;
  /** SHA-256 of the content (core/raw-message.ts contentHash); "" for records written before it was kept. */
  contentHash: string;
  answer: GenerationAnswer;
}

export type Resubmission =
  | { kind: "first"; key: string }
  | { kind: "duplicate"; answer: GenerationAnswer }
  | { kind: "more"; key: string; recipients: string[] };

export const generationBase = (messageIdHeader: string) => `message-id:${messageIdHeader}`;

function generationNumber(base: string, key: string): number {
  if (key === base) return 1;
  const n = Number(key.slice(base.length + 1));
  return Number.isInteger(n) && n > 1 ? n : 1;
}

/** Decides what a submission of `recipients` with `hash` under `messageIdHeader` is, given its earlier generations. */
export function decideResubmission(messageIdHeader: string, hash: string, recipients: string[], earlier: Generation[]): Resubmission {
  const base = generationBase(messageIdHeader);
  if (earlier.length === 0) return { kind: "first", key: base };
  if (earlier.some((g) => g.contentHash !== "" && g.contentHash !== hash)) {
    throw new RelayError("idempotency_conflict", `Message-ID ${messageIdHeader} was already accepted with different content; give a changed message a new Message-ID`);
  }
  const seen = new Map<string, { id: string; status: "queued" | "suppressed" }>();
  const ordered = [...earlier].sort((a, b) => generationNumber(base, a.key) - generationNumber(base, b.key));
  for (const g of ordered) for (const r of g.answer.recipients) if (!seen.has(r.email.toLowerCase())) seen.set(r.email.toLowerCase(), { id: g.answer.id, status: r.status });
  const fresh = recipients.filter((r) => !seen.has(r.toLowerCase()));
  if (fresh.length > 0) {
    const next = Math.max(...ordered.map((g) => generationNumber(base, g.key))) + 1;
    return { kind: "more", key: `${base}#${next}`, recipients: fresh };
  }
  // A true duplicate. When it is exactly one earlier submission, that answer is given again byte
  // for byte; a repeat that spans several (rare: a client merging its split transactions) names
  // the earliest message and each recipient's status as it was accepted.
  const wanted = new Set(recipients.map((r) => r.toLowerCase()));
  const exact = ordered.find((g) => g.answer.recipients.length === wanted.size && g.answer.recipients.every((r) => wanted.has(r.email.toLowerCase())));
  if (exact) return { kind: "duplicate", answer: exact.answer };
  const first = ordered[0]!.answer;
  const listed = recipients.map((email) => ({ email, status: seen.get(email.toLowerCase())!.status }));
  return {
    kind: "duplicate",
    answer: { id: first.id, status: listed.some((r) => r.status === "queued") ? "queued" : "failed", message_id: first.message_id, recipients: listed },
  };
}

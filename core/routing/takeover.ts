// Taking over recipients whose claim lapsed (their consumer died, perhaps mid-call), pure. The
// relay cannot ask a provider whether a call was taken, but each provider's Durable Object knows
// what it was told: calls still leased or whose lease ended without a report (unreported: the
// provider may or may not have taken them), and calls whose report arrived (reported: the
// provider answered, and how). The report goes to the object as soon as the provider answers,
// beside the D1 record, so a kill between the two leaves the answer only there.
//
// For each lapsed recipient, newest evidence first:
//   - a reported success (2xx, with the provider's message id) → record it `sent` with that
//     provider and id, without calling anyone (the provider already has it);
//   - an unreported call → resend to that provider (its duplicate detection gets a chance);
//   - a reported failure → resend to that provider (as the dead consumer would have retried);
//   - nothing → route as usual.
// Only reports of calls started under the lapsed claim count (startedAt ≥ the claim's stamp,
// both on the consumer's clock), so an earlier attempt's recorded failure pins nothing.

import { ORPHAN_TTL_MS } from "./leases";

/** What a call's report tells the provider's object (beside the breaker outcome). */
export interface CallReportInput {
  /** The call's key: the message id, or message:recipient for a per-recipient copy. */
  key: string;
  /** The recipients (ids) the call was for. */
  recipients: string[];
  /** When the call started, on the consumer's clock (the claim's stamp is on the same clock). */
  startedAt: number;
  /** The provider answered 2xx and gave its message id. */
  sent: boolean;
  providerMessageId?: string | null;
}

/** A stored report. */
export interface CallReport {
  key: string;
  recipients: string[];
  startedAt: number;
  /** When the report arrived (the object's clock): its retention runs from here. */
  at: number;
  ok: boolean;
  providerMessageId: string | null;
}

/** Reports are kept as long as orphans (a lapsed claim is taken over within minutes), and at most this many per provider. */
export const REPORT_TTL_MS = ORPHAN_TTL_MS;
export const MAX_REPORTS = 20_000;

export function callReport(r: CallReportInput, at: number): CallReport {
  const ok = r.sent && typeof r.providerMessageId === "string" && r.providerMessageId.length > 0;
  return { key: r.key, recipients: [...r.recipients], startedAt: r.startedAt, at, ok, providerMessageId: ok ? r.providerMessageId! : null };
}

export const reportLive = (r: CallReport, now: number) => now - r.at < REPORT_TTL_MS;

/** What one provider's object said about the message's calls. */
export interface ProviderEvidence {
  providerId: string;
  /** Keys of calls still leased or whose lease ended without a report. */
  unreported: string[];
  reports: CallReport[];
}

export interface LapsedRecipient {
  id: string;
  /** The lapsed claim's stamp (the recipient's updated_at while `sending`). */
  claimedAt: number;
}

export interface Reconciled {
  recipientId: string;
  providerId: string;
  providerMessageId: string;
}

export interface TakeoverPlan {
  /** Recorded `sent` from the provider's own answer, not sent again. */
  reconciled: Reconciled[];
  /** Where the others go first (and only, for this attempt); null: route as usual. */
  resendTo: string | null;
}

const covers = (messageId: string, recipientId: string, key: string, recipients?: readonly string[]) =>
  key === `${messageId}:${recipientId}` || (key === messageId && (recipients === undefined || recipients.includes(recipientId)));

export function planTakeover(messageId: string, lapsed: readonly LapsedRecipient[], evidence: readonly ProviderEvidence[], now: number): TakeoverPlan {
  const reconciled: Reconciled[] = [];
  let unreported: string | null = null;
  let failed: { providerId: string; startedAt: number } | null = null;
  for (const r of lapsed) {
    const mine = evidence.flatMap((e) =>
      e.reports.filter((x) => reportLive(x, now) && x.startedAt >= r.claimedAt && covers(messageId, r.id, x.key, x.recipients)).map((x) => ({ providerId: e.providerId, report: x })),
    );
    const ok = mine.filter((m) => m.report.ok).sort((a, b) => b.report.startedAt - a.report.startedAt)[0];
    if (ok) {
      reconciled.push({ recipientId: r.id, providerId: ok.providerId, providerMessageId: ok.report.providerMessageId! });
      continue;
    }
    unreported ??= evidence.find((e) => e.unreported.some((k) => covers(messageId, r.id, k)))?.providerId ?? null;
    for (const m of mine) if (!failed || m.report.startedAt > failed.startedAt) failed = { providerId: m.providerId, startedAt: m.report.startedAt };
  }
  const pending = lapsed.length > reconciled.length;
  return { reconciled, resendTo: pending ? (unreported ?? failed?.providerId ?? null) : null };
}

/**
 * Of these recipients, the ones whose call on `providerId` ended without a report (still leased
 * or orphaned): the provider may or may not have taken it. Only these may be asked about
 * (Provider.reconcile) before a resend; a reported failure is known not taken.
 */
export function orphanedOn(messageId: string, recipientIds: readonly string[], evidence: readonly ProviderEvidence[], providerId: string): string[] {
  const e = evidence.find((x) => x.providerId === providerId);
  if (!e) return [];
  return recipientIds.filter((id) => e.unreported.some((k) => covers(messageId, id, k)));
}

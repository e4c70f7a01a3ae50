// The takeover of recipients whose claim lapsed (their consumer died, perhaps mid-call), from what
// the providers' objects know of its calls (core/routing/takeover.ts planTakeover):
// - a recipient whose call's provider reported a 2xx is recorded `sent` with that provider and
//   message id, without a call;
// - the others go to the provider a lapsed call was in flight on (its lease ended without a
//   report) or answered a failure, and to no other until that provider has been called: the same
//   message again (same Message-ID) lets that provider's own duplicate detection work, where
//   another provider would surely deliver a second copy. If its breaker refuses, the group is
//   deferred pinned to it (waiting_on "pin:<id>") and released when it half-opens;
// - before a resend of a call that ended unreported (never after a reported failure), a provider
//   that can be asked (Provider.reconcile: Mailgun's events by Message-ID) is asked: the
//   recipients it names as taken are recorded `sent` from its answer, the others resent; an error
//   or no answer within its deadline resends them all.
// One round trip per enabled provider, on this rare path only.
import { readConfig } from "../../../core/config";
import { loadKeyring } from "../../../core/crypto";
import { callDeadlineMs, withDeadline } from "../../../core/deadline";
import type { GroupResult } from "../../../core/delivery/outcome";
import { orphanedOn, planTakeover } from "../../../core/routing/takeover";
import type { MessageRecipientRow } from "../../../db/messages/types";
import type { ProviderRow } from "../../../db/providers";
import { getProviderState } from "../../../durable-objects/provider-state";
import { log } from "../../log";
import type { BatchContext } from "../batch-context";
import { buildProvider } from "../build-provider";
import type { Claimed } from "../delivery";
import { providerFetch } from "../providers/transport";
import type { RouteGroup } from "../route";

export interface Takeover {
  groups: RouteGroup[];
  reconciled: GroupResult[];
}

const reconciledGroup = (recipients: MessageRecipientRow[], providerId: string, providerMessageId: string, detail?: string): GroupResult => ({
  recipients,
  order: [],
  outcome: { kind: "called", calls: [] },
  reconciled: { providerId, providerMessageId, ...(detail ? { detail } : {}) },
});

export async function takeOver(
  ctx: BatchContext,
  d: Claimed,
  groups: RouteGroup[],
  /** The provider an earlier takeover pinned this message to (waiting_on "pin:<id>"), if any. */
  pin: string | null,
): Promise<Takeover> {
  const { workspaceId, id: messageId } = d.message;
  const now = ctx.now();
  const keys = [messageId, ...d.claimed.map((r) => `${messageId}:${r.id}`)];
  // Every enabled provider, not only this route's: the dead call may have been a failover's.
  const candidates = [...new Map([...groups.flatMap((g) => g.order), ...d.providers].map((p) => [p.id, p])).values()];
  const evidence = await Promise.all(
    candidates.map(async (p) => ({
      providerId: p.id,
      ...(await getProviderState(ctx.env, workspaceId, p.id).takeoverEvidence(keys).catch(() => ({ unreported: [], reports: [] }))),
    })),
  );
  // The lapsed claim's stamp is the row's updated_at as it was read, before this claim.
  const before = new Map(d.recipients.map((r) => [r.id, r.updatedAt]));
  const plan = planTakeover(messageId, d.lapsed.map((r) => ({ id: r.id, claimedAt: before.get(r.id) ?? r.updatedAt })), evidence, now);
  const done = new Map(plan.reconciled.map((r) => [r.recipientId, r]));
  const row = (id: string) => d.claimed.find((c) => c.id === id)!;
  const reconciled = [...groupBy(plan.reconciled, (r) => `${r.providerId}\u0000${r.providerMessageId}`).values()].map((rs) =>
    reconciledGroup(rs.map((r) => row(r.recipientId)), rs[0]!.providerId, rs[0]!.providerMessageId),
  );
  if (reconciled.length) log.info("takeover_reconciled", { message_id: messageId, recipients: done.size, provider_ids: [...new Set(plan.reconciled.map((r) => r.providerId))].join(",") });
  // Unreported calls on the provider a resend goes to: ask it first, when it can be asked.
  const askRow = plan.resendTo ? candidates.find((p) => p.id === plan.resendTo) : undefined;
  const orphans = askRow ? orphanedOn(messageId, d.lapsed.filter((r) => !done.has(r.id)).map((r) => r.id), evidence, askRow.id) : [];
  if (askRow && orphans.length) {
    const rows = orphans.map(row);
    const taken = await askProvider(ctx, askRow, d.message.messageIdHeader, rows);
    const found = rows.flatMap((r) => {
      const providerMessageId = taken.get(r.email.toLowerCase());
      return providerMessageId ? [{ r, providerMessageId }] : [];
    });
    const detail = `reconciled from ${askRow.type === "mailgun" ? "Mailgun" : askRow.type} events after a restart: the call's consumer died with it in flight and unreported, and the provider names this recipient as accepted; not sent again`;
    for (const [providerMessageId, fs] of groupBy(found, (f) => f.providerMessageId)) reconciled.push(reconciledGroup(fs.map((f) => f.r), askRow.id, providerMessageId, detail));
    for (const f of found) done.set(f.r.id, { recipientId: f.r.id, providerId: askRow.id, providerMessageId: f.providerMessageId });
    log.info("takeover_asked_provider", { message_id: messageId, provider_id: askRow.id, asked: orphans.length, taken: found.length });
  }
  const rest = done.size ? groups.map((g) => ({ ...g, recipients: g.recipients.filter((r) => !done.has(r.id)) })).filter((g) => g.recipients.length > 0) : groups;
  const resendTo = plan.resendTo ?? pin;
  if (!resendTo) return { groups: rest, reconciled };
  if (plan.resendTo) log.info("resend_to_same_provider", { message_id: messageId, provider_id: resendTo });
  return { groups: pinGroups(rest, resendTo), reconciled };
}

/** Each group that may use the provider goes to it alone (a pin: a refusal waits for it). */
export function pinGroups(groups: RouteGroup[], providerId: string): RouteGroup[] {
  return groups.map((g) => {
    const p = g.order.find((x) => x.id === providerId);
    return p ? { ...g, order: [p], pinned: true } : g;
  });
}

/**
 * Which of these recipients the provider says it already took the message for (Provider.reconcile),
 * under the provider's call deadline. Empty when it cannot be asked, errs or does not answer in
 * time: they are then resent, never lost.
 */
async function askProvider(ctx: BatchContext, row: ProviderRow, messageIdHeader: string, recipients: MessageRecipientRow[]): Promise<Map<string, string>> {
  try {
    const provider = await buildProvider(ctx.env, await loadKeyring(ctx.env.DATA_KEYS, readConfig(ctx.env).dataKeyId), row);
    if (!provider.reconcile) return new Map();
    const reconcile = provider.reconcile.bind(provider);
    const deadline = callDeadlineMs(row.type, row.config);
    const emails = recipients.map((r) => r.email);
    const taken = await withDeadline<Map<string, string> | null>(deadline, (signal) => reconcile(messageIdHeader, emails, { now: ctx.now, fetch: providerFetch, signal }), () => null);
    if (!taken) log.warn("takeover_ask_failed", { provider_id: row.id, error: `no answer within ${deadline} ms` });
    return taken ?? new Map();
  } catch (e) {
    log.warn("takeover_ask_failed", { provider_id: row.id, error: e instanceof Error ? e.message : String(e) });
    return new Map();
  }
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of items) out.set(key(i), [...(out.get(key(i)) ?? []), i]);
  return out;
}

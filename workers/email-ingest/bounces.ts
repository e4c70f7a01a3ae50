// The bounce mailbox: classify the report, find the delivery it is about (by VERP id, else by
// the original Message-ID and the failed address), and record it.
import { addressKey } from "../../core/bounce/address";
import type { Classification, ReportedRecipient } from "../../core/bounce/classify";
import { bounceRecord, type BounceRecord } from "../../core/bounce/policy";
import { RelayError } from "../../core/errors";
import { classifyMail, UnparseableMail } from "../mime-parse";
import type { VerpMatch } from "../../core/verp";
import type { DeliveryRef } from "../../db/store/inbound";
import type { Store } from "../../db/store/store";
import { log } from "../log";
import { recordReport, type ReportKind } from "./outcomes";

export async function processBounce(env: Env, store: Store, raw: Uint8Array, verp: Exclude<VerpMatch, { kind: "plain" } | null> | null): Promise<Classification> {
  let c: Classification;
  try {
    c = await classifyMail(raw);
  } catch (e) {
    if (e instanceof UnparseableMail) throw new RelayError("invalid_mime", "message could not be parsed as MIME");
    throw e;
  }
  if (c.kind === "not_bounce") throw new RelayError("forbidden", "not a delivery status notification or complaint; this address only takes bounces");

  const targets = await findTargets(store, c, verp);
  if (targets.length === 0) {
    if (verp) throw new RelayError("not_found", "unknown bounce address");
    throw new RelayError("not_found", "report does not match any message sent by this relay");
  }
  const at = Date.now();
  for (const { ref, kind, status, diagnostic, bounce } of targets) {
    await recordReport(
      env,
      store,
      ref,
      {
        kind,
        source: c.format === "arf" ? "arf" : c.kind === "auto_reply" ? "auto_reply" : "bounce",
        status,
        diagnostic,
        extra: c.feedbackType ? { feedback_type: c.feedbackType } : {},
        ...(bounce ? { bounce } : {}),
      },
      at,
    );
  }
  log.info("inbound_report", { kind: c.kind, format: c.format, reason: c.reason, deliveries: targets.length });
  return c;
}

interface Target {
  ref: DeliveryRef;
  kind: ReportKind;
  status: string | null;
  diagnostic: string | null;
  bounce?: BounceRecord;
}

async function findTargets(store: Store, c: Classification, verp: Exclude<VerpMatch, { kind: "plain" } | null> | null): Promise<Target[]> {
  const kind = c.kind as ReportKind;
  const isBounce = c.kind === "hard" || c.kind === "soft";
  // One reported recipient applied to a delivery: its own kind, status and reason, and whether
  // the address it names is the one the delivery went to.
  const target = (ref: DeliveryRef, r: ReportedRecipient | undefined): Target => {
    if (!isBounce || !r) return { ref, kind, status: c.status, diagnostic: c.diagnostic };
    const bounce = bounceRecord(r, ref.email);
    return { ref, kind: bounce.type, status: r.status, diagnostic: r.diagnostic, bounce };
  };
  const failed = c.recipients.filter((r) => r.kind !== "delivered");
  const worst = failed.find((r) => r.kind === "hard") ?? failed.find((r) => r.final) ?? failed[0] ?? anonymous(c);
  if (verp?.kind === "recipient") {
    // The envelope names the delivery; the report's own recipient may be an alias of it, or an
    // address the relay never sent to (flagged, never suppressed: bounceRecord).
    const ref = await store.inbound.findDeliveryById(verp.messageRecipientId);
    if (!ref) return [];
    return [target(ref, failed.find((r) => addressKey(r.email) === addressKey(ref.email)) ?? worst)];
  }
  const candidates = verp?.kind === "message" ? await store.inbound.findDeliveriesOfMessage(verp.messageId) : null;
  const lookup = async (email: string | null): Promise<DeliveryRef | undefined> => {
    if (candidates) return candidates.find((r) => email !== null && addressKey(r.email) === addressKey(email)) ?? (candidates.length === 1 ? candidates[0] : undefined);
    return c.originalMessageId ? store.inbound.findDeliveryByMessageIdHeader(c.originalMessageId, email) : undefined;
  };
  if (failed.length > 0) {
    const out: Target[] = [];
    for (const r of failed) {
      const ref = await lookup(r.email);
      if (ref && !out.some((t) => t.ref.messageRecipientId === ref.messageRecipientId)) out.push(target(ref, r));
    }
    return out;
  }
  const ref = await lookup(c.recipient);
  return ref ? [target(ref, worst)] : [];
}

/** A bounce that names no recipient (the address is only in the VERP envelope): the report as a whole. */
function anonymous(c: Classification): ReportedRecipient | undefined {
  if ((c.kind !== "hard" && c.kind !== "soft") || !c.reason) return undefined;
  return {
    email: "",
    kind: c.kind,
    final: c.final,
    reason: c.reason,
    action: null,
    status: c.status,
    statusInferred: c.statusInferred,
    replyCode: null,
    command: null,
    diagnostic: c.diagnostic,
    remoteMta: c.remoteMta,
  };
}

// The value a delivery job carries from step to step (pipeline.ts), and the ways it can stop.
// Each step adds what it learned and hands the value on, or returns a Stop; finish() maps every
// Stop to what the queue does with the job. The stages are types of their own so a step can only
// run once what it needs exists.
import type { MessageContent } from "../../core/content";
import type { Keyring } from "../../core/crypto";
import type { GroupResult } from "../../core/delivery/outcome";
import type { RecipientStatus } from "../../core/status";
import type { MessageRecipientRow, MessageRow } from "../../db/messages/types";
import type { WorkspaceFacts } from "./batch-context";
import type { Grant } from "../../durable-objects/provider-state";
import type { ProviderRow } from "../../db/providers";
import type { RecordedOutcome } from "./hooks";
import type { RouteGroup } from "./route";

/** A limit that holds: when its window lets the send through, and which rule. */
export interface LimitHold {
  retryAt: number;
  rule: string;
}

/** A queue job: which message, and the job's own id (stable across the queue's redelivery). */
export interface Job {
  workspaceId: string;
  messageId: string;
  deliveryId: string;
}

/** What the queue does with the job: acknowledge it, or run it again after a delay. */
export type JobOutcome = { kind: "done"; status: string } | { kind: "later"; delaySeconds: number; reason: string };

export type Stop =
  /** Nothing (more) for this job to do. */
  | { stop: "done"; status: string }
  /** Not now and nothing written: the job runs again after the delay (the message is marked due then). */
  | { stop: "wait"; message: MessageRow; delaySeconds: number; reason: string }
  /** Over a global or workspace limit: the recipients wait for the window, no attempt spent. */
  | { stop: "limited"; d: Claimed; hold: LimitHold }
  /** The outcome is written; with `notBefore`, the message wants another job then. */
  | { stop: "recorded"; outcome: RecordedOutcome; notBefore?: number; reason: string };

export const isStop = (v: object): v is Stop => "stop" in v;

/**
 * The claim on a job's recipients (`sending`, lease_until): taken with a lease covering the
 * first provider call (loadAndClaim), renewed right before every call to the call's hard deadline
 * plus a margin (core/deadline.ts). A call never outlives its deadline, so a claim is never free
 * while a call for its recipients is in flight, and a consumer that dies frees its recipients
 * within one call's deadline + margin.
 */
export interface Claim {
  /** The claim's identity: the recipients' updated_at it stamped. */
  claimedAt: number;
  /** When it lapses, as this job last wrote it. */
  leaseUntil: number;
}

/** load: the message, its recipients (as they were before this job's claim) and the workspace. */
export interface Loaded extends WorkspaceFacts {
  job: Job;
  /** When the job started (the claim's stamp). */
  now: number;
  message: MessageRow;
  recipients: MessageRecipientRow[];
  /** The recipients this job's claim took (same round trip as the load). */
  claimed: MessageRecipientRow[];
}

/** claim: what this job holds and must see to an outcome. */
export interface Claimed extends Loaded {
  pending: MessageRecipientRow[];
  claim: Claim;
  /** Statuses of the recipients this job does not hold (for the message's status). */
  others: RecipientStatus[];
  /** Claimed recipients whose earlier claim lapsed (its consumer died, perhaps mid-call). */
  lapsed: MessageRecipientRow[];
  /** Flagged as containing PHI (by the sender or DLP): BAA-covered providers only. */
  phi: boolean;
  /** Set once a provider is called: from then on a failure keeps the claim (see pipeline.ts). */
  call: { started: boolean };
}

/** limit: the global and workspace limits' answer, asked here and awaited by `hold`. */
export interface Limited extends Claimed {
  limits: Promise<LimitHold | null>;
}

/** route: the provider order per group, asked here and awaited by `hold`. */
export interface Routed extends Limited {
  groups: Promise<RouteGroup[]>;
  /** Recipients a lapsed claim's provider already took (no call: recorded sent from its answer). */
  reconciled: Promise<GroupResult[]>;
}

/** enrich: the content to send, with the trending question and LLM personalization applied. */
export interface Enriched extends Routed {
  ring: Keyring;
  content: MessageContent;
  /** Templated: one copy (and one provider call) per recipient. */
  fanOut: boolean;
}

export interface FirstPermit {
  provider: ProviderRow;
  grant: Promise<Grant>;
}

/** permit: the first provider's permit, asked beside the render (one group, one copy only). */
export interface Permitted extends Enriched {
  firstPermit: Promise<FirstPermit | null> | null;
}

/** render: the MIME for everyone, or each recipient's own content (rendered at its call). */
export interface Rendered extends Permitted {
  raw: Uint8Array | null;
  copies: Map<string, MessageContent> | null;
}

/** hold: the limits allow it; the groups and the first permit are in. */
export interface Ready extends Rendered {
  routeGroups: RouteGroup[];
  first: FirstPermit | null;
}

/** deliver: every group's calls and their outcome; the breaker reports still in flight. */
export interface Delivered extends Claimed {
  results: GroupResult[];
  reports: Promise<unknown>;
}

/** Marks a promise that a later step awaits, so a stop before then is not an unhandled rejection. */
export function asked<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

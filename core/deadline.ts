// Hard deadlines on provider calls, pure. A provider call (Mailgun's one request, Gmail's token
// exchange and send, an SMTP session from connect to the end of its transaction, the sandbox's
// store) is abandoned when its total deadline passes: its signal aborts (fetches are cancelled,
// sockets closed) and the caller gets a timeout, whatever the provider is still doing.
//
// The recipient claim (db/messages/delivery.ts, `lease_until`) rests on this: a call can only be alive
// until its deadline, so a claim renewed right before the call to now + deadline + margin is
// never free while a call it covers is in flight, and is free again soon after a consumer dies.

/** Timeout of a provider whose configuration names none (Mailgun's, SMTP's, the sandbox's). */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 30_000;
const DEFAULT_TIMEOUT_BY_TYPE: Record<string, number> = { gmail: 60_000 };

/** The total time one call to this provider may take: its configured timeout_ms (all steps together). */
export function callDeadlineMs(type: string, config: unknown): number {
  const configured = (config as { timeout_ms?: unknown } | null)?.timeout_ms;
  return typeof configured === "number" && configured > 0 ? configured : (DEFAULT_TIMEOUT_BY_TYPE[type] ?? DEFAULT_PROVIDER_TIMEOUT_MS);
}

/** A deadline's default for a provider type, as SQL needs it (the claim computes its first lease in the database). */
export const defaultDeadlineMs = (type: string): number => DEFAULT_TIMEOUT_BY_TYPE[type] ?? DEFAULT_PROVIDER_TIMEOUT_MS;

/**
 * Added to a call's deadline for a lease that covers it: the time between the renewal and the
 * call's start, the abort reaching the socket, and clocks of two consumers that differ a little.
 */
export const CLAIM_MARGIN_MS = 5_000;
/**
 * A claim that still covers a call's deadline plus this much needs no renewal before the call
 * (the claim itself was sized for it a moment ago): it saves a round trip on the first call.
 */
export const CLAIM_MIN_SLACK_MS = 1_000;

/** The lease a claim needs right before a call to this provider. */
export const claimLeaseMs = (type: string, config: unknown): number => callDeadlineMs(type, config) + CLAIM_MARGIN_MS;

/**
 * Whether a claim that lapses at `leaseUntil` must be renewed before a call with this deadline
 * starts at `now`: it must unless it already covers the deadline plus the slack. A renewal never
 * shortens a claim (another call of the same job may still be in flight), so a longer claim is kept.
 */
export const needsRenewal = (leaseUntil: number, now: number, deadlineMs: number): boolean => leaseUntil < now + deadlineMs + CLAIM_MIN_SLACK_MS;

export class DeadlineExceeded extends Error {
  constructor(readonly deadlineMs: number) {
    super(`did not finish within its deadline of ${deadlineMs} ms`);
    this.name = "TimeoutError";
  }
}

/**
 * Runs `fn` with a signal that aborts after `deadlineMs`, and settles no later than then: when
 * the deadline passes first, the signal is aborted (with a DeadlineExceeded reason) and
 * `onDeadline()` is the result, whatever `fn` is still doing.
 */
export async function withDeadline<T>(deadlineMs: number, fn: (signal: AbortSignal) => Promise<T>, onDeadline: () => T): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DeadlineExceeded(deadlineMs));
      resolve(onDeadline());
    }, deadlineMs);
  });
  try {
    const work = fn(controller.signal);
    work.catch(() => {}); // after the deadline nobody awaits it
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

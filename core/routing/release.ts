// When deferred messages are released early, pure: a message deferred because of a
// provider (its breaker refused, or a call to it failed and the retry was put off) records what
// it waits on; when that provider's breaker half-opens or closes, the messages waiting on it are
// put back on the queue at once instead of at the retry time fixed when they were deferred.
// The ProviderState Durable Object (the shell) runs this from its alarm.
import type { BreakerStateName, Transition } from "./breaker";

/** Every provider of the workspace: a message that had more than one to choose from. */
export const ANY_PROVIDER = "*";
/** Messages released per alarm once the breaker is closed (the alarm comes back for the next page). */
export const RELEASE_PAGE = 200;

/**
 * A message whose lapsed call was in flight on a provider, deferred because that provider's
 * breaker refused: it waits for that provider only ("pin:<id>"), and its next attempt goes there
 * again (so the provider's own duplicate detection can work), then routes as usual.
 */
export const PIN_PREFIX = "pin:";
export const pinTo = (providerId: string): string => `${PIN_PREFIX}${providerId}`;
export const pinnedProvider = (waitingOn: string | null | undefined): string | null => (waitingOn?.startsWith(PIN_PREFIX) ? waitingOn.slice(PIN_PREFIX.length) : null);

/** What a group of recipients deferred after trying `order` waits on: its one provider, or any. */
export const waitsOn = (providerIds: readonly string[]): string => (providerIds.length === 1 ? providerIds[0]! : ANY_PROVIDER);

/**
 * What the message waits on, from its groups' own: none when nothing waits (or the retry is
 * immediate), the one thing they agree on, otherwise any provider.
 */
export function messageWaitsOn(groups: readonly { retryAt?: number; waitingOn?: string }[], at: number): string | null {
  const waits = new Set(groups.flatMap((g) => (g.retryAt !== undefined && g.retryAt > at && g.waitingOn ? [g.waitingOn] : [])));
  if (waits.size === 0) return null;
  return waits.size === 1 ? [...waits][0]! : ANY_PROVIDER;
}

/** Whether these transitions call for a release: the breaker ended half-open or closed. */
export function releaseDue(transitions: readonly Transition[]): boolean {
  const last = transitions[transitions.length - 1];
  return last !== undefined && last.to !== "open";
}

/**
 * How many waiting messages to release now. Half-open: as many as it has trial permits (more would
 * only be refused and deferred again; its close releases the rest). Closed: a page. Open: none.
 */
export function releaseLimit(state: BreakerStateName, halfOpenTrials: number): number {
  if (state === "open") return 0;
  return state === "half_open" ? halfOpenTrials : RELEASE_PAGE;
}

/** Whether another page is due after releasing `released` of at most `limit` (only a closed breaker pages). */
export const moreToRelease = (state: BreakerStateName, released: number, limit: number): boolean => state === "closed" && limit > 0 && released >= limit;

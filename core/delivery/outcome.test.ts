// What a group's calls come to, decided without workerd state: each case of recordGroup and the
// job's summary (recordJob), over plain values.
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY } from "../retry-policy";
import { limitDeferral, providerFault, recordGroup, recordJob, type GroupResult } from "./outcome";
import type { SendResult } from "./send-result";

const T0 = 1_700_000_000_000;
const message = { id: "msg_1", workspaceId: "ws_1", queuedAt: T0, attemptCount: 0 };
const a = { id: "mr_a", email: "a@example.org" };
const b = { id: "mr_b", email: "B@example.org" };
const p1 = { id: "prv_1" };
const p2 = { id: "prv_2" };
const called = (result: SendResult, order = [p1]): GroupResult => ({
  recipients: [a, b],
  order,
  outcome: { kind: "called", calls: [{ provider: order[0]!, result, started: T0 + 10, finished: T0 + 60 }] },
});
const at = T0 + 100;

describe("recordGroup", () => {
  it("sent: every recipient sent with the provider's id, one attempt row with the call's latency", () => {
    const g = recordGroup(message, DEFAULT_RETRY_POLICY, called({ status: "sent", providerMessageId: "pm-1" }), "dlv_1", at);
    expect(g.outcomes).toEqual([
      { id: "mr_a", status: "sent", providerId: "prv_1", providerMessageId: "pm-1", lastError: null },
      { id: "mr_b", status: "sent", providerId: "prv_1", providerMessageId: "pm-1", lastError: null },
    ]);
    expect(g.attempt).toMatchObject({ outcome: "sent", providerId: "prv_1", recipients: ["a@example.org", "B@example.org"], latencyMs: 90, startedAt: T0 + 10, deliveryId: "dlv_1" });
    expect(g).toMatchObject({ called: true, lastError: null });
    expect(g.retryAt).toBeUndefined();
  });

  it("permanent for one named recipient with a provider id: that one fails, the other counts as sent", () => {
    const g = recordGroup(message, DEFAULT_RETRY_POLICY, called({ status: "permanent", reason: "550 no such user", recipients: [{ email: "b@EXAMPLE.org", reason: "550 5.1.1" }], providerMessageId: "pm-2" }), "dlv_1", at);
    expect(g.outcomes.map((o) => [o.id, o.status, o.lastError])).toEqual([
      ["mr_a", "sent", null],
      ["mr_b", "failed", "550 5.1.1"],
    ]);
    expect(g.retryAt).toBeUndefined();
  });

  it("permanent for one named recipient without an id: nothing was sent, the other goes again at once", () => {
    const g = recordGroup(message, DEFAULT_RETRY_POLICY, called({ status: "permanent", reason: "refused", recipients: [{ email: "a@example.org", reason: "550" }] }), "dlv_1", at);
    expect(g.outcomes.map((o) => [o.id, o.status])).toEqual([
      ["mr_a", "failed"],
      ["mr_b", "queued"],
    ]);
    expect(g.retryAt).toBe(at);
  });

  it("transient: deferred by the policy's backoff, waiting on the group's provider (or any, with failover)", () => {
    const one = recordGroup(message, DEFAULT_RETRY_POLICY, called({ status: "transient", reason: "503" }), "dlv_1", at);
    expect(one.outcomes.every((o) => o.status === "deferred")).toBe(true);
    expect(one.retryAt).toBe(at + DEFAULT_RETRY_POLICY.base_seconds * 1000);
    expect(one.waitingOn).toBe("prv_1");
    // Transient calls were written as they happened: no second attempt row.
    expect(one.attempt).toBeUndefined();
    const two = recordGroup(message, DEFAULT_RETRY_POLICY, called({ status: "transient", reason: "503", retryAfterMs: 600_000 }, [p1, p2]), "dlv_1", at);
    expect(two.waitingOn).toBe("*");
    expect(two.retryAt).toBe(at + 600_000);
  });

  it("transient past the maximum age: failed, naming the attempts and the last reason", () => {
    const old = { ...message, queuedAt: at - DEFAULT_RETRY_POLICY.max_age_seconds * 1000, attemptCount: 4 };
    const g = recordGroup(old, DEFAULT_RETRY_POLICY, called({ status: "transient", reason: "Mailgun 503" }), "dlv_1", at);
    expect(g.outcomes.map((o) => o.status)).toEqual(["failed", "failed"]);
    expect(g.lastError).toBe("gave up after 5 attempts: Mailgun 503");
  });

  it("blocked: deferred to the breaker's retry time with no attempt spent; a pinned group waits for its provider", () => {
    const blocked = (pinned: boolean): GroupResult => ({ recipients: [a], order: [p2], ...(pinned ? { pinned } : {}), outcome: { kind: "blocked", retryAt: at + 30_000, reason: "breaker open" } });
    const free = recordGroup(message, DEFAULT_RETRY_POLICY, blocked(false), "dlv_1", at);
    expect(free).toMatchObject({ retryAt: at + 30_000, waitingOn: "prv_2", called: false, attempt: { outcome: "deferred" } });
    expect(recordGroup(message, DEFAULT_RETRY_POLICY, blocked(true), "dlv_1", at).waitingOn).toBe("pin:prv_2");
    const old = { ...message, queuedAt: at - DEFAULT_RETRY_POLICY.max_age_seconds * 1000 };
    expect(recordGroup(old, DEFAULT_RETRY_POLICY, blocked(false), "dlv_1", at).outcomes[0]).toMatchObject({ status: "failed", lastError: expect.stringMatching(/^gave up: no provider can take it now/) });
  });

  it("reconciled: sent from the provider's earlier answer, the claim's attempt taken back, not called", () => {
    const g = recordGroup(message, DEFAULT_RETRY_POLICY, { recipients: [a], order: [], outcome: { kind: "called", calls: [] }, reconciled: { providerId: "prv_1", providerMessageId: "pm-9" } }, "dlv_1", at);
    expect(g.outcomes).toEqual([{ id: "mr_a", status: "sent", providerId: "prv_1", providerMessageId: "pm-9", lastError: null, uncountAttempt: true }]);
    expect(g.attempt).toMatchObject({ providerId: "prv_1", outcome: "sent", detail: expect.stringMatching(/^reconciled after a restart/) });
    expect(g.called).toBe(false);
  });

  it("refused (PHI without a BAA provider): failed with the reason; lost: nothing to record here", () => {
    const refused = recordGroup(message, DEFAULT_RETRY_POLICY, { recipients: [a], order: [], outcome: { kind: "refused", reason: "contains PHI" } }, "dlv_1", at);
    expect(refused.outcomes).toEqual([{ id: "mr_a", status: "failed", lastError: "contains PHI" }]);
    const lost = recordGroup(message, DEFAULT_RETRY_POLICY, { recipients: [a], order: [p1], outcome: { kind: "lost", calls: [] } }, "dlv_1", at);
    expect(lost.outcomes).toEqual([]);
  });
});

describe("recordJob and the helpers", () => {
  it("the job's next time is its earliest group's; its error the first group's that has one", () => {
    const sent = called({ status: "sent", providerMessageId: "pm" });
    const deferred = { ...called({ status: "transient", reason: "503" }, [p2]), recipients: [{ id: "mr_c", email: "c@example.org" }] };
    const job = recordJob(message, DEFAULT_RETRY_POLICY, [sent, deferred], "dlv_1", at);
    expect(job.outcomes.map((o) => o.status)).toEqual(["sent", "sent", "deferred"]);
    expect(job.notBefore).toBe(at + 60_000);
    expect(job.lastError).toBe("503");
    expect(job).toMatchObject({ called: true, providerId: "prv_1", waitingOn: "prv_2" });
    expect(job.providerOf.get("mr_c")).toBe("prv_2");
  });

  it("a provider's configuration error is its own failure (transient), any other permanent stands", () => {
    expect(providerFault({ status: "permanent", reason: "401", configuration: true })).toEqual({ status: "transient", reason: "provider configuration error: 401" });
    const real = { status: "permanent" as const, reason: "550" };
    expect(providerFault(real)).toBe(real);
  });

  it("a limit deferral takes back the attempt only for recipients this job claimed", () => {
    const { outcomes, attempt } = limitDeferral(message, [a, b], new Set(["mr_a"]), "the workspace's daily limit is reached", "dlv_1", at);
    expect(outcomes).toEqual([
      { id: "mr_a", status: "deferred", lastError: "the workspace's daily limit is reached", uncountAttempt: true },
      { id: "mr_b", status: "deferred", lastError: "the workspace's daily limit is reached" },
    ]);
    expect(attempt).toMatchObject({ outcome: "deferred", providerId: null });
  });
});

import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY, nextRetry, queueDelaySeconds, QUEUE_MAX_DELAY_SECONDS } from "./retry-policy";
import { deriveMessageStatus } from "./status";

const HOUR = 3_600_000;

describe("retry policy", () => {
  const t0 = Date.UTC(2026, 0, 1);

  it("backs off exponentially up to the cap", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => {
      const d = nextRetry(DEFAULT_RETRY_POLICY, n, t0, t0, undefined);
      return d.retry ? (d.retryAt - t0) / 1000 : null;
    });
    expect(delays).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600]);
  });

  it("honours a later Retry-After from the provider", () => {
    const d = nextRetry(DEFAULT_RETRY_POLICY, 1, t0, t0, 2 * HOUR);
    expect(d).toEqual({ retry: true, retryAt: t0 + 2 * HOUR });
  });

  it("gives up once the next try would be past the maximum age (5 days by default)", () => {
    expect(nextRetry(DEFAULT_RETRY_POLICY, 50, t0, t0 + 5 * 24 * HOUR - 2 * HOUR, undefined).retry).toBe(true);
    expect(nextRetry(DEFAULT_RETRY_POLICY, 50, t0, t0 + 5 * 24 * HOUR - 10_000, undefined)).toEqual({ retry: false, reason: "max_age" });
  });

  it("caps queue delays at the queue's maximum so long waits are chained", () => {
    expect(queueDelaySeconds(t0 + 30 * HOUR, t0)).toBe(QUEUE_MAX_DELAY_SECONDS);
    expect(queueDelaySeconds(t0 - 5000, t0)).toBe(0);
    expect(queueDelaySeconds(t0 + 1500, t0)).toBe(2);
  });
});

describe("message status from recipients", () => {
  it.each([
    [["sent", "sent"], "sent"],
    [["sent", "delivered"], "sent"],
    [["sent", "failed"], "partially_failed"],
    [["failed", "suppressed"], "failed"],
    [["sent", "sending"], "sending"],
    [["deferred", "sent"], "deferred"],
    [["queued", "sent"], "queued"],
    [["cancelled", "cancelled"], "cancelled"],
    [[], "failed"],
  ] as const)("%j → %s", (statuses, expected) => expect(deriveMessageStatus(statuses)).toBe(expected));
});

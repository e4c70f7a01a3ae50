import { describe, expect, it } from "vitest";
import { callLeaseMs, expireLeases, lease, LEASE_MARGIN_MS, MAX_ORPHANS, normalizeLeases, ORPHAN_TTL_MS, takeLease } from "./leases";

const t0 = 1_800_000_000_000;

describe("call leases", () => {
  it("are sized to the provider's own timeout plus a margin", () => {
    expect(callLeaseMs("mailgun", {})).toBe(30_000 + LEASE_MARGIN_MS);
    expect(callLeaseMs("mailgun", { timeout_ms: 10_000 })).toBe(10_000 + LEASE_MARGIN_MS);
    // timeout_ms is a hard deadline on the whole call (core/deadline.ts): Gmail's token exchange
    // and send, an SMTP session from connect to its transaction's end, together.
    expect(callLeaseMs("gmail", {})).toBe(60_000 + LEASE_MARGIN_MS);
    expect(callLeaseMs("smtp", { timeout_ms: 20_000 })).toBe(20_000 + LEASE_MARGIN_MS);
    expect(callLeaseMs("sandbox", null)).toBe(30_000 + LEASE_MARGIN_MS);
  });

  it("end without a report: the live ones stay, the ended ones with a key are remembered as orphans", () => {
    const leases = [lease(t0, 35_000, "msg_a"), lease(t0 + 10_000, 35_000, "msg_b"), lease(t0, 35_000)];
    const e = expireLeases(leases, [], t0 + 35_000);
    expect(e.leases.map((l) => l.key)).toEqual(["msg_b"]);
    expect(e.orphans).toEqual([{ key: "msg_a", at: t0 + 35_000 }]);
    // Orphans are forgotten after a day, and only the newest are kept.
    expect(expireLeases([], e.orphans, t0 + 35_000 + ORPHAN_TTL_MS).orphans).toEqual([]);
    const many = Array.from({ length: MAX_ORPHANS + 5 }, (_, i) => lease(t0, 1, `m${i}`));
    const kept = expireLeases(many, [], t0 + 1).orphans;
    expect(kept).toHaveLength(MAX_ORPHANS);
    expect(kept.at(-1)?.key).toBe(`m${MAX_ORPHANS + 4}`);
  });

  it("a report takes back exactly one lease; old stored start times get the old two-minute end", () => {
    const leases = [lease(t0, 1000, "a"), lease(t0, 1000, "b")];
    expect(takeLease(leases, t0).map((l) => l.key)).toEqual(["b"]);
    expect(takeLease(leases, t0 + 1)).toHaveLength(2);
    // Two calls granted in the same millisecond (a batch, inside workerd): each report takes its own.
    const same = [lease(t0, 1000, "msg_a", "id_a"), lease(t0, 1000, "msg_b", "id_b")];
    expect(takeLease(same, t0, "id_b").map((l) => l.key)).toEqual(["msg_a"]);
    expect(takeLease(same, t0, "id_gone")).toHaveLength(2); // its lease already ended: no other is taken
    expect(takeLease([lease(t0, 1000, "msg_a", "id_a"), lease(t0, 1000)], t0).map((l) => l.key)).toEqual(["msg_a"]); // no id: an anonymous one
    expect(normalizeLeases([t0, { startedAt: t0, until: t0 + 5 }])).toEqual([{ startedAt: t0, until: t0 + 120_000 }, { startedAt: t0, until: t0 + 5 }]);
  });
});

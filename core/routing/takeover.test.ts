import { describe, expect, it } from "vitest";
import { callReport, planTakeover, REPORT_TTL_MS, type ProviderEvidence } from "./takeover";

const t0 = 1_800_000_000_000;
const claimedAt = t0 - 1000;
const lapsed = [{ id: "r1", claimedAt }, { id: "r2", claimedAt }];
const ok = (key: string, recipients: string[], pmid: string, startedAt = t0) => callReport({ key, recipients, startedAt, sent: true, providerMessageId: pmid }, startedAt + 200);
const failed = (key: string, recipients: string[], startedAt = t0) => callReport({ key, recipients, startedAt, sent: false }, startedAt + 200);
const ev = (providerId: string, reports = [] as ReturnType<typeof callReport>[], unreported: string[] = []): ProviderEvidence => ({ providerId, reports, unreported });

describe("takeover of a lapsed claim", () => {
  it("a reported 2xx is reconciled (its provider and message id), not sent again", () => {
    const plan = planTakeover("m", lapsed, [ev("p1"), ev("p2", [ok("m", ["r1", "r2"], "<id@mg>")])], t0 + 60_000);
    expect(plan.reconciled).toEqual([
      { recipientId: "r1", providerId: "p2", providerMessageId: "<id@mg>" },
      { recipientId: "r2", providerId: "p2", providerMessageId: "<id@mg>" },
    ]);
    expect(plan.resendTo).toBeNull();
  });

  it("a reported failure resends to that provider; an unreported call (in flight or orphaned) wins over it", () => {
    expect(planTakeover("m", lapsed, [ev("p1"), ev("p2", [failed("m", ["r1", "r2"])])], t0 + 60_000)).toEqual({ reconciled: [], resendTo: "p2" });
    // Failed over: p1 answered a failure, then the call on p2 never reported back.
    expect(planTakeover("m", lapsed, [ev("p1", [failed("m", ["r1", "r2"])]), ev("p2", [], ["m"])], t0 + 60_000).resendTo).toBe("p2");
    // Failed on p1, then p2 answered 2xx: reconciled from p2.
    expect(planTakeover("m", lapsed, [ev("p1", [failed("m", ["r1", "r2"])]), ev("p2", [ok("m", ["r1", "r2"], "x", t0 + 500)])], t0 + 60_000).reconciled.map((r) => r.providerId)).toEqual(["p2", "p2"]);
    // Two failures: the newest call's provider.
    expect(planTakeover("m", lapsed, [ev("p1", [failed("m", ["r1", "r2"], t0 + 900)]), ev("p2", [failed("m", ["r1", "r2"], t0)])], t0 + 60_000).resendTo).toBe("p1");
  });

  it("a report covers only its own recipients (a split message, a per-recipient copy)", () => {
    const plan = planTakeover("m", lapsed, [ev("p1", [ok("m", ["r1"], "a")]), ev("p2", [failed("m", ["r2"])])], t0 + 60_000);
    expect(plan.reconciled).toEqual([{ recipientId: "r1", providerId: "p1", providerMessageId: "a" }]);
    expect(plan.resendTo).toBe("p2");
    const copies = planTakeover("m", lapsed, [ev("p1", [ok("m:r2", ["r2"], "b")], ["m:r1"])], t0 + 60_000);
    expect(copies).toEqual({ reconciled: [{ recipientId: "r2", providerId: "p1", providerMessageId: "b" }], resendTo: "p1" });
  });

  it("reports of calls started before the lapsed claim, or older than the retention, count for nothing", () => {
    expect(planTakeover("m", lapsed, [ev("p1", [ok("m", ["r1", "r2"], "old", claimedAt - 1)])], t0 + 60_000)).toEqual({ reconciled: [], resendTo: null });
    expect(planTakeover("m", lapsed, [ev("p1", [failed("m", ["r1", "r2"], claimedAt - 1)])], t0 + 60_000)).toEqual({ reconciled: [], resendTo: null });
    expect(planTakeover("m", lapsed, [ev("p1", [ok("m", ["r1", "r2"], "x")])], t0 + 200 + REPORT_TTL_MS)).toEqual({ reconciled: [], resendTo: null });
  });

  it("a 2xx without a provider message id is not evidence of success", () => {
    const r = callReport({ key: "m", recipients: ["r1"], startedAt: t0, sent: true }, t0);
    expect(r.ok).toBe(false);
    expect(planTakeover("m", [{ id: "r1", claimedAt }], [ev("p1", [r])], t0 + 1).reconciled).toEqual([]);
  });
});

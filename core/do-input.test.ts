import { describe, expect, it } from "vitest";
import { parseDoInput } from "./do-input";
import { RelayError } from "./errors";
import { consumeItemsSchema, consumptionsSchema } from "./limits/inputs";
import { DEFAULT_BREAKER_CONFIG as cfg } from "./routing/breaker";
import { acquireItemsSchema, releaseArgsSchema } from "./routing/provider-inputs";

const now = 1_800_000_000_000;
const rules = [
  { name: "workspace:day", kind: "window" as const, period: "day" as const, max: 10_000 },
  { name: "provider:rate", kind: "rate" as const, perSecond: 10, burst: 10 },
];
const acquireItem = (i: number) => ({ workspaceId: "ws_1", providerId: "prv_1", cfg, quota: { key: `provider:msg_${i}`, rules, n: 1 }, leaseMs: 35_000, callKey: `msg_${i}` });

describe("Durable Object inputs", () => {
  it("pass through as they were sent (unknown fields dropped)", () => {
    const items = [acquireItem(0), { ...acquireItem(1), quota: null, leaseMs: undefined, callKey: undefined }];
    expect(parseDoInput(acquireItemsSchema, items, "ProviderState.acquireMany")).toEqual([acquireItem(0), { workspaceId: "ws_1", providerId: "prv_1", cfg, quota: null }]);
    const grant = { allowed: true, permit: "trial", startedAt: now, leaseId: "id_1" };
    const report = { key: "msg_1", recipients: ["rcp_1"], startedAt: now, sent: true, providerMessageId: "<x@mg>" };
    expect(parseDoInput(releaseArgsSchema, { workspaceId: "ws_1", providerId: "prv_1", cfg, grant, outcome: "neutral", latencyMs: 12, now, report }, "ProviderState.release").grant).toEqual({
      permit: "trial",
      startedAt: now,
      leaseId: "id_1",
    });
    expect(parseDoInput(consumptionsSchema, [{ name: "user:usr_1:day", windowStart: now, n: 3 }, { name: "global:rate", n: 1, gcraMs: 10 }], "WorkspaceLimiter.giveBack")).toHaveLength(2);
  });

  it("are refused with a RelayError naming the method and the field", () => {
    const bad = (schema: Parameters<typeof parseDoInput>[0], input: unknown, method: string) => {
      try {
        parseDoInput(schema, input, method);
      } catch (e) {
        expect(e).toBeInstanceOf(RelayError);
        expect((e as RelayError).code).toBe("internal_error");
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    const items = [acquireItem(0), acquireItem(1), { ...acquireItem(2), cfg: { ...cfg, open_seconds: "60" } }];
    expect(bad(acquireItemsSchema, items, "ProviderState.acquireMany")).toMatch(/^ProviderState\.acquireMany: invalid 2\.cfg\.open_seconds: /);
    expect(bad(acquireItemsSchema, [{ ...acquireItem(0), leaseMs: -1 }], "ProviderState.acquireMany")).toMatch(/invalid 0\.leaseMs/);
    expect(bad(acquireItemsSchema, [{ ...acquireItem(0), cfg: { ...cfg, surprise: 1 } }], "ProviderState.acquireMany")).toMatch(/invalid 0\.cfg/);
    expect(bad(acquireItemsSchema, "not a list", "ProviderState.acquireMany")).toMatch(/invalid arguments/);
    const release = { workspaceId: "ws_1", providerId: "prv_1", cfg, grant: { permit: "trial", startedAt: now }, outcome: "maybe", latencyMs: 1, now };
    expect(bad(releaseArgsSchema, release, "ProviderState.release")).toMatch(/^ProviderState\.release: invalid outcome: /);
    expect(bad(releaseArgsSchema, { ...release, outcome: "success", latencyMs: Number.NaN }, "ProviderState.release")).toMatch(/invalid latencyMs/);
    expect(bad(consumeItemsSchema, [{ key: "m1", rules: [{ name: "x", kind: "window", period: "week", max: 1 }], n: 1, tz: "UTC", now }], "WorkspaceLimiter.consumeMany")).toMatch(
      /invalid 0\.rules\.0\.period/,
    );
    expect(bad(consumeItemsSchema, [{ key: "", rules, n: 1, tz: "UTC", now }], "GlobalLimiter.consumeMany")).toMatch(/invalid 0\.key/);
    expect(bad(consumeItemsSchema, [{ key: "m1", rules, n: 1.5, tz: "UTC", now }], "GlobalLimiter.consumeMany")).toMatch(/invalid 0\.n/);
  });
});

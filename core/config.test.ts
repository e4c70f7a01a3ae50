// The one configuration reader: defaults when a var is absent, a bad value refused with its
// name (never replaced by a default quietly), each section derived from its vars.
import { describe, expect, it } from "vitest";
import { readConfig } from "./config";

describe("readConfig", () => {
  it("gives the defaults for an empty environment", () => {
    const c = readConfig({});
    expect(c.globalLimits).toEqual({ daily: 100_000, hourly: 5_000, burstPerSecond: 100, shards: 4 });
    expect(c.healthCheckIntervalMs).toBe(300_000);
    expect(c.webhooks).toMatchObject({ timeoutMs: 10_000, maxAgeMs: 24 * 3_600_000, allowPrivateUrls: false });
    expect(c.inbound).toMatchObject({ bounceDomain: null, suppressAfter: 1, defaultWorkspace: null });
    expect(c.metricsToken).toBeUndefined();
  });

  it("refuses a bad value by name, in every section, instead of defaulting it", () => {
    for (const [name, value] of <[string, string][]>[
      ["GLOBAL_DAILY_LIMIT", "lots"],
      ["GLOBAL_LIMIT_SHARDS", "0"],
      ["HEALTH_CHECK_INTERVAL_SECONDS", "1"],
      ["WEBHOOK_ALLOW_PRIVATE_URLS", "yes"],
      ["HARD_BOUNCE_SUPPRESS_AFTER", "-1"],
      ["DNS_RESOLVER_URL", "not a url"],
    ]) {
      expect(() => readConfig({ [name]: value }), name).toThrow(new RegExp(`configuration ${name}`));
    }
  });

  it("derives each section from its vars", () => {
    const c = readConfig({ SUBMISSION_ADDRESSES: " Submit@Relay.example, *@In.Relay.example ", BOUNCE_DOMAIN: "Bounces.Relay.example", GLOBAL_DAILY_LIMIT: "50", WEBHOOK_MAX_AGE_HOURS: "0.5", METRICS_TOKEN: "" });
    expect([...c.inbound.submission.exact]).toEqual(["submit@relay.example"]);
    expect([...c.inbound.submission.wildcardDomains]).toEqual(["in.relay.example"]);
    expect(c.inbound.bounceDomain).toBe("bounces.relay.example");
    expect(c.globalLimits.daily).toBe(50);
    expect(c.webhooks.maxAgeMs).toBe(1_800_000);
    expect(c.metricsToken).toBeUndefined(); // empty counts as absent
  });
});

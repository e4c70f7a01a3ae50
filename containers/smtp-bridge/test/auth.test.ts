import { describe, expect, it } from "vitest";
import { AuthGate, Credential, FailureLimiter, sourceOf } from "../src/auth.ts";
import type { KeyCheck } from "../src/relay-client.ts";

function fakeRelay(valid: Record<string, string[]>) {
  const calls: string[] = [];
  let unavailable = false;
  return {
    calls,
    setUnavailable: (v: boolean) => (unavailable = v),
    async checkKey(key: string): Promise<KeyCheck> {
      calls.push(key);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (unavailable) return { kind: "unavailable", reason: "econnrefused" };
      const scopes = valid[key];
      return scopes ? { kind: "valid", workspaceId: "ws_1", keyId: "key_1", scopes } : { kind: "invalid", status: 401 };
    },
  };
}

const options = (now: () => number) => ({
  positiveTtlMs: 60_000,
  negativeTtlMs: 10_000,
  maxFailuresPerIp: 5,
  maxFailuresPerUser: 3,
  failureWindowMs: 900_000,
  now,
});

describe("AuthGate", () => {
  it("caches positive answers for their TTL and negative ones for a shorter one", async () => {
    let now = 0;
    const relay = fakeRelay({ good: ["send"] });
    const gate = new AuthGate(relay, options(() => now));
    expect((await gate.authenticate("10.0.0.1", "a", "good")).kind).toBe("ok");
    expect((await gate.authenticate("10.0.0.1", "a", "good")).kind).toBe("ok");
    expect((await gate.authenticate("10.0.0.2", "b", "bad")).kind).toBe("invalid");
    expect((await gate.authenticate("10.0.0.3", "c", "bad")).kind).toBe("invalid");
    expect(relay.calls).toEqual(["good", "bad"]);
    now = 10_001;
    await gate.authenticate("10.0.0.4", "d", "bad");
    await gate.authenticate("10.0.0.4", "d", "good");
    expect(relay.calls).toEqual(["good", "bad", "bad"]);
    now = 60_001;
    await gate.authenticate("10.0.0.4", "d", "good");
    expect(relay.calls).toEqual(["good", "bad", "bad", "good"]);
  });

  it("coalesces concurrent checks of one key", async () => {
    const relay = fakeRelay({ good: ["send"] });
    const gate = new AuthGate(relay, options(Date.now));
    const results = await Promise.all(Array.from({ length: 20 }, () => gate.authenticate("10.0.0.1", "a", "good")));
    expect(results.every((r) => r.kind === "ok")).toBe(true);
    expect(relay.calls).toHaveLength(1);
  });

  it("does not count or cache a relay outage as a failure", async () => {
    const relay = fakeRelay({ good: ["send"] });
    const gate = new AuthGate(relay, options(Date.now));
    relay.setUnavailable(true);
    for (let i = 0; i < 10; i++) expect((await gate.authenticate("10.0.0.1", "a", "good")).kind).toBe("unavailable");
    relay.setUnavailable(false);
    expect((await gate.authenticate("10.0.0.1", "a", "good")).kind).toBe("ok");
  });

  it("refuses keys without the send scope and counts them as failures", async () => {
    const relay = fakeRelay({ reader: ["read"] });
    const gate = new AuthGate(relay, options(Date.now));
    for (let i = 0; i < 3; i++) expect((await gate.authenticate("10.0.0.1", "u", "reader")).kind).toBe("no_scope");
    expect(await gate.authenticate("10.0.0.1", "u", "reader")).toEqual({ kind: "blocked", by: "user" });
  });

  it("never lets one source's failures under a username lock out a correct key from another source", async () => {
    const relay = fakeRelay({ good: ["send"] });
    const gate = new AuthGate(relay, { ...options(Date.now), maxFailuresPerIp: 10, maxFailuresPerUser: 50 });
    for (let host = 1; host <= 7; host++) {
      for (let i = 0; i < 8; i++) expect((await gate.authenticate(`10.0.0.${host}`, "apikey", `bad-${host}-${i}`)).kind).toBe("invalid");
    }
    expect((await gate.authenticate("10.0.0.8", "apikey", "good")).kind).toBe("ok");
  });

  it("limits a source per username and in total, and forgets after the window", async () => {
    let now = 0;
    const relay = fakeRelay({ good: ["send"] });
    const gate = new AuthGate(relay, options(() => now));
    for (let i = 0; i < 3; i++) await gate.authenticate("10.0.0.1", "apikey", `bad-${i}`);
    expect(await gate.authenticate("10.0.0.1", "apikey", "good")).toEqual({ kind: "blocked", by: "user" });
    expect((await gate.authenticate("10.0.0.1", "other", "good")).kind).toBe("ok");
    for (let i = 0; i < 2; i++) await gate.authenticate("10.0.0.1", `u${i}`, `bad-u${i}`);
    expect(await gate.authenticate("10.0.0.1", "fresh", "good")).toEqual({ kind: "blocked", by: "ip" });
    expect((await gate.authenticate("10.0.0.2", "apikey", "good")).kind).toBe("ok");
    now = 900_000;
    expect((await gate.authenticate("10.0.0.1", "apikey", "good")).kind).toBe("ok");
  });

  it("counts an IPv6 /64 as one source, so rotating addresses inside it does not help", async () => {
    const relay = fakeRelay({ good: ["send"] });
    const gate = new AuthGate(relay, options(Date.now));
    for (let i = 1; i <= 5; i++) await gate.authenticate(`2001:db8:1:2::${i.toString(16)}`, `u${i}`, "bad");
    expect(await gate.authenticate("2001:db8:1:2:ffff::1", "apikey", "good")).toEqual({ kind: "blocked", by: "ip" });
    expect((await gate.authenticate("2001:db8:1:3::1", "apikey", "good")).kind).toBe("ok");
  });

  it("keeps the key out of serialization", async () => {
    const relay = fakeRelay({ "secret-key-123": ["send"] });
    const gate = new AuthGate(relay, options(Date.now));
    const decision = await gate.authenticate("10.0.0.1", "a", "secret-key-123");
    expect(decision.kind).toBe("ok");
    const credential = (decision as { credential: Credential }).credential;
    expect(credential.bearer()).toBe("secret-key-123");
    expect(JSON.stringify(credential)).not.toContain("secret-key-123");
    expect(String(Object.values(credential))).not.toContain("secret-key-123");
  });
});

describe("sourceOf", () => {
  it("is the IPv4 address, or the IPv6 /64 whatever the notation", () => {
    expect(sourceOf("192.0.2.7")).toBe("192.0.2.7");
    expect(sourceOf("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(sourceOf("2001:db8:0:1::5")).toBe("2001:db8:0:1::/64");
    expect(sourceOf("2001:0db8:0000:0001:abcd:0:0:1")).toBe("2001:db8:0:1::/64");
    expect(sourceOf("2001:DB8:0:1:a:b:c:d")).toBe("2001:db8:0:1::/64");
    expect(sourceOf("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(sourceOf("::1")).toBe("0:0:0:0::/64");
  });
});

describe("FailureLimiter", () => {
  it("blocks after max failures within the window and forgets afterwards", () => {
    let now = 0;
    const limiter = new FailureLimiter(2, 1000, () => now);
    limiter.fail("x");
    expect(limiter.blocked("x")).toBe(false);
    limiter.fail("x");
    expect(limiter.blocked("x")).toBe(true);
    expect(limiter.blocked("y")).toBe(false);
    now = 1000;
    expect(limiter.blocked("x")).toBe(false);
  });
  it("stays bounded", () => {
    const limiter = new FailureLimiter(1, 1_000_000, () => 0, 100);
    for (let i = 0; i < 1000; i++) limiter.fail(`k${i}`);
    expect(limiter.blocked("k999")).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { resolveInboundWorkspace, type InboundWorkspace, type ResolutionInput } from "./workspace-resolution";

const a: InboundWorkspace = { workspaceId: "ws_a", slug: "clinic-a", status: "active" };
const d: InboundWorkspace = { workspaceId: "ws_d", slug: "default", status: "active" };
const input = (over: Partial<ResolutionInput>): ResolutionInput => ({
  fromDomain: "a.example",
  owner: undefined,
  defaultSlug: null,
  fallback: undefined,
  addressedSlug: "",
  ...over,
});

describe("inbound workspace resolution", () => {
  it("the workspace that verified the domain, whether or not a default is configured", () => {
    expect(resolveInboundWorkspace(input({ owner: a }))).toEqual({ ok: true, workspaceId: "ws_a", via: "sender_domain" });
    expect(resolveInboundWorkspace(input({ owner: a, defaultSlug: "default", fallback: d }))).toEqual({ ok: true, workspaceId: "ws_a", via: "sender_domain" });
  });

  it("a domain nobody verified: the default workspace, or a refusal without one", () => {
    expect(resolveInboundWorkspace(input({ defaultSlug: "default", fallback: d }))).toEqual({ ok: true, workspaceId: "ws_d", via: "default" });
    const refused = resolveInboundWorkspace(input({}));
    expect(refused).toEqual({ ok: false, reason: expect.stringMatching(/^sender domain a\.example is not a verified sender domain/) });
  });

  it("a claimed domain never falls back: its workspace suspended is a refusal, not the default", () => {
    const r = resolveInboundWorkspace(input({ owner: { ...a, status: "suspended" }, defaultSlug: "default", fallback: d }));
    expect(r).toEqual({ ok: false, reason: "the sender's workspace is suspended" });
  });

  it("a suspended default refuses; a slug address must name the resolved workspace", () => {
    expect(resolveInboundWorkspace(input({ defaultSlug: "default", fallback: { ...d, status: "suspended" } })).ok).toBe(false);
    expect(resolveInboundWorkspace(input({ defaultSlug: "default", fallback: d, addressedSlug: "clinic-a" }))).toEqual({
      ok: false,
      reason: "a.example may not submit to this address",
    });
    expect(resolveInboundWorkspace(input({ defaultSlug: "default", fallback: d, addressedSlug: "default" })).ok).toBe(true);
    expect(resolveInboundWorkspace(input({ owner: a, defaultSlug: "default", fallback: d, addressedSlug: "default" })).ok).toBe(false);
  });

  it("a configured default that does not exist is an operator error (thrown, so mail is retried)", () => {
    expect(() => resolveInboundWorkspace(input({ defaultSlug: "missing" }))).toThrow(/DEFAULT_WORKSPACE 'missing' does not exist/);
  });
});

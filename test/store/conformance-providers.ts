// Conformance: the providers group (db/store/providers.ts). Providers and their quotas are the
// workspace's alone (another workspace's id is "not found" and left untouched); a sender domain
// may be registered by many workspaces but verified by one, and a verified domain reserves every
// name under it; duplicates are values.
import { describe, expect, it } from "vitest";
import { newId, randomToken } from "../../core/ids";
import { open, openMany, type BackendFactory } from "./conformance-support";
import { domainRow, providerRow, quotaRows, seedDomain, uniqueDomain } from "./seed-providers";

const newProvider = (over: Record<string, unknown> = {}) => ({
  id: newId("prv"),
  name: "primary",
  type: "mailgun" as const,
  config: { domain: "mg.clinic.example", region: "eu" },
  credentialsEnc: "v1:k1:ciphertext",
  status: "enabled" as const,
  priority: 10,
  weight: 3,
  baaCovered: true,
  ...over,
});

const newDomain = (domain: string, verifiedAt: number | null = null) => ({ id: newId("dom"), domain, verificationToken: randomToken(18), verifiedAt });

export function providersConformance(backend: BackendFactory): void {
  describe("providers: create, list, get, update, delete", () => {
    it("creates a provider and reads it back as stored (JSON config, boolean BAA flag, credentials ciphertext)", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const input = newProvider();
      const created = await store.providers.create(ws, input);
      expect(created).toMatchObject({ ...input, workspaceId: ws });
      expect(typeof created.createdAt).toBe("number");
      expect(created.updatedAt).toBe(created.createdAt);
      expect(await store.providers.get(ws, input.id)).toEqual(created);
      // Defaults are the schema's.
      const bare = await store.providers.create(ws, { id: newId("prv"), name: "bare", type: "sandbox" });
      expect(bare).toMatchObject({ config: {}, credentialsEnc: null, status: "enabled", priority: 100, weight: 1, baaCovered: false });
    });

    it("lists the workspace's providers by priority, then creation; another workspace's are neither listed nor found", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const late = await seed.provider(ws, { type: "smtp", priority: 5, createdAt: 2_000 });
      const early = await seed.provider(ws, { type: "smtp", priority: 5, createdAt: 1_000 });
      const first = await seed.provider(ws, { type: "gmail", priority: 1, createdAt: 3_000 });
      const foreign = await seed.provider(other, { type: "sandbox", priority: 0 });
      expect((await store.providers.list(ws)).map((p) => p.id)).toEqual([first, early, late]);
      expect((await store.providers.list(other)).map((p) => p.id)).toEqual([foreign]);
      expect(await store.providers.get(ws, foreign)).toBeUndefined();
      expect(await store.providers.list(await seed.workspace())).toEqual([]);
    });

    it("updates only the given fields and stamps updated_at; another workspace's id is not found and not changed", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const p = await store.providers.create(ws, newProvider());
      const at = p.createdAt + 5_000;
      const updated = await store.providers.update(ws, p.id, { name: "renamed", config: { domain: "mg2.clinic.example" }, status: "disabled", baaCovered: false, credentialsEnc: null }, at);
      expect(updated).toEqual({ ...p, name: "renamed", config: { domain: "mg2.clinic.example" }, status: "disabled", baaCovered: false, credentialsEnc: null, updatedAt: at });
      expect(await store.providers.get(ws, p.id)).toEqual(updated);

      expect(await store.providers.update(other, p.id, { name: "stolen", priority: 1 }, at + 1)).toBeUndefined();
      expect(await providerRow(exec, p.id)).toEqual({ workspaceId: ws, name: "renamed", priority: p.priority, updatedAt: at });
      expect(await store.providers.update(ws, newId("prv"), { name: "x" }, at)).toBeUndefined();
    });

    it("deletes the workspace's provider once; another workspace cannot delete it", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const p = await seed.provider(ws, { type: "sandbox" });
      expect(await store.providers.delete(other, p)).toBe(false);
      expect(await providerRow(exec, p)).toBeDefined();
      expect(await store.providers.delete(ws, p)).toBe(true);
      expect(await providerRow(exec, p)).toBeUndefined();
      expect(await store.providers.delete(ws, p)).toBe(false);
    });
  });

  describe("providers: quotas", () => {
    it("sets, replaces and removes a provider's daily and per-second rows; absent leaves a limit as it is", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const p = await seed.provider(ws, { type: "mailgun" });
      await seed.rateLimit(ws, { scope: "workspace", period: "minute", maxCount: 77 });
      await store.providers.setQuota(ws, p, { daily: 500, per_second: 4 });
      expect(await quotaRows(exec, p)).toEqual([
        { workspaceId: ws, period: "day", maxCount: 500, burst: null },
        { workspaceId: ws, period: "second", maxCount: 4, burst: 4 },
      ]);
      await store.providers.setQuota(ws, p, { daily: 900 });
      expect(await quotaRows(exec, p)).toEqual([
        { workspaceId: ws, period: "day", maxCount: 900, burst: null },
        { workspaceId: ws, period: "second", maxCount: 4, burst: 4 },
      ]);
      await store.providers.setQuota(ws, p, { per_second: null });
      expect(await quotaRows(exec, p)).toEqual([{ workspaceId: ws, period: "day", maxCount: 900, burst: null }]);
      await store.providers.setQuota(ws, p, {});
      expect(await store.providers.quotas(ws)).toEqual([{ providerId: p, period: "day", maxCount: 900, burst: null }]);
    });

    it("lists only the workspace's provider quotas; another workspace's setQuota leaves them alone", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const p = await seed.provider(ws, { type: "gmail" });
      const q = await seed.provider(other, { type: "gmail" });
      await store.providers.setQuota(ws, p, { daily: 10, per_second: 2 });
      await store.providers.setQuota(other, q, { daily: 20 });
      const sortedQuotas = (rows: { providerId: string | null; period: string }[]) => [...rows].sort((a, b) => a.period.localeCompare(b.period));
      expect(sortedQuotas(await store.providers.quotas(ws))).toEqual([
        { providerId: p, period: "day", maxCount: 10, burst: null },
        { providerId: p, period: "second", maxCount: 2, burst: 2 },
      ]);
      expect(await store.providers.quotas(other)).toEqual([{ providerId: q, period: "day", maxCount: 20, burst: null }]);
      await store.providers.setQuota(other, p, { daily: null, per_second: null });
      expect((await quotaRows(exec, p)).map((r) => [r.workspaceId, r.period])).toEqual([
        [ws, "day"],
        [ws, "second"],
      ]);
    });
  });

  describe("providers: sender domains", () => {
    it("registers, lists by domain and gets a workspace's domains; another workspace's id is not found", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const b = newDomain(uniqueDomain("b"));
      const a = newDomain(uniqueDomain("a"));
      const created = await store.providers.createDomain(ws, b);
      expect(created).toEqual({ status: "created", domain: { ...b, workspaceId: ws, verifiedAt: null, createdAt: expect.any(Number) } });
      await store.providers.createDomain(ws, a);
      expect((await store.providers.domains(ws)).map((d) => d.domain)).toEqual([a.domain, b.domain]);
      expect(await store.providers.domain(ws, b.id)).toEqual(created.status === "created" ? created.domain : undefined);
      expect(await store.providers.domain(other, b.id)).toBeUndefined();
      expect(await store.providers.domains(other)).toEqual([]);
    });

    it("a second registration in the workspace is a duplicate; another workspace may register the same unverified domain", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const domain = uniqueDomain();
      expect((await store.providers.createDomain(ws, newDomain(domain))).status).toBe("created");
      expect(await store.providers.createDomain(ws, newDomain(domain))).toEqual({ status: "duplicate" });
      expect((await store.providers.createDomain(other, newDomain(domain))).status).toBe("created");
      expect((await store.providers.domains(ws)).map((d) => d.domain)).toEqual([domain]);
    });

    it("created verified (bootstrap) while another workspace holds the verified claim: a duplicate, nothing stored", async () => {
      const { store, seed } = await open(backend);
      const owner = await seed.workspace();
      const ws = await seed.workspace();
      const domain = uniqueDomain();
      const first = await store.providers.createDomain(owner, newDomain(domain, 1_000));
      expect(first).toMatchObject({ status: "created", domain: { verifiedAt: 1_000 } });
      expect(await store.providers.createDomain(ws, newDomain(domain, 2_000))).toEqual({ status: "duplicate" });
      expect(await store.providers.domains(ws)).toEqual([]);
    });

    it("verifies a claim once; the row comes back verified", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const domain = uniqueDomain();
      const id = await seedDomain(exec, ws, domain);
      const verified = await store.providers.verifyDomain(ws, id, domain, 5_000);
      expect(verified).toMatchObject({ id, workspaceId: ws, domain, verifiedAt: 5_000 });
      // Already verified: nothing to do, the first time stands.
      expect(await store.providers.verifyDomain(ws, id, domain, 6_000)).toBeUndefined();
      expect((await domainRow(exec, id))?.verifiedAt).toBe(5_000);
    });

    it("refuses a domain within another workspace's verified name space (the domain itself or a parent), allows the reverse", async () => {
      const { store, seed, exec } = await open(backend);
      const owner = await seed.workspace();
      const ws = await seed.workspace();
      const parent = uniqueDomain();
      await seedDomain(exec, owner, parent, 1_000);
      const same = await seedDomain(exec, ws, parent);
      const child = await seedDomain(exec, ws, `mail.${parent}`);
      expect(await store.providers.verifyDomain(ws, same, parent, 2_000)).toBeUndefined();
      expect(await store.providers.verifyDomain(ws, child, `mail.${parent}`, 2_000)).toBeUndefined();
      expect((await domainRow(exec, same))?.verifiedAt).toBeNull();
      expect((await domainRow(exec, child))?.verifiedAt).toBeNull();

      // The reverse: a parent verified later does not take the child from the workspace that verified it first.
      const top = uniqueDomain();
      await seedDomain(exec, owner, `mail.${top}`, 1_000);
      const topId = await seedDomain(exec, ws, top);
      expect(await store.providers.verifyDomain(ws, topId, top, 3_000)).toMatchObject({ verifiedAt: 3_000 });
    });

    it("a verification the unique verified-domain index refuses is a value, not an error", async () => {
      const { store, seed, exec } = await open(backend);
      const owner = await seed.workspace();
      const ws = await seed.workspace();
      const domain = uniqueDomain();
      await seedDomain(exec, owner, domain, 1_000);
      const id = await seedDomain(exec, ws, domain);
      // Checked against an unrelated name, so only the index stands between the claim and a second owner.
      expect(await store.providers.verifyDomain(ws, id, uniqueDomain("elsewhere"), 2_000)).toBeUndefined();
      expect((await domainRow(exec, id))?.verifiedAt).toBeNull();
    });

    it("another workspace's claim id is not verified, nor deleted", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const domain = uniqueDomain();
      const id = await seedDomain(exec, ws, domain);
      expect(await store.providers.verifyDomain(other, id, domain, 2_000)).toBeUndefined();
      expect(await store.providers.deleteDomain(other, id)).toBe(false);
      expect(await domainRow(exec, id)).toEqual({ workspaceId: ws, domain, verifiedAt: null });
      expect(await store.providers.deleteDomain(ws, id)).toBe(true);
      expect(await domainRow(exec, id)).toBeUndefined();
      expect(await store.providers.deleteDomain(ws, id)).toBe(false);
    });

    it("workspaces verifying the same domain at once: exactly one owns it", async () => {
      const { seed, exec } = await open(backend);
      const domain = uniqueDomain();
      const claims = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const ws = await seed.workspace();
          return { ws, id: await seedDomain(exec, ws, domain) };
        }),
      );
      const stores = await openMany(backend, claims.length);
      const results = await Promise.all(claims.map((c, i) => stores[i]!.providers.verifyDomain(c.ws, c.id, domain, 9_000 + i)));
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      const rows = await Promise.all(claims.map((c) => domainRow(exec, c.id)));
      expect(rows.filter((r) => r?.verifiedAt !== null)).toHaveLength(1);
    });

    it("a parent and its child verified at once by two workspaces: never the child's owner alone", async () => {
      const { seed, exec } = await open(backend);
      const parent = uniqueDomain();
      const a = await seed.workspace();
      const b = await seed.workspace();
      const parentId = await seedDomain(exec, a, parent);
      const childId = await seedDomain(exec, b, `mail.${parent}`);
      const [sa, sb] = await openMany(backend, 2);
      const [pa, pb] = await Promise.all([sa!.providers.verifyDomain(a, parentId, parent, 1_000), sb!.providers.verifyDomain(b, childId, `mail.${parent}`, 1_000)]);
      // Either order is a serial one: the parent first refuses the child; the child first allows the parent.
      expect(pa).toBeDefined();
      expect((await domainRow(exec, childId))?.verifiedAt ?? null).toBe(pb === undefined ? null : 1_000);
    });

    it("verifiedClaimElsewhere (cross-tenant): another workspace's verified claim on the domain or a parent, never the asker's own nor an unverified one", async () => {
      const { store, seed, exec } = await open(backend);
      const owner = await seed.workspace();
      const ws = await seed.workspace();
      const parent = uniqueDomain();
      await seedDomain(exec, owner, parent, 1_000);
      const pending = uniqueDomain();
      await seedDomain(exec, owner, pending);
      expect(await store.providers.verifiedClaimElsewhere(ws, parent)).toEqual({ domain: parent });
      expect(await store.providers.verifiedClaimElsewhere(ws, `a.b.${parent}`)).toEqual({ domain: parent });
      expect(await store.providers.verifiedClaimElsewhere(owner, parent)).toBeUndefined();
      expect(await store.providers.verifiedClaimElsewhere(ws, pending)).toBeUndefined();
      expect(await store.providers.verifiedClaimElsewhere(ws, `x${parent}`)).toBeUndefined();
    });
  });
}

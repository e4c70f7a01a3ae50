// The store conformance suite's tenants cases (db/store/tenants.ts), run against every backend:
// workspaces (a taken slug is a value, not an error), API keys (found by hash across tenants,
// touched, listed, revoked only in their workspace), security settings (an upsert changes only
// what it names), JWT issuers and users (matched on the subject; a taken email gets a placeholder),
// and the LLM settings' key and usage. Another workspace's id finds and changes nothing.
import { describe, expect, it } from "vitest";
import { newId } from "../../core/ids";
import type { NewApiKey } from "../../db/store/tenants";
import { open, type BackendFactory } from "./conformance-support";
import { apiKeyState, securityState, userWith, usersOf, workspaceAt, workspaceCount } from "./seed-tenants";

const newKey = (extra: Partial<NewApiKey> = {}): NewApiKey => ({
  id: newId("key"),
  userId: null,
  name: "deploy",
  prefix: "rk_abcd",
  keyHash: `hash-${newId("key")}`,
  scopes: ["send", "read"],
  expiresAt: null,
  ...extra,
});

const slugOf = (id: string) => `s-${id.slice(3).toLowerCase().replace(/[^a-z0-9]/g, "x")}`;

export function tenantsConformance(backend: BackendFactory): void {
  describe("tenants: workspaces", () => {
    it("platformCreateWorkspace: the row with the columns' defaults; a taken slug is `duplicate` and adds nothing", async () => {
      const { store, exec } = await open(backend);
      const id = newId("ws");
      const slug = slugOf(id);
      const before = Date.now();
      const created = await store.tenants.platformCreateWorkspace({ id, slug, displayName: "Clinic A" });
      expect(created.status).toBe("created");
      const ws = created.status === "created" ? created.workspace : undefined;
      expect(ws).toMatchObject({ id, slug, displayName: "Clinic A", domain: null, configuration: {}, status: "active" });
      expect(ws!.createdAt).toBeGreaterThanOrEqual(before - 5_000);
      expect(ws!.updatedAt).toBe(ws!.createdAt);
      expect(await store.tenants.workspace(id)).toEqual(ws);

      const again = await store.tenants.platformCreateWorkspace({ id: newId("ws"), slug, displayName: "Clinic B" });
      expect(again).toEqual({ status: "duplicate" });
      expect(await workspaceCount(exec, "slug = ?", [slug])).toBe(1);
      expect((await store.tenants.workspace(id))?.displayName).toBe("Clinic A");
    });

    it("platformListWorkspaces: every workspace, oldest first, ties by id", async () => {
      const { store, exec } = await open(backend);
      // Far in the past, so they sort before every other test's workspaces on this database.
      const ids = [await workspaceAt(exec, -30), await workspaceAt(exec, -10)];
      const tied = [newId("ws"), newId("ws")].sort();
      await workspaceAt(exec, -20, tied[1]);
      await workspaceAt(exec, -20, tied[0]);
      const mine = new Set([...ids, ...tied]);
      const listed = (await store.tenants.platformListWorkspaces()).filter((w) => mine.has(w.id));
      expect(listed.map((w) => [w.id, w.createdAt])).toEqual([
        [ids[0], -30],
        [tied[0], -20],
        [tied[1], -20],
        [ids[1], -10],
      ]);
    });

    it("workspace: undefined for an unknown id", async () => {
      const { store } = await open(backend);
      expect(await store.tenants.workspace(newId("ws"))).toBeUndefined();
    });

    it("updateConfiguration: replaces the configuration and updated_at of that workspace only; unknown: undefined, nothing created", async () => {
      const { store, seed, exec } = await open(backend);
      const mine = await seed.workspace({ configuration: { limits: { daily: 5 } } });
      const other = await seed.workspace({ configuration: { keep: true } });
      const row = await store.tenants.updateConfiguration(mine, { routing: { strategy: "priority" }, variables: { CLINIC: "Ä" } }, 1_234);
      expect(row).toMatchObject({ id: mine, configuration: { routing: { strategy: "priority" }, variables: { CLINIC: "Ä" } }, updatedAt: 1_234, createdAt: 1 });
      expect(await store.tenants.workspace(mine)).toEqual(row);
      // The same configuration again still finds the row (matched, not changed).
      expect((await store.tenants.updateConfiguration(mine, row!.configuration, 1_234))?.id).toBe(mine);
      expect(await store.tenants.workspace(other)).toMatchObject({ configuration: { keep: true }, updatedAt: 1 });

      const unknown = newId("ws");
      expect(await store.tenants.updateConfiguration(unknown, { a: 1 }, 5)).toBeUndefined();
      expect(await workspaceCount(exec, "id = ?", [unknown])).toBe(0);
    });
  });

  describe("tenants: API keys", () => {
    it("createApiKey, then crossTenantApiKeyByHash: the key as stored, with its workspace's status; unknown hash: undefined", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const input = newKey({ scopes: ["admin"], expiresAt: 9_000_000_000_000 });
      const created = await store.tenants.createApiKey(ws, input);
      expect(created).toMatchObject({ ...input, workspaceId: ws, revokedAt: null, lastUsedAt: null });
      expect(created.createdAt).toBeGreaterThan(Date.now() - 60_000);

      expect(await store.tenants.crossTenantApiKeyByHash(input.keyHash)).toEqual({ key: created, workspaceStatus: "active" });
      await exec.run(`UPDATE workspaces SET status = 'suspended' WHERE id = ?`, [ws]);
      expect((await store.tenants.crossTenantApiKeyByHash(input.keyHash))?.workspaceStatus).toBe("suspended");
      expect(await store.tenants.crossTenantApiKeyByHash(`hash-${newId("key")}`)).toBeUndefined();
    });

    it("createApiKey keeps a user and an explicit creation time", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const userId = await userWith(exec, ws, "owner@example.net", null);
      const created = await store.tenants.createApiKey(ws, newKey({ userId, createdAt: 77 }));
      expect(created).toMatchObject({ userId, createdAt: 77 });
    });

    it("touchApiKey: records last use on the workspace's key; another workspace's id changes nothing", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const key = await store.tenants.createApiKey(ws, newKey());
      await store.tenants.touchApiKey(other, key.id, 500);
      expect((await apiKeyState(exec, key.id))?.lastUsedAt).toBeNull();
      await store.tenants.touchApiKey(ws, key.id, 600);
      expect((await apiKeyState(exec, key.id))?.lastUsedAt).toBe(600);
    });

    it("listApiKeys: the workspace's keys only, oldest first (revoked included)", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const late = await store.tenants.createApiKey(ws, newKey({ createdAt: 300 }));
      const early = await store.tenants.createApiKey(ws, newKey({ createdAt: 100 }));
      await store.tenants.createApiKey(other, newKey({ createdAt: 200 }));
      await store.tenants.revokeApiKey(ws, late.id, 400);
      expect((await store.tenants.listApiKeys(ws)).map((k) => [k.id, k.revokedAt])).toEqual([
        [early.id, null],
        [late.id, 400],
      ]);
      expect(await store.tenants.listApiKeys(newId("ws"))).toEqual([]);
    });

    it("revokeApiKey: true once; again, unknown, or another workspace's id: false and unchanged", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const key = await store.tenants.createApiKey(ws, newKey());
      expect(await store.tenants.revokeApiKey(other, key.id, 10)).toBe(false);
      expect((await apiKeyState(exec, key.id))?.revokedAt).toBeNull();
      expect(await store.tenants.revokeApiKey(ws, key.id, 20)).toBe(true);
      expect(await store.tenants.revokeApiKey(ws, key.id, 30)).toBe(false);
      expect((await apiKeyState(exec, key.id))?.revokedAt).toBe(20);
      expect(await store.tenants.revokeApiKey(ws, newId("key"), 40)).toBe(false);
    });
  });

  describe("tenants: security settings and JWT users", () => {
    it("upsertSecurity creates the row, then changes only the keys named; security reads it; other workspaces untouched", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      expect(await store.tenants.security(ws)).toBeUndefined();
      const jwt = { issuer: "https://idp.example", audience: ["relay", "ü"], jwks_url: "https://idp.example/jwks" };
      const first = await store.tenants.upsertSecurity(ws, { jwt, jwtIssuer: jwt.issuer }, 100);
      expect(first).toEqual({ workspaceId: ws, jwt, jwtIssuer: jwt.issuer, retentionDays: null, dlp: null, llmApiKeyEnc: null, updatedAt: 100 });
      const second = await store.tenants.upsertSecurity(ws, { retentionDays: 7 }, 200);
      expect(second).toEqual({ ...first, retentionDays: 7, updatedAt: 200 });
      const cleared = await store.tenants.upsertSecurity(ws, { jwt: null, jwtIssuer: null, dlp: { action: "block", rules: [] } }, 300);
      expect(cleared).toEqual({ ...second, jwt: null, jwtIssuer: null, dlp: { action: "block", rules: [] }, updatedAt: 300 });
      expect(await store.tenants.security(ws)).toEqual(cleared);
      expect(await securityState(exec, ws)).toMatchObject({ retentionDays: 7, jwtIssuer: null, updatedAt: 300 });
      expect(await securityState(exec, other)).toBeUndefined();
    });

    it("crossTenantJwtIssuerWorkspaces: every workspace trusting the issuer, with its JWT settings and status; no other", async () => {
      const { store, seed, exec } = await open(backend);
      const issuer = `https://${newId("ws").toLowerCase()}.idp.example`;
      const a = await seed.workspace();
      const b = await seed.workspace();
      const elsewhere = await seed.workspace();
      await store.tenants.upsertSecurity(a, { jwt: { issuer, audience: "a" }, jwtIssuer: issuer }, 1);
      await store.tenants.upsertSecurity(b, { jwt: { issuer, audience: "b" }, jwtIssuer: issuer }, 1);
      await store.tenants.upsertSecurity(elsewhere, { jwt: { issuer: `${issuer}/x`, audience: "a" }, jwtIssuer: `${issuer}/x` }, 1);
      await exec.run(`UPDATE workspaces SET status = 'suspended' WHERE id = ?`, [b]);
      const found = await store.tenants.crossTenantJwtIssuerWorkspaces(issuer);
      expect(found.sort((x, y) => (x.workspaceId < y.workspaceId ? -1 : 1))).toEqual(
        [
          { workspaceId: a, jwt: { issuer, audience: "a" }, workspaceStatus: "active" },
          { workspaceId: b, jwt: { issuer, audience: "b" }, workspaceStatus: "suspended" },
        ].sort((x, y) => (x.workspaceId < y.workspaceId ? -1 : 1)),
      );
      expect(await store.tenants.crossTenantJwtIssuerWorkspaces(`${issuer}/none`)).toEqual([]);
    });

    it("findOrCreateJwtUser: null when unknown and not created; created once, then found by subject in its workspace only", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const ids = () => newId("usr");
      expect(await store.tenants.findOrCreateJwtUser(ws, "sub-1", "a@example.net", false, ids)).toBeNull();
      expect(await usersOf(exec, ws)).toEqual([]);

      const created = await store.tenants.findOrCreateJwtUser(ws, "sub-1", "a@example.net", true, ids);
      expect(await usersOf(exec, ws)).toEqual([{ id: created!.id, email: "a@example.net", externalId: "sub-1" }]);
      // Found by the subject, whatever email the token carries now.
      expect(await store.tenants.findOrCreateJwtUser(ws, "sub-1", "new@example.net", true, ids)).toEqual(created);
      expect(await store.tenants.findOrCreateJwtUser(ws, "sub-1", null, false, ids)).toEqual(created);
      // The same subject in another workspace is another user.
      const theirs = await store.tenants.findOrCreateJwtUser(other, "sub-1", "a@example.net", true, ids);
      expect(theirs!.id).not.toBe(created!.id);
      expect((await usersOf(exec, ws)).length).toBe(1);
    });

    it("findOrCreateJwtUser: never matched on the email claim; a taken email gets a placeholder address; no email: a placeholder", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const existing = await userWith(exec, ws, "taken@example.net", null);
      const user = await store.tenants.findOrCreateJwtUser(ws, "sub-2", "taken@example.net", true, () => newId("usr"));
      expect(user!.id).not.toBe(existing);
      const noEmail = await store.tenants.findOrCreateJwtUser(ws, "sub-3", null, true, () => newId("usr"));
      expect(await usersOf(exec, ws)).toEqual(
        [
          { id: existing, email: "taken@example.net", externalId: null },
          { id: user!.id, email: `${user!.id}@jwt.invalid`, externalId: "sub-2" },
          { id: noEmail!.id, email: `${noEmail!.id}@jwt.invalid`, externalId: "sub-3" },
        ].sort((x, y) => (x.email < y.email ? -1 : 1)),
      );
    });
  });

  describe("tenants: LLM settings", () => {
    it("setLlmApiKeyEnc stores and removes the ciphertext, keeping the other security settings; llmApiKeySet says whether one is stored", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      expect(await store.tenants.llmApiKeySet(ws)).toBe(false);
      await store.tenants.setLlmApiKeyEnc(ws, "v1.ciphertext", 10);
      expect(await store.tenants.llmApiKeySet(ws)).toBe(true);
      expect(await store.tenants.llmApiKeySet(other)).toBe(false);
      expect(await securityState(exec, ws)).toMatchObject({ llmApiKeyEnc: "v1.ciphertext", updatedAt: 10 });

      await store.tenants.upsertSecurity(ws, { retentionDays: 9 }, 20);
      await store.tenants.setLlmApiKeyEnc(ws, "v1.other", 30);
      expect(await securityState(exec, ws)).toMatchObject({ llmApiKeyEnc: "v1.other", retentionDays: 9, updatedAt: 30 });
      await store.tenants.setLlmApiKeyEnc(ws, null, 40);
      expect(await store.tenants.llmApiKeySet(ws)).toBe(false);
      expect(await securityState(exec, ws)).toMatchObject({ llmApiKeyEnc: null, retentionDays: 9, updatedAt: 40 });
      expect(await securityState(exec, other)).toBeUndefined();
    });
  });
}

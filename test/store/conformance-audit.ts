// The store conformance suite's audit cases (db/store/audit.ts), run against every backend: rows
// are appended and read back per workspace, newest first, filtered and paged by (created_at, id);
// and the database itself refuses to change or remove one (the store offers no way to).
import { describe, expect, it } from "vitest";
import { newId } from "../../core/ids";
import type { NewAuditRow } from "../../db/store/audit";
import { open, type BackendFactory } from "./conformance-support";
import { auditState } from "./seed-tenants";

const row = (workspaceId: string | null, createdAt: number, extra: Partial<NewAuditRow> = {}): NewAuditRow => ({
  id: newId("aud"),
  workspaceId,
  actor: "api_key:key_1",
  credentialId: "key_1",
  action: "provider.create",
  resource: "/v1/providers",
  ip: "203.0.113.9",
  outcome: "success",
  requestId: "req_1",
  detail: { method: "POST", status: 201 },
  createdAt,
  ...extra,
});

export function auditConformance(backend: BackendFactory): void {
  describe("audit", () => {
    it("append, then list: the row as written, in its workspace only", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const written = row(ws, 1_000, { detail: { method: "GET", status: 200, note: "ü" }, ip: null, requestId: null, credentialId: null });
      await store.audit.append(written);
      expect(await store.audit.list(ws, { limit: 10 })).toEqual([written]);
      expect(await store.audit.list(other, { limit: 10 })).toEqual([]);
    });

    it("a platform row without a workspace is listed for none", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const platform = row(null, 2_000, { actor: "platform_admin", action: "platform.workspace.create" });
      await store.audit.append(platform);
      expect(await auditState(exec, platform.id)).toMatchObject({ workspaceId: null, actor: "platform_admin" });
      expect(await store.audit.list(ws, { limit: 10 })).toEqual([]);
    });

    it("list: newest first, ties by id; action, since and until (inclusive) filter; `before` pages; limit caps", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const tiedIds = [newId("aud"), newId("aud")].sort();
      const rows = [
        row(ws, 100),
        row(ws, 200, { action: "api_key.create" }),
        row(ws, 300, { id: tiedIds[0] }),
        row(ws, 300, { id: tiedIds[1], outcome: "denied" }),
        row(ws, 400, { outcome: "error" }),
      ];
      for (const r of rows) await store.audit.append(r);
      const ids = (got: { id: string }[]) => got.map((r) => r.id);
      const [r100, r200, r300a, r300b, r400] = rows.map((r) => r.id);

      expect(ids(await store.audit.list(ws, { limit: 10 }))).toEqual([r400, r300b, r300a, r200, r100]);
      expect(ids(await store.audit.list(ws, { limit: 2 }))).toEqual([r400, r300b]);
      expect(ids(await store.audit.list(ws, { action: "api_key.create", limit: 10 }))).toEqual([r200]);
      expect(ids(await store.audit.list(ws, { since: 200, until: 300, limit: 10 }))).toEqual([r300b, r300a, r200]);
      // The next page after the first of the tied rows holds the other one.
      expect(ids(await store.audit.list(ws, { before: { createdAt: 300, id: r300b! }, limit: 10 }))).toEqual([r300a, r200, r100]);
      expect(ids(await store.audit.list(ws, { before: { createdAt: 300, id: r300a! }, limit: 1 }))).toEqual([r200]);
      expect(ids(await store.audit.list(ws, { before: { createdAt: 300, id: r300a! }, since: 150, action: "provider.create", limit: 10 }))).toEqual([]);
    });

    it("append-only: an UPDATE and a DELETE behind the store's back are refused and the row stays as written", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const written = row(ws, 5_000);
      await store.audit.append(written);
      const before = await auditState(exec, written.id);
      expect(before).toMatchObject({ workspaceId: ws, outcome: "success", detail: { method: "POST", status: 201 }, createdAt: 5_000 });

      await expect(exec.run(`UPDATE audit_logs SET outcome = 'denied' WHERE id = ?`, [written.id])).rejects.toThrow(/append-only/);
      await expect(exec.run(`DELETE FROM audit_logs WHERE id = ?`, [written.id])).rejects.toThrow(/append-only/);
      expect(await auditState(exec, written.id)).toEqual(before);
      expect(await store.audit.list(ws, { limit: 10 })).toEqual([written]);
    });

    it("the store offers no way to change or remove a row", async () => {
      const { store } = await open(backend);
      expect(Object.keys(store.audit).sort()).toEqual(["append", "list"]);
    });
  });
}

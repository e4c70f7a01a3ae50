// Conformance: the retention group (workspaces, expiredBodies, markPurged, purgeLlmCache). Each
// workspace is handled on its own retention and its own rows: another workspace's ids are left
// untouched; the purge and its audit row are written together or not at all.
import { describe, expect, it } from "vitest";
import { newId } from "../../core/ids";
import type { PurgeAudit } from "../../db/store/retention";
import type { Backend } from "./conformance-support";
import { open, sorted, type BackendFactory } from "./conformance-support";

const DAY = 86_400_000;

interface Content {
  bodyEnc: string | null;
  bodyR2Key: string | null;
  bodyPurgedAt: number | null;
  updatedAt: number;
  filenames: string[];
}

const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const parsed = (v: unknown) => (typeof v === "string" ? (JSON.parse(v) as unknown) : v);

/** A message with content: an inline body, maybe an R2 key, an attachment. */
async function withContent(b: Backend, workspaceId: string, m: Parameters<Backend["seed"]["message"]>[1], r2 = false): Promise<string> {
  const { id } = await b.seed.message(workspaceId, m);
  await b.exec.run("UPDATE messages SET body_enc = ?, body_r2_key = ? WHERE id = ?", [`enc:${id}`, r2 ? `bodies/${workspaceId}/${id}` : null, id]);
  await b.exec.run("INSERT INTO attachments (id, message_id, workspace_id, filename_enc, content_type, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", [
    newId("att"),
    id,
    workspaceId,
    `name:${id}`,
    "application/pdf",
    10,
    1,
  ]);
  return id;
}

async function content(b: Backend, id: string): Promise<Content> {
  const [m] = await b.exec.all("SELECT body_enc, body_r2_key, body_purged_at, updated_at FROM messages WHERE id = ?", [id]);
  const atts = await b.exec.all("SELECT filename_enc FROM attachments WHERE message_id = ?", [id]);
  return {
    bodyEnc: (m!.body_enc as string | null) ?? null,
    bodyR2Key: (m!.body_r2_key as string | null) ?? null,
    bodyPurgedAt: numOrNull(m!.body_purged_at),
    updatedAt: Number(m!.updated_at),
    filenames: atts.map((a) => String(a.filename_enc)),
  };
}

const audit = (extra: Partial<PurgeAudit> = {}): PurgeAudit => ({
  id: newId("aud"),
  actor: "system:retention",
  credentialId: null,
  action: "retention.bodies_purged",
  resource: "workspace:x",
  ip: null,
  outcome: "success",
  requestId: null,
  detail: { messages: 2, retention_days: 7 },
  ...extra,
});

async function auditRows(b: Backend, workspaceId: string) {
  const rows = await b.exec.all("SELECT id, workspace_id, actor, action, outcome, detail, created_at FROM audit_logs WHERE workspace_id = ? ORDER BY id", [workspaceId]);
  return rows.map((r) => ({ id: r.id, workspaceId: r.workspace_id, actor: r.actor, action: r.action, outcome: r.outcome, detail: parsed(r.detail), createdAt: Number(r.created_at) }));
}

export function retentionConformance(backend: BackendFactory): void {
  describe("retention.workspaces", () => {
    it("lists every workspace with its own retention, the default (30 days) when it set none", async () => {
      const b = await open(backend);
      const A = await b.seed.workspace();
      const B = await b.seed.workspace();
      const C = await b.seed.workspace();
      await b.exec.run("INSERT INTO workspace_security (workspace_id, retention_days, updated_at) VALUES (?, ?, ?)", [A, 7, 1]);
      // A security row that leaves retention unset is the default too.
      await b.exec.run("INSERT INTO workspace_security (workspace_id, retention_days, updated_at) VALUES (?, ?, ?)", [C, null, 1]);
      const got = (await b.store.retention.workspaces()).filter((w) => [A, B, C].includes(w.workspaceId));
      expect(got.sort((x, y) => (x.workspaceId < y.workspaceId ? -1 : 1))).toEqual(
        [
          { workspaceId: A, days: 7 },
          { workspaceId: B, days: 30 },
          { workspaceId: C, days: 30 },
        ].sort((x, y) => (x.workspaceId < y.workspaceId ? -1 : 1)),
      );
    });
  });

  describe("retention.expiredBodies", () => {
    it("the workspace's final messages queued before the cutoff and not purged yet, with their R2 key; never a pending one; at most `limit`", async () => {
      const b = await open(backend);
      const A = await b.seed.workspace();
      const B = await b.seed.workspace();
      const cutoff = Date.now() - 7 * DAY;
      const old = cutoff - 1;
      const due = [
        await withContent(b, A, { status: "sent", recipients: [{ status: "sent" }], queuedAt: old }, true),
        await withContent(b, A, { status: "partially_failed", recipients: [{ status: "sent" }, { status: "failed" }], queuedAt: old - DAY }),
        await withContent(b, A, { status: "failed", recipients: [{ status: "failed" }], queuedAt: old }),
        await withContent(b, A, { status: "cancelled", recipients: [{ status: "cancelled" }], queuedAt: old }),
      ];
      // Still owed a delivery, however old; at the cutoff (not before it); already purged; another workspace's.
      for (const status of ["queued", "sending", "deferred"] as const) await withContent(b, A, { status, recipients: [{ status }], queuedAt: old - 30 * DAY });
      await withContent(b, A, { status: "sent", recipients: [{ status: "sent" }], queuedAt: cutoff });
      const purged = await withContent(b, A, { status: "sent", recipients: [{ status: "sent" }], queuedAt: old });
      await b.exec.run("UPDATE messages SET body_purged_at = ? WHERE id = ?", [old, purged]);
      await withContent(b, B, { status: "sent", recipients: [{ status: "sent" }], queuedAt: old });

      const got = await b.store.retention.expiredBodies(A, cutoff, 100);
      expect(sorted(got.map((m) => m.id))).toEqual(sorted(due));
      expect(got.find((m) => m.id === due[0])).toEqual({ id: due[0], bodyR2Key: `bodies/${A}/${due[0]}` });
      expect(got.find((m) => m.id === due[1])).toEqual({ id: due[1], bodyR2Key: null });

      const two = await b.store.retention.expiredBodies(A, cutoff, 2);
      expect(two).toHaveLength(2);
      for (const m of two) expect(due).toContain(m.id);
      expect(await b.store.retention.expiredBodies(await b.seed.workspace(), cutoff, 100)).toEqual([]);
    });
  });

  describe("retention.markPurged", () => {
    it("drops the content of the workspace's messages, marks them purged and appends the audit row; another workspace's ids are untouched", async () => {
      const b = await open(backend);
      const A = await b.seed.workspace();
      const B = await b.seed.workspace();
      const queuedAt = Date.now() - 40 * DAY;
      const ms = { status: "sent" as const, recipients: [{ status: "sent" as const }], queuedAt };
      const [a1, a2, kept] = [await withContent(b, A, ms, true), await withContent(b, A, ms), await withContent(b, A, ms)];
      const foreign = await withContent(b, B, ms, true);
      const at = Date.now();
      const row = audit({ resource: `workspace:${A}` });

      await b.store.retention.markPurged(A, [a1, a2, foreign], at, row);

      for (const id of [a1, a2]) expect(await content(b, id)).toEqual({ bodyEnc: null, bodyR2Key: null, bodyPurgedAt: at, updatedAt: at, filenames: [""] });
      expect(await content(b, kept)).toEqual({ bodyEnc: `enc:${kept}`, bodyR2Key: null, bodyPurgedAt: null, updatedAt: queuedAt, filenames: [`name:${kept}`] });
      expect(await content(b, foreign)).toEqual({ bodyEnc: `enc:${foreign}`, bodyR2Key: `bodies/${B}/${foreign}`, bodyPurgedAt: null, updatedAt: queuedAt, filenames: [`name:${foreign}`] });
      // The audit row is the purge's workspace's, at the purge's time.
      expect(await auditRows(b, A)).toEqual([{ id: row.id, workspaceId: A, actor: "system:retention", action: "retention.bodies_purged", outcome: "success", detail: { messages: 2, retention_days: 7 }, createdAt: at }]);
      expect(await auditRows(b, B)).toEqual([]);
      // Purged messages are no longer expired.
      expect((await b.store.retention.expiredBodies(A, at, 100)).map((m) => m.id)).toEqual([kept]);
    });

    it("without an audit row it purges only; with no ids it writes nothing, not even the audit row", async () => {
      const b = await open(backend);
      const ws = await b.seed.workspace();
      const id = await withContent(b, ws, { status: "failed", recipients: [{ status: "failed" }], queuedAt: 5 });
      await b.store.retention.markPurged(ws, [id], 77);
      expect(await content(b, id)).toMatchObject({ bodyEnc: null, bodyPurgedAt: 77, filenames: [""] });
      await b.store.retention.markPurged(ws, [], 78, audit());
      expect(await auditRows(b, ws)).toEqual([]);
    });

    it("purges a full job's batch (more ids than D1 binds in one statement)", async () => {
      const b = await open(backend);
      const ws = await b.seed.workspace();
      const ids: string[] = [];
      for (let i = 0; i < 201; i++) ids.push((await b.seed.message(ws, { status: "sent", recipients: [{ status: "sent" }], queuedAt: 5 })).id);
      await b.exec.run("UPDATE messages SET body_enc = 'enc' WHERE workspace_id = ?", [ws]);
      await b.store.retention.markPurged(ws, ids, 90, audit());
      const [left] = await b.exec.all("SELECT COUNT(*) AS n FROM messages WHERE workspace_id = ? AND (body_enc IS NOT NULL OR body_purged_at IS NULL)", [ws]);
      expect(Number(left!.n)).toBe(0);
      expect(await auditRows(b, ws)).toHaveLength(1);
    });

    it("all or nothing: when the audit row cannot be written, no content is dropped", async () => {
      const b = await open(backend);
      const ws = await b.seed.workspace();
      const id = await withContent(b, ws, { status: "sent", recipients: [{ status: "sent" }], queuedAt: 5 }, true);
      const first = audit();
      await b.store.retention.markPurged(ws, [await withContent(b, ws, { status: "sent", recipients: [{ status: "sent" }], queuedAt: 5 })], 50, first);
      // The same audit id again: the append fails (primary key), so the purge beside it must not stay.
      await expect(b.store.retention.markPurged(ws, [id], 60, audit({ id: first.id }))).rejects.toThrow();
      expect(await content(b, id)).toEqual({ bodyEnc: `enc:${id}`, bodyR2Key: `bodies/${ws}/${id}`, bodyPurgedAt: null, updatedAt: 5, filenames: [`name:${id}`] });
      expect((await auditRows(b, ws)).map((r) => r.createdAt)).toEqual([50]);
    });
  });

  describe("retention.purgeLlmCache", () => {
    it("deletes the workspace's cached answers created before `before`, and says how many; another workspace's stay", async () => {
      const b = await open(backend);
      const A = await b.seed.workspace();
      const B = await b.seed.workspace();
      const put = (ws: string, hash: string, createdAt: number) =>
        b.exec.run("INSERT INTO llm_cache (workspace_id, content_hash, output_enc, model, created_at) VALUES (?, ?, ?, ?, ?)", [ws, hash, "enc", "m", createdAt]);
      await put(A, "h1", 100);
      await put(A, "h2", 150);
      await put(A, "h3", 200);
      await put(B, "h1", 100);
      expect(await b.store.retention.purgeLlmCache(A, 200)).toBe(2);
      const left = async (ws: string) => (await b.exec.all("SELECT content_hash FROM llm_cache WHERE workspace_id = ? ORDER BY content_hash", [ws])).map((r) => r.content_hash);
      expect(await left(A)).toEqual(["h3"]);
      expect(await left(B)).toEqual(["h1"]);
      expect(await b.store.retention.purgeLlmCache(A, 200)).toBe(0);
    });
  });
}

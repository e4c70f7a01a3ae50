// Conformance: the recipients group (db/store/recipients.ts): records, suppression status,
// deletion and erasure here; lists and members in conformance-recipients-lists.ts. Every case
// also gives another workspace's id and sees nothing found and nothing changed.
import { describe, expect, it } from "vitest";
import { newId } from "../../core/ids";
import type { RecipientRow } from "../../db/store/recipients";
import { open, sorted, type BackendFactory } from "./conformance-support";
import { recipientListsConformance } from "./conformance-recipients-lists";
import { recipientSeeds } from "./seed-recipients";

export function recipientsConformance(backend: BackendFactory): void {
  describe("recipients: records", () => {
    it("upsertRecipients creates records and updates known ones: undefined keeps a field, null clears it; recipient() reads the whole row", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const a = newId("rcp");
      const b = newId("rcp");
      await store.recipients.upsertRecipients(ws, [{ id: a, email: "Ann@Example.net", firstNameEnc: "fn-a", lastNameEnc: "ln-a", fieldsEnc: "f-a", metadata: { plan: "gold" } }], 1000);
      const created = await store.recipients.recipient(ws, a);
      expect(created).toEqual({
        id: a,
        workspaceId: ws,
        email: "Ann@Example.net",
        status: "active",
        bounceCount: 0,
        firstNameEnc: "fn-a",
        lastNameEnc: "ln-a",
        fieldsEnc: "f-a",
        metadata: { plan: "gold" },
        campaignId: null,
        createdAt: 1000,
        updatedAt: 1000,
      } satisfies RecipientRow);

      // One call: an update of the known record (last name cleared, first name and metadata kept) and a new one.
      await store.recipients.upsertRecipients(
        ws,
        [
          { id: a, email: "Ann@Example.net", lastNameEnc: null, fieldsEnc: "f-a2" },
          { id: b, email: "bob@example.net" },
        ],
        2000,
      );
      expect(await s.recordRow(a)).toMatchObject({ firstNameEnc: "fn-a", lastNameEnc: null, fieldsEnc: "f-a2", metadata: { plan: "gold" }, createdAt: 1000, updatedAt: 2000 });
      expect(await s.recordRow(b)).toMatchObject({ workspaceId: ws, email: "bob@example.net", firstNameEnc: null, metadata: {}, status: "active", createdAt: 2000, updatedAt: 2000 });
      await store.recipients.upsertRecipients(ws, [{ id: b, email: "bob@example.net", metadata: { a: "1" } }], 3000);
      expect(await s.recordRow(b)).toMatchObject({ metadata: { a: "1" }, updatedAt: 3000 });
      await store.recipients.upsertRecipients(ws, [], 4000);

      const other = await seed.workspace();
      expect(await store.recipients.recipient(other, a)).toBeUndefined();
    });

    it("upsertRecipients refuses a new record whose address another record has, and writes nothing of that call", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const known = await s.record(ws, { email: "taken@example.net", firstNameEnc: "mine" });
      const fresh = newId("rcp");
      await expect(
        store.recipients.upsertRecipients(
          ws,
          [
            { id: known, email: "taken@example.net", firstNameEnc: "changed" },
            { id: fresh, email: "taken@example.net", firstNameEnc: "bound-to-another-id" },
          ],
          5000,
        ),
      ).rejects.toThrow();
      expect(await s.recordRow(known)).toMatchObject({ firstNameEnc: "mine", updatedAt: 1 });
      expect(await s.recordRow(fresh)).toBeUndefined();
    });

    it("upsertRecipients never changes another workspace's record, even given its id", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const mine = await seed.workspace();
      const other = await seed.workspace();
      const theirs = await s.record(other, { email: "theirs@example.net", firstNameEnc: "theirs" });
      const before = await s.recordRow(theirs);
      // D1 leaves the row alone; MySQL refuses the insert on the primary key. Either way: untouched, nothing added.
      await store.recipients.upsertRecipients(mine, [{ id: theirs, email: "theirs@example.net", firstNameEnc: "overwritten" }], 6000).catch(() => undefined);
      expect(await s.recordRow(theirs)).toEqual(before);
      expect(await s.recordsWith(mine, "theirs@example.net")).toEqual([]);
    });

    it("recipientsByEmails matches addresses case-insensitively, once each, in the workspace only", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const a = await s.record(ws, { email: "Carol@Example.NET" });
      const b = await s.record(ws, { email: "dave@example.net" });
      await s.record(other, { email: "erin@example.net" });
      const got = await store.recipients.recipientsByEmails(ws, ["carol@example.net", "CAROL@EXAMPLE.NET", "Dave@Example.Net", "erin@example.net", "nobody@example.net"]);
      expect(sorted(got.map((r) => r.id))).toEqual(sorted([a, b]));
      expect(got.find((r) => r.id === a)).toMatchObject({ email: "Carol@Example.NET", workspaceId: ws, metadata: {} });
      for (const r of got) expect(r).not.toHaveProperty("emailLower");
      expect(await store.recipients.recipientsByEmails(ws, [])).toEqual([]);
      expect(await store.recipients.recipientsByEmails(other, ["carol@example.net"])).toEqual([]);
    });

    it("listRecipients: newest first, keyset pages, by status or suppressed only, in the workspace only", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const r1 = await s.record(ws, { email: "l1@example.net", createdAt: 100 });
      const r2 = await s.record(ws, { email: "l2@example.net", createdAt: 200, status: "bounced" });
      const r3 = await s.record(ws, { email: "l3@example.net", createdAt: 200, status: "unsubscribed" });
      const r4 = await s.record(ws, { email: "l4@example.net", createdAt: 300 });
      await s.record(other, { email: "l5@example.net", createdAt: 400, status: "bounced" });
      const [hi, lo] = r2 > r3 ? [r2, r3] : [r3, r2];
      const ids = async (f: Parameters<typeof store.recipients.listRecipients>[1]) => (await store.recipients.listRecipients(ws, f)).map((r) => r.id);
      expect(await ids({ limit: 10 })).toEqual([r4, hi, lo, r1]);
      expect(await ids({ limit: 2 })).toEqual([r4, hi]);
      expect(await ids({ limit: 10, before: { createdAt: 200, id: hi } })).toEqual([lo, r1]);
      expect(await ids({ limit: 10, status: "bounced" })).toEqual([r2]);
      expect(await ids({ limit: 10, suppressedOnly: true })).toEqual([hi, lo]);
      expect((await store.recipients.listRecipients(ws, { limit: 1 }))[0]).toMatchObject({ id: r4, email: "l4@example.net", workspaceId: ws, status: "active" });
    });

    it("setRecipientStatus sets the status with its event, together; active resets the bounce count; another workspace's id is not found", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const id = await s.record(ws, { email: "sup@example.net", bounceCount: 3, status: "bounced" });
      expect(await store.recipients.setRecipientStatus(other, id, "active", 7000, `evt_x${id}`)).toBeUndefined();
      expect(await s.recordRow(id)).toMatchObject({ status: "bounced", bounceCount: 3, updatedAt: 1 });
      expect(await s.eventExists(`evt_x${id}`)).toBe(false);

      const suppressed = await store.recipients.setRecipientStatus(ws, id, "complained", 8000, `evt_c1${id}`);
      expect(suppressed).toMatchObject({ id, workspaceId: ws, status: "complained", bounceCount: 3, updatedAt: 8000 });
      const active = await store.recipients.setRecipientStatus(ws, id, "active", 9000, `evt_c2${id}`);
      expect(active).toMatchObject({ status: "active", bounceCount: 0, updatedAt: 9000 });
      expect(active).not.toHaveProperty("emailLower");
      expect(await s.eventsOf(id)).toEqual([
        { id: `evt_c2${id}`, workspaceId: ws, type: "reactivated", detail: { status: "active", source: "api" }, createdAt: 9000 },
        { id: `evt_c1${id}`, workspaceId: ws, type: "suppressed", detail: { status: "complained", source: "api" }, createdAt: 8000 },
      ]);
    });

    it("deleteRecipient removes the record, its events and its memberships; another workspace's id is not found", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const id = await s.record(ws, { email: "del@example.net" });
      const keep = await s.record(ws, { email: "keep@example.net" });
      const list = await s.list(ws, "del-list");
      await s.member(ws, list, id);
      await s.member(ws, list, keep);
      await s.event(ws, { recipientId: id });
      await s.event(ws, { recipientId: keep });

      expect(await store.recipients.deleteRecipient(other, id)).toBe(false);
      expect(await s.recordRow(id)).toBeDefined();
      expect(await s.listsOf(id)).toEqual([list]);

      expect(await store.recipients.deleteRecipient(ws, id)).toBe(true);
      expect(await s.recordRow(id)).toBeUndefined();
      expect(await s.eventsOf(id)).toEqual([]);
      expect(await s.listsOf(id)).toEqual([]);
      expect(await s.listsOf(keep)).toEqual([list]);
      expect(await s.eventsOf(keep)).toHaveLength(1);
      expect(await store.recipients.deleteRecipient(ws, id)).toBe(false);
    });
  });

  describe("recipients: erasure", () => {
    it("erases the address from finished messages, their events, first answers and bodies, then the profile; pending messages and other workspaces are left alone", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const done = await seed.message(ws, { status: "sent", recipients: [{ email: "Subject@Example.net", status: "sent" }, { email: "kept@example.net", status: "sent" }] });
      const pending = await seed.message(ws, { status: "queued", recipients: [{ email: "subject@example.net" }] });
      const theirs = await seed.message(other, { status: "sent", recipients: [{ email: "subject@example.net", status: "sent" }] });
      await s.setBody(done.id, `bodies/${done.id}`);
      await s.attempt(ws, done.id, ["Subject@Example.net", "kept@example.net"]);
      await s.attempt(ws, done.id, ["kept@example.net"]);
      await s.idempotency(ws, `k-${done.id}`, done.id);
      await s.idempotency(ws, `k-${pending.id}`, pending.id);
      const doneEvent = await s.event(ws, { messageRecipientId: done.recipientIds[0], messageId: done.id, type: "delivery.sent" });
      const keptEvent = await s.event(ws, { messageRecipientId: done.recipientIds[1], messageId: done.id, type: "delivery.sent" });
      const profile = await s.record(ws, { email: "SUBJECT@example.net" });
      await s.event(ws, { recipientId: profile });
      const theirProfile = await s.record(other, { email: "subject@example.net" });

      const deleted: string[][] = [];
      const result = await store.recipients.eraseRecipient(ws, "subject@example.net", "erased:tok", 10_000, async (keys) => void deleted.push(keys));
      expect(result).toEqual({ messages: 1, pending: 1, profiles: 1 });
      expect(deleted).toEqual([[`bodies/${done.id}`, `rendered/${ws}/${done.id}`]]);
      expect((await seed.recipients(done.id)).map((r) => r.email).sort()).toEqual(["erased:tok", "kept@example.net"]);
      expect(await s.messageBody(done.id)).toEqual({ toEmails: ["erased:tok", "kept@example.net"], bodyR2Key: null, bodyEnc: null, purgedAt: 10_000 });
      expect(sorted((await s.attemptRecipients(done.id)).map((r) => r.join(",")))).toEqual(sorted(["erased:tok,kept@example.net", "kept@example.net"]));
      expect(await s.eventExists(doneEvent)).toBe(false);
      expect(await s.eventExists(keptEvent)).toBe(true);
      expect(await s.idempotencyKeys(ws)).toEqual([`k-${pending.id}`]);
      expect(await s.recordRow(profile)).toBeUndefined();
      expect(await s.eventsOf(profile)).toEqual([]);
      // Still being delivered: untouched.
      expect((await seed.recipients(pending.id)).map((r) => r.email)).toEqual(["subject@example.net"]);
      // Another workspace: untouched.
      expect((await seed.recipients(theirs.id)).map((r) => r.email)).toEqual(["subject@example.net"]);
      expect(await s.recordRow(theirProfile)).toBeDefined();

      // Again: nothing left to erase but the pending message.
      expect(await store.recipients.eraseRecipient(ws, "subject@example.net", "erased:tok", 11_000, async () => {})).toEqual({ messages: 0, pending: 1, profiles: 0 });
    });

    it("erases from more finished messages than one statement binds on D1 (120)", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const ids: string[] = [];
      for (let i = 0; i < 120; i++) {
        const m = await seed.message(ws, { status: "sent", recipients: [{ email: "many@example.net", status: "sent" }] });
        ids.push(m.id);
      }
      await s.attempt(ws, ids[119]!, ["many@example.net"]);
      await s.idempotency(ws, `k-${ids[110]}`, ids[110]!);
      const keys: string[] = [];
      expect(await store.recipients.eraseRecipient(ws, "many@example.net", "erased:m", 14_000, async (k) => void keys.push(...k))).toEqual({ messages: 120, pending: 0, profiles: 0 });
      expect(keys).toHaveLength(120);
      expect((await exec.all(`SELECT count(*) AS n FROM message_recipients WHERE workspace_id = ? AND email = ?`, [ws, "erased:m"])).map((r) => Number(r.n))).toEqual([120]);
      expect((await exec.all(`SELECT count(*) AS n FROM messages WHERE workspace_id = ? AND body_purged_at = ?`, [ws, 14_000])).map((r) => Number(r.n))).toEqual([120]);
      expect(await s.messageBody(ids[119]!)).toMatchObject({ toEmails: ["erased:m"] });
      expect(await s.attemptRecipients(ids[119]!)).toEqual([["erased:m"]]);
      expect(await s.idempotencyKeys(ws)).toEqual([]);
    });

    it("when the bodies cannot be deleted, they stay unpurged (never marked purged with objects left) and the profile stays until an erasure completes", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const m = await seed.message(ws, { status: "failed", recipients: [{ email: "retry@example.net", status: "failed" }] });
      await s.setBody(m.id, `bodies/${m.id}`);
      const profile = await s.record(ws, { email: "retry@example.net" });
      await expect(store.recipients.eraseRecipient(ws, "retry@example.net", "erased:r", 12_000, async () => Promise.reject(new Error("R2 down")))).rejects.toThrow("R2 down");
      expect(await s.messageBody(m.id)).toMatchObject({ bodyR2Key: `bodies/${m.id}`, purgedAt: null });
      expect(await s.recordRow(profile)).toBeDefined();

      // The records were rewritten before the failure (that write is complete on its own): the
      // message no longer holds the address, so erasing again completes with the profile.
      expect((await seed.recipients(m.id)).map((r) => r.email)).toEqual(["erased:r"]);
      expect(await store.recipients.eraseRecipient(ws, "retry@example.net", "erased:r", 13_000, async () => {})).toEqual({ messages: 0, pending: 0, profiles: 1 });
      expect(await s.recordRow(profile)).toBeUndefined();
    });
  });

  recipientListsConformance(backend);
}

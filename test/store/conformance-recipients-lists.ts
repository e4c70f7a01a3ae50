// Conformance: recipient lists and their members (db/store/recipients.ts, the lists part).
// Names are unique per workspace (a duplicate is an outcome, not an error); members are the
// workspace's records only; adding is all or nothing and leaves existing members as they are.
import { describe, expect, it } from "vitest";
import { newId } from "../../core/ids";
import { open, sorted, type BackendFactory } from "./conformance-support";
import { recipientSeeds } from "./seed-recipients";

export function recipientListsConformance(backend: BackendFactory): void {
  describe("recipients: lists", () => {
    it("createList: the row; a taken name in the workspace is `duplicate`, in another workspace it is free", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const id = newId("lst");
      expect(await store.recipients.createList(ws, { id, name: "Patients", createdAt: 500 })).toEqual({ status: "created", list: { id, workspaceId: ws, name: "Patients", createdAt: 500 } });
      expect(await store.recipients.list(ws, id)).toEqual({ id, workspaceId: ws, name: "Patients", createdAt: 500 });
      expect(await store.recipients.createList(ws, { id: newId("lst"), name: "Patients", createdAt: 600 })).toEqual({ status: "duplicate" });
      // Names compare exactly: another case is another name.
      expect((await store.recipients.createList(ws, { id: newId("lst"), name: "patients", createdAt: 600 })).status).toBe("created");
      expect((await store.recipients.createList(other, { id: newId("lst"), name: "Patients", createdAt: 600 })).status).toBe("created");
      expect(await store.recipients.list(other, id)).toBeUndefined();
    });

    it("listLists: newest first, keyset pages, in the workspace only", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const l1 = await s.list(ws, "one", 10);
      const l2 = await s.list(ws, "two", 20);
      const l3 = await s.list(ws, "three", 20);
      await s.list(other, "theirs", 30);
      const [hi, lo] = l2 > l3 ? [l2, l3] : [l3, l2];
      expect((await store.recipients.listLists(ws, { limit: 10 })).map((l) => l.id)).toEqual([hi, lo, l1]);
      expect((await store.recipients.listLists(ws, { limit: 10, before: { createdAt: 20, id: hi } })).map((l) => l.id)).toEqual([lo, l1]);
      expect((await store.recipients.listLists(ws, { limit: 1 }))[0]).toEqual({ id: hi, workspaceId: ws, name: hi === l2 ? "two" : "three", createdAt: 20 });
    });

    it("renameList: the renamed row; a taken name is `duplicate` and changes nothing; another workspace's list is not found", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const a = await s.list(ws, "a", 5);
      await s.list(ws, "b");
      expect(await store.recipients.renameList(ws, a, "c")).toEqual({ status: "renamed", list: { id: a, workspaceId: ws, name: "c", createdAt: 5 } });
      expect(await store.recipients.renameList(ws, a, "c")).toEqual({ status: "renamed", list: { id: a, workspaceId: ws, name: "c", createdAt: 5 } });
      expect(await store.recipients.renameList(ws, a, "b")).toEqual({ status: "duplicate" });
      expect(await s.listName(a)).toBe("c");
      expect(await store.recipients.renameList(other, a, "d")).toBeUndefined();
      expect(await s.listName(a)).toBe("c");
    });

    it("deleteList removes the list and its memberships, not the recipients; another workspace's list is not found", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const list = await s.list(ws, "to-delete");
      const kept = await s.list(ws, "kept");
      const r = await s.record(ws, { email: "member@example.net" });
      await s.member(ws, list, r);
      await s.member(ws, kept, r);
      expect(await store.recipients.deleteList(other, list)).toBe(false);
      expect(await s.members(list)).toHaveLength(1);
      expect(await store.recipients.deleteList(ws, list)).toBe(true);
      expect(await store.recipients.list(ws, list)).toBeUndefined();
      expect(await s.members(list)).toEqual([]);
      expect(await s.listsOf(r)).toEqual([kept]);
      expect(await s.recordRow(r)).toBeDefined();
      expect(await store.recipients.deleteList(ws, list)).toBe(false);
    });

    it("listMembers pages by recipient id with address and status; memberCounts counts per list; removeMember removes one", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const list = await s.list(ws, "members");
      const empty = await s.list(ws, "empty");
      const ids: string[] = [];
      for (const [i, status] of (["active", "bounced", "active"] as const).entries()) {
        const id = await s.record(ws, { email: `m${i}@example.net`, status });
        await s.member(ws, list, id, 100 + i);
        ids.push(id);
      }
      const byId = sorted(ids);
      const page1 = await store.recipients.listMembers(ws, list, { limit: 2 });
      expect(page1.map((m) => m.recipientId)).toEqual(byId.slice(0, 2));
      const i0 = ids.indexOf(byId[0]!);
      expect(page1[0]).toEqual({ recipientId: byId[0], email: `m${i0}@example.net`, status: i0 === 1 ? "bounced" : "active", addedAt: 100 + i0 });
      expect((await store.recipients.listMembers(ws, list, { limit: 2, after: byId[1] })).map((m) => m.recipientId)).toEqual(byId.slice(2));
      expect(await store.recipients.listMembers(other, list, { limit: 10 })).toEqual([]);

      expect(await store.recipients.memberCounts(ws, [list, empty])).toEqual(new Map([[list, 3]]));
      expect(await store.recipients.memberCounts(ws, [])).toEqual(new Map());
      expect(await store.recipients.memberCounts(other, [list])).toEqual(new Map());

      expect(await store.recipients.removeMember(other, list, ids[0]!)).toBe(false);
      expect(await store.recipients.removeMember(ws, list, ids[0]!)).toBe(true);
      expect(await store.recipients.removeMember(ws, list, ids[0]!)).toBe(false);
      expect(sorted((await s.members(list)).map((m) => m.recipientId))).toEqual(sorted(ids.slice(1)));
      expect(await s.recordRow(ids[0]!)).toBeDefined();
    });

    it("lookupMembers: records by address (case-insensitively) and by id, and who is on the list, in the workspace only; null for another workspace's list", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const list = await s.list(ws, "lookup");
      const member = await s.record(ws, { email: "On@Example.net" });
      const notYet = await s.record(ws, { email: "off@example.net" });
      const byIdMember = await s.record(ws, { email: "idm@example.net" });
      const theirs = await s.record(other, { email: "theirs@example.net" });
      await s.member(ws, list, member);
      await s.member(ws, list, byIdMember);

      expect(await store.recipients.lookupMembers(other, list, ["on@example.net"], [member])).toBeNull();
      const got = await store.recipients.lookupMembers(ws, list, ["on@example.net", "OFF@example.net", "theirs@example.net", "new@example.net"], [byIdMember, notYet, theirs, "rcp_missing"]);
      expect(got).not.toBeNull();
      expect(got!.byEmail).toEqual(
        new Map([
          ["on@example.net", { id: member, email: "On@Example.net" }],
          ["off@example.net", { id: notYet, email: "off@example.net" }],
        ]),
      );
      expect(got!.ids).toEqual(new Set([byIdMember, notYet]));
      expect(got!.members).toEqual(new Set([member, byIdMember]));
      expect(await store.recipients.lookupMembers(ws, list, [], [])).toEqual({ byEmail: new Map(), ids: new Set(), members: new Set() });
    });

    it("addMembers creates the new records and adds them and the given ids; existing members keep their row; another workspace's ids and a gone list add nothing", async () => {
      const { store, seed, exec } = await open(backend);
      const s = recipientSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const list = await s.list(ws, "add");
      const already = await s.record(ws, { email: "already@example.net" });
      const known = await s.record(ws, { email: "known@example.net" });
      // Created meanwhile by a send: the new record for its address is joined, not duplicated.
      const raced = await s.record(ws, { email: "raced@example.net" });
      const theirs = await s.record(other, { email: "theirs@example.net" });
      await s.member(ws, list, already, 7);
      const fresh = newId("rcp");
      await store.recipients.addMembers(ws, list, { recipientIds: [already, known, theirs], newRecipients: [{ id: fresh, email: "Fresh@example.net" }, { id: newId("rcp"), email: "raced@example.net" }] }, 900);

      expect(await s.recordRow(fresh)).toMatchObject({ workspaceId: ws, email: "Fresh@example.net", status: "active", metadata: {}, createdAt: 900, updatedAt: 900 });
      expect(await s.recordsWith(ws, "raced@example.net")).toEqual([raced]);
      const members = await s.members(list);
      expect(members).toEqual(
        sorted([already, known, fresh, raced]).map((recipientId) => ({ recipientId, workspaceId: ws, createdAt: recipientId === already ? 7 : 900 })),
      );
      expect(await s.listsOf(theirs)).toEqual([]);

      // The list is gone: no memberships (the new record is still created, as a profile of its own).
      const gone = await s.list(ws, "gone");
      await exec.run(`DELETE FROM recipient_lists WHERE id = ?`, [gone]);
      const late = newId("rcp");
      await store.recipients.addMembers(ws, gone, { recipientIds: [known], newRecipients: [{ id: late, email: "late@example.net" }] }, 950);
      expect(await s.members(gone)).toEqual([]);
      // Another workspace's list takes nothing either.
      await store.recipients.addMembers(other, list, { recipientIds: [theirs], newRecipients: [] }, 960);
      expect(await s.members(list)).toHaveLength(4);
      await store.recipients.addMembers(ws, list, { recipientIds: [], newRecipients: [] }, 970);
    });
  });
}

// Conformance: the accept group (db/store/accept.ts). The send settings see only the workspace's
// own enabled providers, endpoints and verified domains; suppression is by address in any case;
// the one write keeps everything or nothing, decides suppression itself, counts the campaign and
// stores the answer it replays; a taken idempotency key (or Message-ID generation) is a
// `duplicate` value with the record that won, and nothing of the loser is kept.
import { describe, expect, it } from "vitest";
import { open, sorted, type BackendFactory } from "./conformance-support";
import { acceptSeeds, newMessage, uniqueDomain } from "./seed-accept";

export function acceptConformance(backend: BackendFactory): void {
  describe("accept.sendSettings", () => {
    it("an empty workspace: no provider, no DLP policy, its settings, nothing subscribed or verified", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace({ configuration: { strict_variables: true } });
      const s = await store.accept.sendSettings(ws);
      expect(s).toMatchObject({ hasProvider: false, configuration: { strict_variables: true }, endpointEvents: [], verifiedDomains: [] });
      expect(s.dlp ?? null).toBeNull();
    });

    it("the workspace's enabled provider, DLP policy, enabled endpoints' events and verified domains; never another workspace's", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      await seed.provider(ws, { type: "sandbox", status: "disabled" });
      expect((await store.accept.sendSettings(ws)).hasProvider).toBe(false);
      await seed.provider(other, { type: "sandbox" });
      expect((await store.accept.sendSettings(ws)).hasProvider).toBe(false);
      await seed.provider(ws, { type: "mailgun" });
      await a.dlp(ws, { rules: [{ name: "mrn", pattern: "MRN-\\d+" }] });
      await a.endpoint(ws, ["message.queued", "message.sent"]);
      await a.endpoint(ws, ["message.failed"], false);
      await a.endpoint(other, ["*"]);
      const verified = uniqueDomain("v");
      await a.senderDomain(ws, verified, 10);
      await a.senderDomain(ws, uniqueDomain("u"), null);
      await a.senderDomain(other, uniqueDomain("o"), 10);
      const s = await store.accept.sendSettings(ws);
      expect(s).toMatchObject({ hasProvider: true, dlp: { rules: [{ name: "mrn", pattern: "MRN-\\d+" }] }, endpointEvents: [["message.queued", "message.sent"]], verifiedDomains: [verified] });
      expect((await store.accept.sendSettings(other)).endpointEvents).toEqual([["*"]]);
    });
  });

  describe("accept.suppressed / campaignStatus", () => {
    it("suppressed: the workspace's records that are not active, matched in any case", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      await a.record(ws, "Pat.Doe@Example.NET", "bounced");
      await a.record(ws, "sam@example.net", "unsubscribed");
      await a.record(ws, "kim@example.net", "active");
      await a.record(other, "lee@example.net", "complained");
      const got = await store.accept.suppressed(ws, ["pat.doe@example.net", "SAM@example.net", "kim@example.net", "lee@example.net", "new@example.net"]);
      expect(got.map((r) => `${r.email} ${r.status}`).sort()).toEqual(["Pat.Doe@Example.NET bounced", "sam@example.net unsubscribed"]);
      expect(await store.accept.suppressed(ws, [])).toEqual([]);
    });

    it("campaignStatus: the workspace's campaign as it is now; another workspace's is undefined", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const c = await seed.campaign(ws);
      expect(await store.accept.campaignStatus(ws, c)).toBe("active");
      await acceptSeeds(exec).setCampaignStatus(c, "completed");
      expect(await store.accept.campaignStatus(ws, c)).toBe("completed");
      expect(await store.accept.campaignStatus(other, c)).toBeUndefined();
      expect(await store.accept.campaignStatus(ws, "cmp_missing")).toBeUndefined();
    });
  });

  describe("accept.unclaimedDomains / inboundWorkspaces (cross-tenant)", () => {
    it("unclaimed: neither the domain nor a parent is verified by any workspace; an unverified claim claims nothing", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const parent = uniqueDomain("p");
      const verified = uniqueDomain("v");
      const pending = uniqueDomain("u");
      await a.senderDomain(ws, parent, 10);
      await a.senderDomain(ws, verified, 10);
      await a.senderDomain(ws, pending, null);
      const free = uniqueDomain("f");
      expect(await store.accept.unclaimedDomains([`mail.${parent}`, verified, pending, free])).toEqual([pending, free]);
      expect(await store.accept.unclaimedDomains([])).toEqual([]);
    });

    it("inboundWorkspaces: the workspace that verified the domain (any case), and the default workspace by slug", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const owner = await seed.workspace();
      const claimer = await seed.workspace();
      const domain = uniqueDomain("i");
      await a.senderDomain(claimer, domain, null);
      await a.senderDomain(owner, domain, 10);
      const [row] = await exec.all(`SELECT slug FROM workspaces WHERE id = ?`, [claimer]);
      const slug = String(row!.slug);
      const got = await store.accept.inboundWorkspaces(domain.toUpperCase(), slug);
      expect(got.owner).toMatchObject({ workspaceId: owner, status: "active" });
      expect(got.fallback).toMatchObject({ workspaceId: claimer, slug, status: "active" });
      const none = await store.accept.inboundWorkspaces(uniqueDomain("n"), null);
      expect(none.owner).toBeUndefined();
      expect(none.fallback).toBeUndefined();
      expect((await store.accept.inboundWorkspaces(uniqueDomain("n"), "no-such-slug")).fallback).toBeUndefined();
    });
  });

  describe("accept.insertMessage", () => {
    it("stores the message, recipient records, recipients, headers, attachments and the idempotency record with the answer", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const known = await a.record(ws, "b@example.net", "active");
      const m = newMessage(ws, ["a@example.net", "b@example.net"], { idempotencyKey: "key-1", requestHash: "h1", headerNames: ["X-Clinic", "X-Ward"], attachments: [{ sizeBytes: 10 }, { sizeBytes: 20 }] });
      const out = await store.accept.insertMessage(ws, m);
      expect(out).toEqual({
        status: "stored",
        messageStatus: "queued",
        recipients: new Map([
          ["a@example.net", { status: "queued", lastError: null }],
          ["b@example.net", { status: "queued", lastError: null }],
        ]),
      });
      const w = await a.written(ws, m.message.id);
      expect(w.message).toEqual({ status: "queued", workspaceId: ws, messageIdHeader: m.message.messageIdHeader });
      const records = await a.records(ws, ["a@example.net", "b@example.net"]);
      expect(records.map((r) => r.email)).toEqual(["a@example.net", "b@example.net"]);
      expect(records[1]!.id).toBe(known);
      expect(w.recipients).toEqual([
        { email: "a@example.net", kind: "to", status: "queued", lastError: null, recipientId: records[0]!.id },
        { email: "b@example.net", kind: "cc", status: "queued", lastError: null, recipientId: known },
      ]);
      expect(w.headers).toEqual(["X-Clinic", "X-Ward"]);
      expect(w.attachments.map((x) => x.sizeBytes).sort()).toEqual([10, 20]);
      expect(w.keys).toHaveLength(1);
      expect(w.keys[0]).toMatchObject({ key: "key-1", requestHash: "h1" });
      expect(JSON.parse(w.keys[0]!.responseBody)).toEqual({
        id: m.message.id,
        status: "queued",
        message_id: m.message.messageIdHeader,
        recipients: [
          { email: "a@example.net", status: "queued" },
          { email: "b@example.net", status: "queued" },
        ],
      });
      const rec = await store.accept.idempotencyRecord(ws, "key-1");
      expect(rec).toMatchObject({ workspaceId: ws, key: "key-1", requestHash: "h1", messageId: m.message.id, responseStatus: 202, responseBody: w.keys[0]!.responseBody });
    });

    it("decides suppression in the write (any case), counts the campaign, and fails a message whose every recipient is suppressed", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const c = await seed.campaign(ws);
      await a.record(ws, "Gone@Example.NET", "bounced");
      await a.record(ws, "quit@example.net", "unsubscribed");
      const m = newMessage(ws, ["gone@example.net", "ok@example.net"], { campaignId: c, idempotencyKey: "k-s" });
      const out = await store.accept.insertMessage(ws, m);
      expect(out.status === "stored" && out.messageStatus).toBe("queued");
      expect(out.status === "stored" && out.recipients.get("gone@example.net")).toEqual({ status: "suppressed", lastError: "suppressed: the address bounced" });
      const w = await a.written(ws, m.message.id);
      expect(w.recipients.map((r) => [r.email, r.status, r.lastError])).toEqual([
        ["gone@example.net", "suppressed", "suppressed: the address bounced"],
        ["ok@example.net", "queued", null],
      ]);
      expect(JSON.parse(w.keys[0]!.responseBody).recipients).toEqual([
        { email: "gone@example.net", status: "suppressed" },
        { email: "ok@example.net", status: "queued" },
      ]);

      const all = newMessage(ws, ["quit@example.net"], { campaignId: c, idempotencyKey: "k-f" });
      const failed = await store.accept.insertMessage(ws, all);
      expect(failed.status === "stored" && failed.messageStatus).toBe("failed");
      expect((await a.written(ws, all.message.id)).message?.status).toBe("failed");
      expect(JSON.parse((await a.written(ws, all.message.id)).keys[0]!.responseBody)).toMatchObject({ status: "failed", recipients: [{ email: "quit@example.net", status: "suppressed" }] });
      expect(await a.campaignDays(c)).toEqual([{ day: m.campaignDay, queued: 1, suppressed: 2 }]);
    });

    it("a taken idempotency key is a duplicate with the first record, and nothing of the second message is kept", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const c = await seed.campaign(ws);
      const first = newMessage(ws, ["a@example.net"], { idempotencyKey: "same", requestHash: "h1", campaignId: c });
      expect((await store.accept.insertMessage(ws, first)).status).toBe("stored");
      const second = newMessage(ws, ["a@example.net", "fresh@example.net"], { idempotencyKey: "same", requestHash: "h2", campaignId: c, headerNames: ["X-A"], attachments: [{ sizeBytes: 5 }] });
      const out = await store.accept.insertMessage(ws, second);
      expect(out).toMatchObject({ status: "duplicate", first: { workspaceId: ws, key: "same", requestHash: "h1", messageId: first.message.id } });
      const w = await a.written(ws, second.message.id);
      expect(w).toEqual({ message: undefined, recipients: [], headers: [], attachments: [], keys: [] });
      expect(await a.records(ws, ["fresh@example.net"])).toEqual([]);
      expect(await a.campaignDays(c)).toEqual([{ day: first.campaignDay, queued: 1, suppressed: 0 }]);
      // Keys are per workspace, and exact (case-sensitive).
      expect((await store.accept.insertMessage(other, newMessage(other, ["a@example.net"], { idempotencyKey: "same" }))).status).toBe("stored");
      expect((await store.accept.insertMessage(ws, newMessage(ws, ["a@example.net"], { idempotencyKey: "Same" }))).status).toBe("stored");
    });

    it("a Message-ID generation is written once: the second writer of `message-id:<id>#2` gets the first's record", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      const key = "message-id:<g-1@clinic.example>#2";
      const m1 = newMessage(ws, ["a@example.net"], { idempotencyKey: key, requestHash: "content", messageIdHeader: "<g-1@clinic.example>" });
      const m2 = newMessage(ws, ["b@example.net"], { idempotencyKey: key, requestHash: "content", messageIdHeader: "<g-1@clinic.example>" });
      const [r1, r2] = await Promise.all([store.accept.insertMessage(ws, m1), store.accept.insertMessage(ws, m2)]);
      const outcomes = [r1.status, r2.status].sort();
      expect(outcomes).toEqual(["duplicate", "stored"]);
      const winner = r1.status === "stored" ? m1 : m2;
      const dup = r1.status === "duplicate" ? r1 : r2;
      expect(dup.status === "duplicate" && dup.first.messageId).toBe(winner.message.id);
    });

    it("all or nothing: a statement failing after the message and recipients (a repeated attachment id) leaves nothing behind", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const c = await seed.campaign(ws);
      const m = newMessage(ws, ["new1@example.net", "new2@example.net"], { idempotencyKey: "k-broken", campaignId: c, headerNames: ["X-A"], attachments: [{ id: "att_same", sizeBytes: 1 }, { id: "att_same", sizeBytes: 2 }] });
      await expect(store.accept.insertMessage(ws, m)).rejects.toThrow();
      expect(await a.written(ws, m.message.id)).toEqual({ message: undefined, recipients: [], headers: [], attachments: [], keys: [] });
      expect(await a.records(ws, ["new1@example.net", "new2@example.net"])).toEqual([]);
      expect(await a.campaignDays(c)).toEqual([]);
      expect(await store.accept.idempotencyRecord(ws, "k-broken")).toBeUndefined();
    });

    it("refuses a message of another workspace before writing anything", async () => {
      const { store, seed, exec } = await open(backend);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const m = newMessage(other, ["a@example.net"]);
      await expect(store.accept.insertMessage(ws, m)).rejects.toThrow(/workspace/);
      expect((await acceptSeeds(exec).written(other, m.message.id)).message).toBeUndefined();
    });
  });

  describe("accept.idempotencyRecord / messageIdGenerations", () => {
    it("idempotencyRecord: the workspace's record under the exact key; another workspace's is undefined", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      await a.idempotencyKey(ws, "Key-A", "h", '{"id":"msg_x"}');
      expect(await store.accept.idempotencyRecord(ws, "Key-A")).toMatchObject({ workspaceId: ws, key: "Key-A", requestHash: "h", messageId: null, responseStatus: 202, responseBody: '{"id":"msg_x"}', createdAt: 5 });
      expect(await store.accept.idempotencyRecord(ws, "key-a")).toBeUndefined();
      expect(await store.accept.idempotencyRecord(other, "Key-A")).toBeUndefined();
    });

    it("messageIdGenerations: the base and every `base#<n>`, nothing else, only the workspace's", async () => {
      const { store, seed, exec } = await open(backend);
      const a = acceptSeeds(exec);
      const ws = await seed.workspace();
      const other = await seed.workspace();
      const base = "message-id:<m-1@clinic.example>";
      const answer = (id: string) => JSON.stringify({ id, status: "queued", message_id: "<m-1@clinic.example>", recipients: [{ email: "a@example.net", status: "queued" }] });
      await a.idempotencyKey(ws, base, "c1", answer("msg_1"));
      await a.idempotencyKey(ws, `${base}#2`, "c1", answer("msg_2"));
      await a.idempotencyKey(ws, `${base}#10`, "c2", answer("msg_10"));
      await a.idempotencyKey(ws, "message-id:<m-1@clinic.example>x", "c3", answer("msg_x"));
      await a.idempotencyKey(ws, "message-id:<m-1@clinic.example", "c3", answer("msg_y"));
      await a.idempotencyKey(other, `${base}#3`, "c1", answer("msg_o"));
      const got = await store.accept.messageIdGenerations(ws, base);
      expect(sorted(got.map((g) => `${g.key} ${g.contentHash} ${g.answer.id}`))).toEqual([`${base} c1 msg_1`, `${base}#10 c2 msg_10`, `${base}#2 c1 msg_2`]);
      expect(await store.accept.messageIdGenerations(other, "message-id:<none@x>")).toEqual([]);
    });
  });
}

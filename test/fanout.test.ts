// Per-recipient fan-out: templated content goes out as one copy per recipient, each with only
// that recipient's address and values; content without variables goes out as one copy to all.
import { describe, expect, it } from "vitest";
import { api, json, waitForStatus } from "./helpers";
import { accept, mailgunProvider, sim, uniq, workspaceWith } from "./simulators/delivery-fixtures";

const PEOPLE = [
  { email: "ann@example.net", first_name: "Ann", last_name: "Archer", fields: { room: "101" } },
  { email: "bob@example.net", first_name: "Bob<b>", last_name: "Baker", fields: { room: "202" } },
  { email: "cy@example.net", first_name: "Cyrus", last_name: "Cole", fields: { room: "303" } },
];

describe("per-recipient fan-out", { timeout: 30_000 }, () => {
  it("3 recipients with names: 3 copies, each with only its own name and address", async () => {
    const domain = `${uniq("fan")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain));
    const imported = await json(await api("/v1/recipients/import", { method: "POST", key: ws.key, json: PEOPLE }));
    expect(imported.created).toBe(3);
    await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { variables: { clinic: "North Clinic" } } });

    const acc = await accept(ws, {
      to: ["Ann A <ann@example.net>", "bob@example.net"],
      cc: ["cy@example.net"],
      subject: "For {{FIRST_NAME}} {{LAST_NAME}}",
      text: "Hi {{FIRST_NAME|there}}, room {{room}} at {{clinic}} on {{day}}.",
      html: "<p>Hi {{FIRST_NAME|there}}, room {{room}}</p>",
      variables: { day: "Tuesday" },
    });
    const done = await waitForStatus(ws, acc.id, ["sent", "failed", "partially_failed"], 15_000);
    expect(done.status).toBe("sent");
    expect(done.recipients.map((r: any) => r.status)).toEqual(["sent", "sent", "sent"]);

    const got = await sim().received("mailgun", domain);
    expect(got).toHaveLength(3);
    for (const p of PEOPLE) {
      const copy = got.find((g) => g.to.includes(p.email))!;
      expect(copy, p.email).toBeTruthy();
      expect(copy.to).toEqual([p.email]);
      expect(copy.parsed?.to).toEqual([p.email]);
      expect(copy.parsed?.cc).toEqual([]);
      expect(copy.parsed?.subject).toBe(`For ${p.first_name} ${p.last_name}`);
      expect(copy.parsed?.text?.trim()).toBe(`Hi ${p.first_name}, room ${p.fields.room} at North Clinic on Tuesday.`);
      for (const other of PEOPLE.filter((o) => o !== p)) {
        expect(copy.mime).not.toContain(other.email);
        expect(copy.mime).not.toContain(other.last_name);
        expect(copy.parsed?.text).not.toContain(other.first_name);
      }
    }
    // Values are HTML-escaped in the HTML part only.
    const bob = got.find((g) => g.to.includes("bob@example.net"))!;
    expect(bob.parsed?.html).toContain("Hi Bob&lt;b&gt;, room 202");
    expect(bob.parsed?.text).toContain("Hi Bob<b>, room 202");
    // The display name given in To is kept for that recipient.
    expect(got.find((g) => g.to.includes("ann@example.net"))!.mime).toContain("Ann A");
  });

  it("no variables: one copy to everyone", async () => {
    const domain = `${uniq("fan")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain));
    await api("/v1/recipients/import", { method: "POST", key: ws.key, json: PEOPLE });
    const acc = await accept(ws, { to: PEOPLE.map((p) => p.email), text: "Clinic closed on Friday." });
    const done = await waitForStatus(ws, acc.id, ["sent", "failed", "partially_failed"], 15_000);
    expect(done.status).toBe("sent");
    const got = await sim().received("mailgun", domain);
    expect(got).toHaveLength(1);
    expect(got[0]!.to.sort()).toEqual(PEOPLE.map((p) => p.email).sort());
  });

  it("a recipient without a profile gets the default", async () => {
    const domain = `${uniq("fan")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain));
    const acc = await accept(ws, { to: ["nobody@example.net"], subject: "Hello {{FIRST_NAME|there}}", text: "Hi {{FIRST_NAME|there}}" });
    await waitForStatus(ws, acc.id, ["sent"], 15_000);
    const [got] = await sim().received("mailgun", domain);
    expect(got?.parsed?.subject).toBe("Hello there");
  });

  it("each copy counts against the provider's quota", async () => {
    const domain = `${uniq("fan")}.example.org`;
    const ws = await workspaceWith({ ...mailgunProvider(domain), quota: { daily: 2 } });
    await api("/v1/recipients/import", { method: "POST", key: ws.key, json: PEOPLE });
    const acc = await accept(ws, { to: PEOPLE.map((p) => p.email), text: "Hi {{FIRST_NAME}}" });
    const deadline = Date.now() + 10_000;
    let statuses: string[] = [];
    while (Date.now() < deadline) {
      const d = await json(await api(`/v1/messages/${acc.id}`, { key: ws.key }));
      statuses = d.recipients.map((r: any) => r.status).sort();
      if (!statuses.includes("queued") && !statuses.includes("sending")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The third waits for tomorrow's quota (past this workspace's 1-hour maximum age: failed).
    expect(statuses.filter((x) => x === "sent")).toHaveLength(2);
    expect(["deferred", "failed"]).toContain(statuses.find((x) => x !== "sent"));
    expect(await sim().received("mailgun", domain)).toHaveLength(2);
  });
});

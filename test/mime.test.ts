import { describe, expect, it } from "vitest";
import PostalMime from "postal-mime";
import { api, createWorkspace, json, waitForStatus } from "./helpers";

describe("POST /v1/messages/mime", async () => {
  const ws = await createWorkspace();
  const post = (raw: string | Uint8Array, from: string, to: string[], extra: RequestInit = {}) =>
    api(`/v1/messages/mime?mail_from=${encodeURIComponent(from)}${to.map((t) => `&rcpt_to=${encodeURIComponent(t)}`).join("")}`, {
      method: "POST",
      key: ws.key,
      headers: { "content-type": "message/rfc822" },
      body: raw,
      ...extra,
    });

  it("delivers the raw message byte for byte, with Bcc removed and envelope recipients kept", async () => {
    const raw =
      `From: Lab <lab@${ws.domain}>\r\nTo: Dr Who <dr@example.net>\r\nBcc: hidden@example.net\r\nSubject: =?UTF-8?Q?R=C3=A9sultats?=\r\n` +
      `Message-ID: <raw-1@${ws.domain}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLine one\r\n.dot line\r\n`;
    const res = await post(raw, `lab@${ws.domain}`, ["dr@example.net", "hidden@example.net"]);
    expect(res.status).toBe(202);
    const accepted = await json(res);
    expect(accepted.message_id).toBe(`<raw-1@${ws.domain}>`);
    const done = await waitForStatus(ws, accepted.id, ["sent"]);
    const kinds = Object.fromEntries(done.recipients.map((r: any) => [r.email, r.kind]));
    expect(kinds).toEqual({ "dr@example.net": "to", "hidden@example.net": "bcc" });
    const rendered = await (await api(`/v1/messages/${accepted.id}/rendered`, { key: ws.key })).text();
    expect(rendered).toBe(raw.replace("Bcc: hidden@example.net\r\n", ""));
    expect((await PostalMime.parse(rendered)).subject).toBe("Résultats");
  });

  it("adds a Message-ID when there is none and converts bare LF to CRLF", async () => {
    const res = await post(`From: lab@${ws.domain}\nTo: p@example.net\nSubject: unix\n\nhello\n`, `lab@${ws.domain}`, ["p@example.net"]);
    const accepted = await json(res);
    expect(accepted.message_id).toMatch(new RegExp(`^<[^@]+@${ws.domain.replace(/\./g, "\\.")}>$`));
    await waitForStatus(ws, accepted.id, ["sent"]);
    const rendered = await (await api(`/v1/messages/${accepted.id}/rendered`, { key: ws.key })).text();
    expect(rendered.startsWith(`Message-ID: ${accepted.message_id}\r\n`)).toBe(true);
    expect(rendered).not.toMatch(/[^\r]\n/);
  });

  it("accepts the JSON form too", async () => {
    const res = await api("/v1/messages/mime", {
      method: "POST",
      key: ws.key,
      json: { mail_from: `lab@${ws.domain}`, rcpt_to: ["p@example.net"], raw: `From: lab@${ws.domain}\r\nTo: p@example.net\r\nSubject: j\r\n\r\nhi\r\n` },
    });
    expect(res.status).toBe(202);
  });

  it("refuses a From domain the workspace has not verified, a missing From, bad envelope addresses and other media types", async () => {
    const bad = await post(`From: x@elsewhere.example\r\nSubject: s\r\n\r\nb\r\n`, `x@${ws.domain}`, ["p@example.net"]);
    expect(bad.status).toBe(403);
    expect((await json(bad)).error.code).toBe("sender_domain_not_verified");
    const noFrom = await post(`Subject: s\r\n\r\nb\r\n`, `x@${ws.domain}`, ["p@example.net"]);
    expect((await json(noFrom)).error.code).toBe("invalid_mime");
    const badRcpt = await post(`From: x@${ws.domain}\r\n\r\nb\r\n`, `x@${ws.domain}`, ["not-an-address"]);
    expect((await json(badRcpt)).error.code).toBe("invalid_address");
    const noRcpt = await post(`From: x@${ws.domain}\r\n\r\nb\r\n`, `x@${ws.domain}`, []);
    expect(noRcpt.status).toBe(400);
    const spoofSender = await post(`From: x@${ws.domain}\r\nSender: y@elsewhere.example\r\n\r\nb\r\n`, "", ["p@example.net"]);
    expect(spoofSender.status).toBe(403);
    const text = await post("hello", "", ["p@example.net"], { headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
  });

  it("refuses oversize raw messages with 413", async () => {
    const res = await post(`From: x@${ws.domain}\r\n\r\n${"a".repeat(1_100_000)}\r\n`, "", ["p@example.net"]);
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe("message_too_large");
  });
});

describe("GET /v1/messages", async () => {
  const ws = await createWorkspace();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const m = await json(
      await api("/v1/messages", {
        method: "POST",
        key: ws.key,
        json: { from: `a@${ws.domain}`, to: "p@example.net", subject: `n${i}`, text: "x", tags: i % 2 ? ["odd"] : ["even"] },
      }),
    );
    ids.push(m.id);
  }

  it("pages newest first with a cursor, without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await json(await api(`/v1/messages?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { key: ws.key }));
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((m: any) => m.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it("filters by tag, status and date", async () => {
    const odd = await json(await api("/v1/messages?tag=odd", { key: ws.key }));
    expect(odd.data.map((m: any) => m.id).sort()).toEqual([ids[1], ids[3]].sort());
    await waitForStatus({ ...ws } as any, ids[4]!, ["sent"]);
    const sent = await json(await api("/v1/messages?status=sent&limit=100", { key: ws.key }));
    expect(sent.data.every((m: any) => m.status === "sent")).toBe(true);
    const future = await json(await api(`/v1/messages?since=${new Date(Date.now() + 60_000).toISOString()}`, { key: ws.key }));
    expect(future.data).toEqual([]);
  });

  it("refuses a forged cursor and bad filters", async () => {
    expect((await api("/v1/messages?cursor=bm9wZQ", { key: ws.key })).status).toBe(400);
    expect((await api("/v1/messages?status=bogus", { key: ws.key })).status).toBe(400);
    expect((await api("/v1/messages?limit=1000", { key: ws.key })).status).toBe(400);
  });
});

// Data-loss prevention: identifiers a workspace forbids are caught at accept; `reject` refuses
// the message (nothing stored), `allow` accepts and flags it; both leave an audit row that names
// the rule, never the matched text.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, message } from "./helpers";

const MRN_RULE = { name: "mrn", pattern: "MRN[- ]?\\d{6}", flags: "i", fields: ["subject"] };

describe("DLP policy", async () => {
  const ws = await createWorkspace();
  const setPolicy = (policy: unknown) => api("/v1/workspace/dlp", { method: "PUT", key: ws.key, json: policy });

  it("reject: a forbidden identifier in the subject refuses the message and stores nothing", async () => {
    expect((await setPolicy({ action: "reject", rules: [MRN_RULE] })).status).toBe(200);
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE workspace_id = ?").bind(ws.id).first<{ n: number }>();
    const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { subject: "Results for mrn-123456" }) });
    expect(res.status).toBe(422);
    const err = (await json(res)).error;
    expect(err.code).toBe("unprocessable");
    expect(err.message).toContain("mrn");
    expect(err.message).not.toContain("123456");
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE workspace_id = ?").bind(ws.id).first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
    const audit = (await json(await api("/v1/audit-logs?action=message.dlp.rejected", { key: ws.key }))).data;
    expect(audit[0]).toMatchObject({ outcome: "denied", detail: { rules: ["mrn"] } });
    expect(JSON.stringify(audit)).not.toContain("123456");
  });

  it("only the configured fields are scanned", async () => {
    const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { text: "Your MRN-123456 is on file." }) });
    expect(res.status).toBe(202);
  });

  it("raw MIME submissions are scanned too", async () => {
    const raw = `From: a@${ws.domain}\r\nTo: p@example.net\r\nSubject: MRN 654321\r\nMessage-ID: <dlp-1@${ws.domain}>\r\n\r\nhello\r\n`;
    const res = await api("/v1/messages/mime", { method: "POST", key: ws.key, json: { mail_from: `a@${ws.domain}`, rcpt_to: ["p@example.net"], raw } });
    expect(res.status).toBe(422);
  });

  it("batch items are judged one by one", async () => {
    const res = await api("/v1/messages/batch", {
      method: "POST",
      key: ws.key,
      json: { messages: [message(ws, { subject: "MRN-111111" }), message(ws, { subject: "fine" })] },
    });
    const results = (await json(res)).results;
    expect(results.map((r: any) => r.status)).toEqual([422, 202]);
  });

  it("allow: the message is accepted, tagged dlp:flagged and audited", async () => {
    expect((await setPolicy({ action: "allow", rules: [MRN_RULE] })).status).toBe(200);
    const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { subject: "MRN-222222" }) });
    expect(res.status).toBe(202);
    const id = (await json(res)).id;
    expect((await json(await api(`/v1/messages/${id}`, { key: ws.key }))).tags).toContain("dlp:flagged");
    const audit = (await json(await api("/v1/audit-logs?action=message.dlp.flagged", { key: ws.key }))).data;
    expect(audit[0]).toMatchObject({ outcome: "success", resource: `message:${id}` });
  });

  it("an empty rule list turns scanning off", async () => {
    expect((await setPolicy({ action: "reject", rules: [] })).status).toBe(200);
    expect((await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { subject: "MRN-333333" }) })).status).toBe(202);
  });

  it("refuses invalid policies", async () => {
    for (const bad of [
      { action: "reject", rules: [{ ...MRN_RULE, pattern: "(" }] },
      { action: "reject", rules: [{ ...MRN_RULE, flags: "g" }] },
      { action: "block", rules: [] },
      { action: "reject", rules: Array.from({ length: 21 }, (_, i) => ({ ...MRN_RULE, name: `r${i}` })) },
      { action: "reject", rules: [{ ...MRN_RULE, pattern: "x".repeat(300) }] },
    ]) {
      expect((await setPolicy(bad)).status, JSON.stringify(bad).slice(0, 60)).toBe(400);
    }
    expect((await api("/v1/workspace/dlp", { method: "PUT", key: await ws.keyWith(["send", "read"]), json: { action: "allow", rules: [] } })).status).toBe(403);
  });
});

import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, message } from "./helpers";

const send = (key: string, body: unknown) => api("/v1/messages", { method: "POST", key, json: body });

async function expectError(res: Response, status: number, code: string, mentions?: string) {
  expect(res.status).toBe(status);
  const body = await json(res);
  expect(body.error.code).toBe(code);
  if (mentions) expect(body.error.message).toContain(mentions);
}

describe("send validation and error codes", async () => {
  const ws = await createWorkspace();

  it("names the missing field", async () => {
    const { from: _from, ...noFrom } = message(ws);
    await expectError(await send(ws.key, noFrom), 400, "validation_error", "from");
    const { subject: _s, ...noSubject } = message(ws);
    await expectError(await send(ws.key, noSubject), 400, "validation_error", "subject");
  });

  it("requires a recipient and a body", async () => {
    await expectError(await send(ws.key, message(ws, { to: [] })), 400, "validation_error", "recipient");
    const { text: _t, ...noBody } = message(ws);
    await expectError(await send(ws.key, noBody), 400, "validation_error", "text");
  });

  it("rejects unparseable addresses, naming which one", async () => {
    await expectError(await send(ws.key, message(ws, { to: ["ok@example.net", "not an address"] })), 400, "invalid_address", "to[1]");
    await expectError(await send(ws.key, message(ws, { cc: "a@b" })), 400, "invalid_address", "cc");
    await expectError(await send(ws.key, message(ws, { from: "two@x.example, three@x.example" })), 400, "invalid_address", "from");
  });

  it("refuses CR/LF anywhere it could reach a header", async () => {
    await expectError(await send(ws.key, message(ws, { subject: "Hi\r\nBcc: victim@example.net" })), 400, "validation_error", "subject");
    await expectError(await send(ws.key, message(ws, { headers: { "X-Ref": "a\r\nBcc: victim@example.net" } })), 400, "header_injection", "X-Ref");
    await expectError(await send(ws.key, message(ws, { to: [{ email: "p@example.net", name: "P\nBcc: v@example.net" }] })), 400, "invalid_address");
    await expectError(await send(ws.key, message(ws, { attachments: [{ filename: "a\r\n.txt", content: "aGk=" }] })), 400, "validation_error", "filename");
  });

  it("refuses headers the relay owns and malformed header names", async () => {
    await expectError(await send(ws.key, message(ws, { headers: { From: "boss@elsewhere.example" } })), 400, "validation_error", "From");
    await expectError(await send(ws.key, message(ws, { headers: { "Bad Name": "x" } })), 400, "validation_error", "Bad Name");
  });

  it("refuses fields it does not know (no mass assignment)", async () => {
    await expectError(await send(ws.key, message(ws, { status: "sent" })), 400, "validation_error");
    await expectError(await send(ws.key, message(ws, { workspace_id: "ws_other" })), 400, "validation_error");
  });

  it("refuses invalid base64 attachments and malformed JSON", async () => {
    await expectError(await send(ws.key, message(ws, { attachments: [{ filename: "a.pdf", content: "%%%" }] })), 400, "validation_error", "attachments[0].content");
    const res = await api("/v1/messages", { method: "POST", key: ws.key, headers: { "content-type": "application/json" }, body: "{not json" });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe("validation_error");
  });

  it("refuses a sender domain that is not verified for the workspace", async () => {
    await expectError(await send(ws.key, message(ws, { from: "noreply@unverified.example" })), 403, "sender_domain_not_verified", "unverified.example");
    const other = await createWorkspace();
    // Another tenant's verified domain is not ours either.
    await expectError(await send(ws.key, message(ws, { from: `noreply@${other.domain}` })), 403, "sender_domain_not_verified");
  });

  it("refuses oversize messages with 413 (limit from configuration)", async () => {
    const big = "x".repeat(1_100_000);
    await expectError(await send(ws.key, message(ws, { text: big })), 413, "message_too_large");
    const att = btoa("y".repeat(800_000));
    await expectError(
      await send(ws.key, message(ws, { attachments: [{ filename: "a.bin", content: att }, { filename: "b.bin", content: att }] })),
      413,
      "message_too_large",
    );
  });

  it("refuses to accept when the workspace has no enabled provider", async () => {
    const bare = await createWorkspace({ provider: null });
    await expectError(await send(bare.key, message(bare)), 422, "no_provider");
  });

  it("answers unknown routes in the error model", async () => {
    await expectError(await api("/v1/nothing-here", { key: ws.key }), 404, "not_found");
  });

  it("serves an OpenAPI document that lists the send routes", async () => {
    const doc = await json(await api("/openapi.json"));
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/messages", "/v1/messages/batch", "/v1/messages/mime", "/v1/messages/{id}"]));
  });
});

describe("batch", async () => {
  const ws = await createWorkspace();

  it("returns one result per item; bad items do not stop good ones", async () => {
    const res = await api("/v1/messages/batch", {
      method: "POST",
      key: ws.key,
      json: { messages: [message(ws), message(ws, { from: "x@unverified.example" }), message(ws, { to: ["nope"] })] },
    });
    expect(res.status).toBe(200);
    const { results } = await json(res);
    expect(results.map((r: any) => r.status)).toEqual([202, 403, 400]);
    expect(results[0].id).toMatch(/^msg_/);
    expect(results[1].error.code).toBe("sender_domain_not_verified");
    expect(results[2].error.code).toBe("invalid_address");
  });

  it("refuses more than 100 items", async () => {
    const res = await api("/v1/messages/batch", { method: "POST", key: ws.key, json: { messages: Array.from({ length: 101 }, () => message(ws)) } });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toContain("messages");
  });
});

describe("request size", async () => {
  const ws = await createWorkspace();
  it("refuses a body far over the limit before parsing it", async () => {
    const res = await api("/v1/messages", { method: "POST", key: ws.key, headers: { "content-type": "application/json" }, body: `{"text":"${"z".repeat(1_600_000)}"}` });
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe("message_too_large");
  });
});

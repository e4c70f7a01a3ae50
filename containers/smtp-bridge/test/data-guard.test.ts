import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { DataGuard, DataRejected } from "../src/data-guard.ts";

const options = { maxBytes: 1000, maxLineLength: 40, maxHeaderBytes: 200, messageIdDomain: "bridge.test" };

async function run(chunks: string[], opts = options): Promise<{ out?: string; error?: string; guard: DataGuard }> {
  const guard = new DataGuard(opts);
  const source = Readable.from(chunks.map((c) => Buffer.from(c, "latin1")), { objectMode: false });
  try {
    const out = await buffer(source.pipe(guard));
    return { out: out.toString("latin1"), guard };
  } catch (err) {
    if (err instanceof DataRejected) return { error: err.reason, guard };
    throw err;
  }
}

describe("DataGuard line endings", () => {
  it("accepts CRLF split across chunks", async () => {
    const r = await run(["Message-ID: <a@b>\r", "\n\r", "\nbody\r", "\n"]);
    expect(r.out).toBe("Message-ID: <a@b>\r\n\r\nbody\r\n");
  });
  it("rejects a CR at the end of a chunk followed by another byte", async () => {
    expect((await run(["Message-ID: <a@b>\r\n\r\nbody\r", "x\r\n"])).error).toBe("bare_cr");
  });
  it("rejects a CR at the very end", async () => {
    expect((await run(["Message-ID: <a@b>\r\n\r\nbody\r"])).error).toBe("bare_cr");
  });
  it("rejects an LF at the start of a chunk after one without CR", async () => {
    expect((await run(["Message-ID: <a@b>\r\n\r\nbody", "\nmore\r\n"])).error).toBe("bare_lf");
  });
  it("rejects a bare LF inside the header section", async () => {
    expect((await run(["Subject: x\nMessage-ID: <a@b>\r\n\r\n"])).error).toBe("bare_lf");
  });
  it("counts line length across chunks", async () => {
    expect((await run(["Message-ID: <a@b>\r\n\r\n", "x".repeat(30), "x".repeat(11), "\r\n"])).error).toBe("line_too_long");
    expect((await run(["Message-ID: <a@b>\r\n\r\n", "x".repeat(30), "x".repeat(10), "\r\n"])).out).toBeDefined();
  });
  it("enforces the size limit on the bytes received", async () => {
    const head = "Message-ID: <a@b>\r\n\r\n"; // 21 bytes
    const body = Array.from({ length: 48 }, () => "y".repeat(18) + "\r\n").join(""); // 960 bytes
    expect((await run([head, body, "y".repeat(17) + "\r\n"])).out).toHaveLength(1000);
    expect((await run([head, body, "y".repeat(18) + "\r\n"])).error).toBe("too_large");
  });
});

describe("DataGuard Message-ID", () => {
  it("passes a message with a Message-ID through unchanged", async () => {
    const msg = "From: a@b\r\nMessage-Id: <x@y>\r\n\r\nbody\r\n";
    const r = await run([msg]);
    expect(r.out).toBe(msg);
    expect(r.guard.addedMessageId).toBeNull();
  });
  it("finds the Message-ID when the header section is split across chunks", async () => {
    const r = await run(["From: a@b\r\nMess", "age-ID: <x@y>\r", "\n\r\nbody\r\n"]);
    expect(r.guard.addedMessageId).toBeNull();
  });
  it("adds one at the top when missing, ignoring look-alikes and the body", async () => {
    const msg = "X-Message-ID: <no@no>\r\nSubject: hi\r\n\r\nMessage-ID: <in-body@no>\r\n";
    const r = await run([msg]);
    expect(r.guard.addedMessageId).toMatch(/^<[0-9a-f]{24}\.[0-9a-z]+@bridge\.test>$/);
    expect(r.out).toBe(`Message-ID: ${r.guard.addedMessageId}\r\n${msg}`);
  });
  it("handles a message without a body and an empty message", async () => {
    const headersOnly = await run(["Subject: hi\r\n"]);
    expect(headersOnly.out).toBe(`Message-ID: ${headersOnly.guard.addedMessageId}\r\nSubject: hi\r\n`);
    const empty = await run([]);
    expect(empty.out).toBe(`Message-ID: ${empty.guard.addedMessageId}\r\n`);
    const noHeaders = await run(["\r\nbody\r\n"]);
    expect(noHeaders.out).toBe(`Message-ID: ${noHeaders.guard.addedMessageId}\r\n\r\nbody\r\n`);
  });
  it("refuses a header section over the limit", async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `X-H${i}: ${"v".repeat(10)}\r\n`);
    expect((await run(lines)).error).toBe("header_too_large");
  });
});

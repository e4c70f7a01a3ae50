import { describe, expect, it } from "vitest";
import { DataGuard } from "../src/data-guard.ts";

const options = { maxBytes: 1000, maxLineLength: 40, maxHeaderBytes: 200 };

/** The first rejection over `chunks` in order, then at the end; null if the message passes. */
function run(chunks: string[], opts = options): string | null {
  const guard = new DataGuard(opts);
  for (const chunk of chunks) {
    const problem = guard.scan(Buffer.from(chunk, "latin1"));
    if (problem) return problem;
  }
  return guard.end();
}

describe("DataGuard line endings", () => {
  it("accepts CRLF split across chunks", () => {
    expect(run(["Message-ID: <a@b>\r", "\n\r", "\nbody\r", "\n"])).toBeNull();
  });
  it("rejects a CR at the end of a chunk followed by another byte", () => {
    expect(run(["Message-ID: <a@b>\r\n\r\nbody\r", "x\r\n"])).toBe("bare_cr");
  });
  it("rejects a CR at the very end", () => {
    expect(run(["Message-ID: <a@b>\r\n\r\nbody\r"])).toBe("bare_cr");
  });
  it("rejects an LF at the start of a chunk after one without CR", () => {
    expect(run(["Message-ID: <a@b>\r\n\r\nbody", "\nmore\r\n"])).toBe("bare_lf");
  });
  it("rejects a bare LF inside the header section", () => {
    expect(run(["Subject: x\nMessage-ID: <a@b>\r\n\r\n"])).toBe("bare_lf");
  });
});

describe("DataGuard NUL and control characters", () => {
  it("rejects a NUL anywhere: at a line start before a dot, mid-line, in the header", () => {
    expect(run(["Subject: x\r\n\r\nhello\r\n\x00.\r\nMAIL FROM:<a@b>\r\n"])).toBe("nul");
    expect(run(["Subject: x\r\n\r\nhel\x00lo\r\n"])).toBe("nul");
    expect(run(["Subject: \x00x\r\n\r\n"])).toBe("nul");
    expect(run(["Subject: x\r\n\r\nhello\r\n", "\x00"])).toBe("nul");
  });
  it("rejects control characters between a line start and a dot, even split across chunks", () => {
    expect(run(["Subject: x\r\n\r\nhello\r\n\x01.\r\n"])).toBe("control_dot");
    expect(run(["Subject: x\r\n\r\nhello\r\n\x0b\x7f", ".\r\n"])).toBe("control_dot");
    expect(run(["\x1b.\r\n"])).toBe("control_dot");
  });
  it("passes controls that are ordinary body text: a form feed starting a page, a dot after text or a tab", () => {
    expect(run(["Subject: x\r\n\r\n\x0cPage 2\r\n\x0c\r\ntext.\r\n\t.\r\n.\r\n"])).toBeNull();
  });
});

describe("DataGuard limits", () => {
  it("counts line length across chunks", () => {
    expect(run(["Message-ID: <a@b>\r\n\r\n", "x".repeat(30), "x".repeat(11), "\r\n"])).toBe("line_too_long");
    expect(run(["Message-ID: <a@b>\r\n\r\n", "x".repeat(30), "x".repeat(10), "\r\n"])).toBeNull();
  });
  it("enforces the size limit on the octets received, nothing added", () => {
    const head = "Message-ID: <a@b>\r\n\r\n"; // 21 bytes
    const body = Array.from({ length: 48 }, () => "y".repeat(18) + "\r\n").join(""); // 960 bytes
    expect(run([head, body, "y".repeat(17) + "\r\n"])).toBeNull(); // 1000
    expect(run([head, body, "y".repeat(18) + "\r\n"])).toBe("too_large"); // 1001
  });
  it("refuses a header section over the limit, and only the header section", () => {
    const lines = Array.from({ length: 20 }, (_, i) => `X-H${i}: ${"v".repeat(10)}\r\n`);
    expect(run(lines)).toBe("header_too_large");
    expect(run(["Subject: x\r\n\r\n", ...lines])).toBeNull();
  });
});

describe("DataGuard.peek (octets smtp-server holds back)", () => {
  it("sees a malformed terminator after what was scanned, without consuming it", () => {
    const guard = new DataGuard(options);
    expect(guard.scan(Buffer.from("Subject: x\r\n\r\nhello\r\nworld", "latin1"))).toBeNull();
    expect(guard.peek(Buffer.from("\n.\n"))).toBe("bare_lf");
    expect(guard.peek(Buffer.from("\r\n.\n"))).toBe("bare_lf");
    expect(guard.peek(Buffer.from("\r\n\x00."))).toBe("nul");
    // still undecided: a CR whose LF has not arrived, a proper line end
    expect(guard.peek(Buffer.from("\r"))).toBeNull();
    expect(guard.peek(Buffer.from("\r\n"))).toBeNull();
    // peeking changed nothing
    expect(guard.scan(Buffer.from("\r\n", "latin1"))).toBeNull();
    expect(guard.end()).toBeNull();
  });
  it("continues the state across the boundary: a CR scanned, its LF held back", () => {
    const guard = new DataGuard(options);
    expect(guard.scan(Buffer.from("Subject: x\r\n\r\nhello\r", "latin1"))).toBeNull();
    expect(guard.peek(Buffer.from("\n.\r\n"))).toBeNull();
    expect(guard.peek(Buffer.from("\n\n.\n"))).toBe("bare_lf");
  });
});

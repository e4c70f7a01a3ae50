import { describe, expect, it } from "vitest";
import { fromUtf8, utf8 } from "./encoding";
import { canonicalRaw, contentHash, prependHeaderField, removeHeaderFields } from "./raw-message";
import { readRawHeaders } from "../workers/mime-parse";

const text = (b: Uint8Array) => fromUtf8.decode(b);

describe("raw messages", () => {
  it("converts bare LF to CRLF and leaves CRLF alone, under either policy", () => {
    for (const policy of ["refuse", "repair"] as const) {
      expect(text(canonicalRaw(utf8.encode("a\nb\r\nc\n"), policy))).toBe("a\r\nb\r\nc\r\n");
      const crlf = utf8.encode("a\r\nb\r\n");
      expect(canonicalRaw(crlf, policy)).toBe(crlf);
    }
  });

  it("refuses a bare CR or a NUL from a submitter, and repairs them in mail from outside", () => {
    const smuggled = utf8.encode("From: b@b.example\r\nX-A: a\rFrom: a@a.example\r\n\r\nbody\r\n");
    expect(() => canonicalRaw(smuggled, "refuse")).toThrow(/bare CR/);
    // Repaired before anything reads it: the second From is then plainly a second From.
    expect(text(canonicalRaw(smuggled, "repair"))).toBe("From: b@b.example\r\nX-A: a\r\nFrom: a@a.example\r\n\r\nbody\r\n");
    const nul = utf8.encode("From: b@b.example\r\n\r\nline\r\n\u0000.\r\nmore\r\n");
    expect(() => canonicalRaw(nul, "refuse")).toThrow(/NUL/);
    expect(text(canonicalRaw(nul, "repair"))).toBe("From: b@b.example\r\n\r\nline\r\n.\r\nmore\r\n");
    expect(text(canonicalRaw(utf8.encode("a\r"), "repair"))).toBe("a\r\n");
  });

  it("hashes content without the trace fields each hop adds", async () => {
    const a = utf8.encode("Received: by mx1\r\nFrom: a@x.example\r\nSubject: s\r\n\r\ndosage 5mg\r\n");
    const b = utf8.encode("Received: by mx2\r\nReturn-Path: <a@x.example>\r\nFrom: a@x.example\r\nSubject: s\r\n\r\ndosage 5mg\r\n");
    const c = utf8.encode("Received: by mx1\r\nFrom: a@x.example\r\nSubject: s\r\n\r\ndosage 50mg\r\n");
    const rebuilt = utf8.encode("From: a@x.example\r\nDate: Wed, 02 Dec 2026 10:00:01 +0000\r\nSubject: s\r\n\r\ndosage 5mg\r\n");
    expect(await contentHash(rebuilt)).toBe(await contentHash(a));
    expect(await contentHash(a)).toBe(await contentHash(b));
    expect(await contentHash(a)).not.toBe(await contentHash(c));
  });

  it("removes a header field with its folded lines, only in the header section", () => {
    const raw = utf8.encode("To: a@x.example\r\nBcc: one@x.example,\r\n  two@x.example\r\nSubject: s\r\n\r\nBcc: stays in body\r\n");
    expect(text(removeHeaderFields(raw, ["bcc"]))).toBe("To: a@x.example\r\nSubject: s\r\n\r\nBcc: stays in body\r\n");
  });

  it("keeps 8-bit header bytes intact when removing fields", () => {
    const raw = new Uint8Array([...utf8.encode("Subject: "), 0xe9, ...utf8.encode("\r\nBcc: b@x.example\r\n\r\nbody")]);
    const out = removeHeaderFields(raw, ["bcc"]);
    expect(Array.from(out.subarray(0, 10))).toEqual(Array.from(raw.subarray(0, 10)));
    expect(out.length).toBe(raw.length - "Bcc: b@x.example\r\n".length);
  });

  it("prepends a header and refuses CR/LF in it", () => {
    expect(text(prependHeaderField(utf8.encode("A: b\r\n\r\n"), "Message-ID", "<x@y.example>"))).toBe("Message-ID: <x@y.example>\r\nA: b\r\n\r\n");
    expect(() => prependHeaderField(utf8.encode(""), "X", "a\r\nB: c")).toThrow();
  });

  it("reads From, Message-ID, To and Cc; refuses two From headers or a malformed Message-ID", async () => {
    const h = await readRawHeaders(utf8.encode("From: Lab <lab@x.example>\r\nTo: a@y.example, B <b@y.example>\r\nCc: c@y.example\r\nMessage-ID: <m1@x.example>\r\n\r\nbody"));
    expect(h.from.address).toBe("lab@x.example");
    expect(h.messageId).toBe("<m1@x.example>");
    expect(h.to).toEqual(["a@y.example", "b@y.example"]);
    expect(h.cc).toEqual(["c@y.example"]);
    await expect(readRawHeaders(utf8.encode("From: a@x.example\r\nFrom: b@x.example\r\n\r\n"))).rejects.toThrow(/exactly one From/);
    await expect(readRawHeaders(utf8.encode("From: a@x.example\r\nMessage-ID: nope\r\n\r\n"))).rejects.toThrow(/Message-ID/);
  });
});

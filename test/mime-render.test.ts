// The synchronous MIME writer (issue 8) must produce exactly the bytes nodemailer's streaming
// build produces for the same tree: every case here is compiled twice with the same boundary and
// compared byte for byte, and the cases the writer leaves to nodemailer still come out the same.
import { describe, expect, it } from "vitest";
import { mimeTree, renderTree, serializeMime, type RenderOptions } from "../core/mime-render";
import type { StructuredContent } from "../core/content";
import { toBase64 } from "../core/encoding";
import { seededRng } from "../core/routing/strategies";

const opts: RenderOptions = { messageIdHeader: "<m1@clinic.example.org>", date: new Date("2026-11-28T10:00:00Z") };
const mb = (address: string, name = "") => ({ address, name });
const base = (extra: Partial<StructuredContent> = {}): StructuredContent => ({
  kind: "structured",
  from: mb("noreply@clinic.example.org", "Clinic"),
  to: [mb("patient@example.net")],
  cc: [],
  subject: "Your results",
  text: "Your lab results are ready.\n",
  headers: [],
  attachments: [],
  variables: {},
  ...extra,
});
const bin = (n: number, seed = 7) => toBase64(Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 17 + (i >> 3)) & 0xff));

// Each case: the content, and whether the synchronous writer is expected to handle it.
const cases: [string, StructuredContent, boolean][] = [
  ["plain ASCII text", base(), true],
  ["text without a final newline", base({ text: "Short." }), true],
  ["empty text", base({ text: "" }), true],
  ["no body at all", base({ text: undefined }), true],
  ["lone LF, lone CR and CRLF line ends", base({ text: "a\nb\rc\r\nd\n\ne" }), true],
  ["a line longer than 76 characters (quoted-printable)", base({ text: `${"word ".repeat(40)}\nend` }), true],
  ["non-ASCII text, subject and names", base({ text: "Grüße aus der Praxis — Ihr Termin ist am Dienstag. 患者様へ\n", subject: "Ihre Befunde sind da ✓", from: mb("noreply@clinic.example.org", "Praxis Müller"), to: [mb("p@example.net", "Zoë Ørsted")] }), true],
  ["mostly non-ASCII text (base64)", base({ text: "患者様へ。検査結果の準備ができました。ポータルにサインインしてください。".repeat(5) }), true],
  ["HTML only", base({ text: undefined, html: "<p>Your <b>results</b> are ready.</p>" }), true],
  ["text and HTML (multipart/alternative)", base({ html: `<html><body>${"<p>Lorem ipsum dolor sit amet, consectetur.</p>".repeat(20)}</body></html>` }), true],
  ["cc, reply-to and custom headers", base({ cc: [mb("doc@example.org", "Dr. Who"), mb("nurse@example.org")], replyTo: mb("desk@clinic.example.org", "Front desk"), headers: [["X-Campaign", "flu-2026"], ["List-Unsubscribe", "<mailto:unsub@clinic.example.org>"]] }), true],
  ["an attachment (multipart/mixed, base64)", base({ attachments: [{ filename: "results.pdf", contentType: "application/pdf", content: bin(5000) }] }), true],
  ["text, HTML, an inline image and a file", base({ html: '<p>Logo: <img src="cid:logo@clinic"></p>', attachments: [{ filename: "logo.png", contentType: "image/png", contentId: "logo@clinic", content: bin(300, 3) }, { filename: "Befund Müller.txt", contentType: "text/plain", content: toBase64(new TextEncoder().encode("Befund\nokay\n")) }] }), true],
  ["an empty attachment", base({ attachments: [{ filename: "empty.bin", contentType: "application/octet-stream", content: "" }] }), true],
  // Left to nodemailer's streaming build: trailing whitespace and large quoted-printable parts.
  ["text ending in spaces", base({ text: `${"x".repeat(80)} ü   ` }), false],
  ["an attachment over 1 MiB (encoded in chunks, not in one piece)", base({ attachments: [{ filename: "scan.tiff", contentType: "image/tiff", content: bin(1100 * 1024) }] }), false],
  ["quoted-printable text over 64 KiB", base({ text: `${"Zeile mit Umlaut ä und langem Inhalt ".repeat(2000)}\n` }), false],
];

describe("MIME rendering without streams", () => {
  for (const [name, content, fast] of cases) {
    it(`${name}: the same bytes as nodemailer's build (${fast ? "written directly" : "left to nodemailer"})`, async () => {
      const streamed = await mimeTree(content, opts, "fixedboundary").build();
      const direct = serializeMime(mimeTree(content, opts, "fixedboundary"));
      expect(direct !== null).toBe(fast);
      if (direct) expect(direct.toString("latin1")).toBe(streamed.toString("latin1"));
      // renderTree (what renderMime uses) gives the same answer either way.
      expect((await renderTree(mimeTree(content, opts, "fixedboundary"))).equals(streamed)).toBe(true);
    });
  }

  it("300 random texts and HTML bodies (spaces, tabs, line ends, non-ASCII, long lines): the same bytes", async () => {
    const rnd = seededRng(8);
    const pieces = ["word", " ", "  ", "\t", "\n", "\r\n", "\r", ".", "=", "ü", "—", "患", "😀", "x".repeat(90), "<b>", "&amp;"];
    const text = () => Array.from({ length: Math.floor(rnd() * 120) }, () => pieces[Math.floor(rnd() * pieces.length)]).join("");
    let direct = 0;
    for (let i = 0; i < 300; i++) {
      const content = base({ text: text(), subject: text().replace(/[\r\n]/g, " ").slice(0, 200), ...(i % 3 === 0 ? { html: text() } : {}) });
      const streamed = await mimeTree(content, opts, `fuzz${i}`).build();
      const out = serializeMime(mimeTree(content, opts, `fuzz${i}`));
      if (out) {
        direct++;
        expect(out.toString("latin1"), `case ${i}`).toBe(streamed.toString("latin1"));
      }
    }
    // Most random bodies end in something other than a space or a tab.
    expect(direct).toBeGreaterThan(150);
  });

  it("every line ends in CRLF and none is longer than 998 characters", async () => {
    for (const [, content] of cases) {
      const out = serializeMime(mimeTree(content, opts, "b")) ?? (await mimeTree(content, opts, "b").build());
      const text = out.toString("latin1");
      expect(text.endsWith("\r\n")).toBe(true);
      expect(/(^|[^\r])\n/.test(text)).toBe(false);
      expect(text.split("\r\n").every((l) => l.length <= 998)).toBe(true);
    }
  });
});

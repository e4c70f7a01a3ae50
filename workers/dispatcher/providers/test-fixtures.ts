// Test-only: an OutboundMessage with a rendered multipart message (text, HTML, an attachment)
// as the dispatcher would hand it to a provider. The MIME here is a literal fixture, not a renderer.
import type { OutboundMessage, ProviderContext } from "./types";

export const PDF_BYTES = new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e, 0x34, 0x0a, 0x25, 0xe2, 0xe3, 0xcf, 0xd3, 0x0a]);

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export interface FixtureOptions {
  from?: string;
  to?: string[];
  cc?: string[];
  recipients?: string[];
  /** Extra body lines for size or dot-stuffing tests. */
  extraText?: string;
  messageId?: string;
}

export function makeMessage(o: FixtureOptions = {}): OutboundMessage {
  const from = o.from ?? "clinic@example.org";
  const to = o.to ?? ["patient@example.com"];
  const cc = o.cc ?? [];
  const messageId = o.messageId ?? `<msg_01.${crypto.randomUUID()}@relay.example.org>`;
  const text = `Your appointment is confirmed.\r\n.leading dot line\r\n${o.extraText ?? ""}`;
  const html = "<p>Your appointment is <b>confirmed</b>.</p>";
  const lines = [
    `From: Clinic <${from}>`,
    `To: ${to.join(", ")}`,
    ...(cc.length ? [`Cc: ${cc.join(", ")}`] : []),
    "Subject: Appointment confirmed",
    `Message-ID: ${messageId}`,
    "Date: Sat, 28 Nov 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    "X-Clinic-Ref: A-123",
    'Content-Type: multipart/mixed; boundary="mixed-b1"',
    "",
    "--mixed-b1",
    'Content-Type: multipart/alternative; boundary="alt-b2"',
    "",
    "--alt-b2",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    text,
    "--alt-b2",
    "Content-Type: text/html; charset=utf-8",
    "",
    html,
    "--alt-b2--",
    "--mixed-b1",
    'Content-Type: application/pdf; name="letter.pdf"',
    'Content-Disposition: attachment; filename="letter.pdf"',
    "Content-Transfer-Encoding: base64",
    "",
    b64(PDF_BYTES),
    "--mixed-b1--",
    "",
  ];
  const raw = new TextEncoder().encode(lines.join("\r\n"));
  return {
    id: "msg_01",
    deliveryId: "dlv_01",
    raw,
    messageIdHeader: messageId,
    envelopeFrom: from,
    recipients: o.recipients ?? [...to, ...cc],
    from: `Clinic <${from}>`,
    to,
    cc,
    subject: "Appointment confirmed",
    text,
    html,
    headers: { "X-Clinic-Ref": "A-123" },
    attachments: [{ filename: "letter.pdf", contentType: "application/pdf", content: PDF_BYTES }],
    tags: ["appointments", "reminders"],
    metadata: { patientRef: "p-42", clinic: "north" },
  };
}

export function makeCtx(fetchImpl: typeof fetch = globalThis.fetch, start = Date.UTC(2026, 10, 28, 10, 0, 0)): ProviderContext & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    fetch: fetchImpl,
    advance(ms: number) {
      now += ms;
    },
  };
}

export function uniq(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

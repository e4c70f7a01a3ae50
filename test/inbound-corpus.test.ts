/// <reference types="vite/client" />
// The shared bounce corpus (../shared/corpus/bounces, real messages from many MTAs): every file
// parses and classifies without throwing, and a table of files whose classification was checked
// by reading each message (Action/Status fields, or the prose and its quoted SMTP reply). Hard or
// soft is by reason (core/bounce/reasons.ts): only a recipient-caused reason is hard. Agreement
// with sisimai over the whole corpus is test/bounce-corpus.test.ts.
import { describe, expect, it } from "vitest";
import type { BounceKind } from "../core/bounce/classify";
import { classifyMail } from "../workers/mime-parse";

const corpus = import.meta.glob("../../shared/corpus/bounces/*.eml", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const byName = new Map(Object.entries(corpus).map(([path, text]) => [path.slice(path.lastIndexOf("/") + 1), text]));

// file → expected kind, recipient (null: the report names none we can rely on), status when checked.
const TABLE: [string, BounceKind, string | null, string?][] = [
  ["rfc3464-01.eml", "hard", "userunknown@bouncehammer.jp", "5.1.1"], // Action: failed, Status: 5.1.1
  ["rfc3464-03.eml", "soft", "kijitora@example.com"], // "rejected for policy reasons": the sender's problem
  ["rfc3464-07.eml", "soft", "kijitora@example.net", "4.4.0"], // Action: Delayed
  ["lhost-postfix-03.eml", "soft", "kijitora@example.net"], // "Unknown user" after end of DATA: the recipient's filter
  ["lhost-postfix-05.eml", "hard", "kijitora@example.org", "4.1.1"], // User unknown, given up (failed), however 4.x.x
  ["lhost-sendmail-01.eml", "hard", "userunknown@bouncehammer.jp", "5.1.1"],
  ["lhost-sendmail-03.eml", "hard", "bounce0@example.org", "5.1.1"],
  ["lhost-exchange2007-01.eml", "hard", "mikeneko@example.co.jp", "5.1.1"], // RESOLVER.ADR.RecipNotFound
  ["lhost-office365-03.eml", "soft", "kijitora@example.com", "5.1.0"], // not allowed to send per SPF: blocked
  ["lhost-courier-01.eml", "hard", "kijitora@example.co.jp"],
  ["rhost-google-01.eml", "soft", "shironeko@example.ne.jp", "5.2.1"], // account disabled: suspend, may come back
  ["lhost-amazonses-17.eml", "soft", "kijitora@example.com", "4.4.7"], // expired in queue: 4.x.x
  ["lhost-amazonses-09.eml", "hard", "bounce@simulator.amazonses.com", "5.1.1"], // SNS JSON, bounceType Permanent
  ["lhost-amazonses-11.eml", "complaint", "complaint@simulator.amazonses.com"], // SNS JSON complaint
  ["lhost-qmail-01.eml", "hard", "kijitora@example.ne.jp", "5.5.0"], // "<addr>:" ... 550 ... (#5.5.0)
  ["lhost-qmail-03.eml", "soft", "kijitora@example.org"], // "sender was rejected"
  ["lhost-exim-05.eml", "hard", "kijitora@neko.example.co.jp", "5.1.1"], // 553 5.1.1 unknown or illegal user
  ["lhost-exim-41.eml", "soft", "kijitora@example.net"], // "has not yet been delivered", 450
  ["lhost-gmail-01.eml", "hard", "userunknown@example.jp", "5.1.1"], // "failed permanently"
  ["lhost-gmail-09.eml", "soft", "kijitora@9jo.example.jp"], // "has been delayed", warning only
  ["lhost-yahoo-01.eml", "hard", "kijitora@example.org", "5.1.1"],
  ["arf-01.eml", "complaint", "redacted@example.net"], // Feedback-Type: abuse
  ["arf-17.eml", "complaint", "kijitora@example.com"], // Original-Rcpt-To
  ["arf-19.eml", "not_bounce", "kijitora@example.org"], // Feedback-Type: auth-failure is no complaint
  ["arf-23.eml", "complaint", "kijitora@example.com"], // Hotmail-style "complaint about message", original attached
  ["rfc3834-01.eml", "auto_reply", "kijitora@example.net"], // "Away until May 5", Auto-Submitted: auto-replied
  ["rfc3834-03.eml", "auto_reply", "kijitora@apple.example.com"], // X-Apple-Action: VACATION
  ["rfc3834-05.eml", "auto_reply", "foo@bar.net"],
  ["not-a-bounce-is-not-bounce-01.eml", "not_bounce", null],
  ["not-a-bounce-is-not-bounce-02.eml", "not_bounce", null], // forwards a message as an attachment
  // Named "not-a-bounce" upstream, but reading it: "reject reason: Mailbox full" for xxxx@yyyyyy.net.
  ["not-a-bounce-rb-issue-368-bug.eml", "soft", "xxxx@yyyyyy.net"],
  // The failed recipient, never the sender quoted beside it (these named the sender before):
  ["lhost-verizon-01.eml", "hard", "0000000000@vzwpix.com"], // the returned copy's To, not its From
  ["lhost-v5sendmail-07.eml", "hard", "hachiware@example.edu"], // ">>> RCPT To:", not ">>> MAIL From:"
  ["lhost-apachejames-01.eml", "hard", "000000000000@vtext.example.com"], // "RCPT TO:", not "MAIL FROM:"
  // A transcript's failure, not the 2.0.0 answers quoted before it.
  ["lhost-postfix-75.eml", "soft", "kijitora@libsisimai.net", "4.3.0"],
  // Multipart parts that do not match the declared boundary: the body is read as text.
  ["rhost-franceptt-07.eml", "soft", "xxxx@wanadoo.fr"], // 421 ... please try later
  // A DSN whose Status is only a class: the specific status from the diagnostic or the text.
  ["lhost-amazonses-03.eml", "soft", "kijitora@example.jp", "5.2.2"], // SES's generic 5.1.0 first, then the server's 5.2.2 Mailbox Full
  ["lhost-opensmtpd-17.eml", "hard", "userunknown@libsisimai.net", "5.1.1"], // Status 5.0.0, no Diagnostic-Code; the text says 550 5.1.1
  // A full mailbox and a delivery the MTA gave up on are soft, however "permanent" the wording.
  ["lhost-exim-07.eml", "soft", null], // "permanent error ... mailbox is full"
  ["lhost-x2-03.eml", "soft", "kijitora@example.org"], // "in the queue too long"
];

describe("bounce corpus", () => {
  it("is there", () => {
    expect(byName.size).toBeGreaterThan(300);
  });

  it("every file parses and classifies", async () => {
    const kinds: Record<string, number> = {};
    for (const [name, text] of byName) {
      const c = await classifyMail(text).catch((e: unknown) => {
        throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
      });
      kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
    }
    // Nearly all of the corpus is bounces; the few others are auto-replies, ARF and non-bounces.
    expect((kinds.hard ?? 0) + (kinds.soft ?? 0)).toBeGreaterThan(280);
    expect(kinds.complaint ?? 0).toBeGreaterThanOrEqual(7);
  });

  it.each(TABLE)("%s → %s %s", async (file, kind, recipient, status) => {
    const text = byName.get(file);
    expect(text, file).toBeDefined();
    const c = await classifyMail(text!);
    expect(c.kind).toBe(kind);
    // The named recipient is the one the report is about, or one of them when it lists several.
    if (recipient !== null) expect([c.recipient, ...c.recipients.map((r) => r.email)]).toContain(recipient);
    if (status) expect(c.status).toBe(status);
  });
});

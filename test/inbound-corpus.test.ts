/// <reference types="vite/client" />
// The shared bounce corpus (../shared/corpus/bounces, real messages from many MTAs): every file
// parses and classifies without throwing, and a table of files whose classification was checked
// by reading each message (Action/Status fields, or the prose and its quoted SMTP reply).
import { describe, expect, it } from "vitest";
import { classifyMail, type BounceKind } from "../core/bounce/classify";

const corpus = import.meta.glob("../../shared/corpus/bounces/*.eml", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const byName = new Map(Object.entries(corpus).map(([path, text]) => [path.slice(path.lastIndexOf("/") + 1), text]));

// file → expected kind, recipient (null: the report names none we can rely on), status when checked.
const TABLE: [string, BounceKind, string | null, string?][] = [
  ["rfc3464-01.eml", "hard", "userunknown@bouncehammer.jp", "5.1.1"], // Action: failed, Status: 5.1.1
  ["rfc3464-03.eml", "hard", "kijitora@example.com"],
  ["rfc3464-07.eml", "soft", "kijitora@example.net", "4.4.0"], // Action: Delayed
  ["lhost-postfix-03.eml", "hard", "kijitora@example.net"],
  ["lhost-postfix-05.eml", "soft", "kijitora@example.org", "4.1.1"], // failed, but a 4.x.x status
  ["lhost-sendmail-01.eml", "hard", "userunknown@bouncehammer.jp", "5.1.1"],
  ["lhost-sendmail-03.eml", "hard", "bounce0@example.org", "5.1.1"],
  ["lhost-exchange2007-01.eml", "hard", "mikeneko@example.co.jp", "5.1.1"], // RESOLVER.ADR.RecipNotFound
  ["lhost-office365-03.eml", "hard", "kijitora@example.com", "5.1.0"],
  ["lhost-courier-01.eml", "hard", "kijitora@example.co.jp"],
  ["rhost-google-01.eml", "hard", "shironeko@example.ne.jp", "5.2.1"], // account disabled
  ["lhost-amazonses-17.eml", "soft", "kijitora@example.com", "4.4.7"], // expired in queue: 4.x.x
  ["lhost-amazonses-09.eml", "hard", "bounce@simulator.amazonses.com", "5.1.1"], // SNS JSON, bounceType Permanent
  ["lhost-amazonses-11.eml", "complaint", "complaint@simulator.amazonses.com"], // SNS JSON complaint
  ["lhost-qmail-01.eml", "hard", "kijitora@example.ne.jp", "5.5.0"], // "<addr>:" ... 550 ... (#5.5.0)
  ["lhost-qmail-03.eml", "hard", "kijitora@example.org"],
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
    if (recipient !== null) expect(c.recipient).toBe(recipient);
    if (status) expect(c.status).toBe(status);
  });
});

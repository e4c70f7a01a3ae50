/// <reference types="vite/client" />
// The bounce reader on small hand-written reports: who failed (never the sender), why (the
// reason), what that means (hard only when the recipient is the problem), and the status (from
// the report, else inferred and marked so).
import { describe, expect, it } from "vitest";
import { addressField, findAddresses } from "../core/bounce/address";
import { bounceRecord } from "../core/bounce/policy";
import { classifyReason, reasonFromText, smtpCommand } from "../core/bounce/reason";
import { isHard, REASON_INFO, REASONS } from "../core/bounce/reasons";
import { classifyMail } from "../workers/mime-parse";
import { crlf } from "./inbound-fixtures";
import readme from "../README.md?raw";

function dsn(recipient: string, status: string, diagnostic: string, action = "failed"): string {
  return crlf(`From: MAILER-DAEMON@mx.relay.example
To: bounces@bounces.relay.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.relay.example

Final-Recipient: rfc822; ${recipient}
Action: ${action}
Status: ${status}
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; ${diagnostic}

--b--
`);
}

function prose(body: string, headers = ""): string {
  return crlf(`From: Mail Delivery System <MAILER-DAEMON@mx.clinic.example>
To: sender@clinic.example
Subject: Mail delivery failed: returning message to sender
${headers}
${body}
------ This is a copy of the message, including all the headers. ------
Return-path: <sender@clinic.example>
From: Clinic <sender@clinic.example>
To: patient@example.net
Message-ID: <20261128.abc123@clinic.example>
Subject: Your appointment

Hello
`);
}

describe("addresses", () => {
  it("keeps a quoted local part, drops a source route, lowercases only the domain", () => {
    expect(addressField('rfc822; "john smith"@Example.NET')).toBe('"john smith"@example.net');
    expect(addressField("rfc822; <@relay.example.org:Patient@example.net>")).toBe("Patient@example.net");
    expect(addressField("x-unix; |/usr/bin/procmail")).toBeNull();
    expect(findAddresses("to <patient@example.net>.").map((f) => f.address)).toEqual(["patient@example.net"]);
    expect(findAddresses("route @a.example,@b.example:user@c.example").map((f) => f.address)).toEqual(["user@c.example"]);
  });
});

describe("the failed recipient", () => {
  it("is the DSN's Final-Recipient, with its quotes", async () => {
    const c = await classifyMail(dsn('"j.doe"@example.net', "5.1.1", "550 5.1.1 user unknown"));
    expect(c.recipient).toBe('"j.doe"@example.net');
  });

  it("in prose: the quoted RCPT TO, never the MAIL FROM, the bounce's From or To, or a Message-ID", async () => {
    const c = await classifyMail(
      prose(`This message was created automatically by mail delivery software.
A message sent by
  <sender@clinic.example>
could not be delivered. The following address(es) failed:
    SMTP error from remote mail server after RCPT TO:<patient@example.net>:
    host mx.example.net [192.0.2.1]: 550 5.1.1 unknown user
Original message id <20261128.abc123@clinic.example>
`),
    );
    expect(c.recipients.map((r) => r.email)).toEqual(["patient@example.net"]);
    expect(c).toMatchObject({ kind: "hard", reason: "userunknown", status: "5.1.1", remoteMta: "mx.example.net" });
  });

  it("in prose: every address that opens a failure block, each with its own reason", async () => {
    const c = await classifyMail(
      prose(`Hi. This is the qmail-send program at mx.clinic.example.
I'm afraid I wasn't able to deliver your message to the following addresses.

<gone@example.net>:
192.0.2.25 does not like recipient.
Remote host said: 550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown

<full@example.org>:
192.0.2.26 does not like recipient.
Remote host said: 552 5.2.2 <full@example.org>: Mailbox full
`),
    );
    expect(c.recipients.map((r) => [r.email, r.reason, r.kind, r.status])).toEqual([
      ["gone@example.net", "userunknown", "hard", "5.1.1"],
      ["full@example.org", "mailboxfull", "soft", "5.2.2"],
    ]);
  });

  it("falls back to X-Failed-Recipients, then the returned copy's To", async () => {
    const c = await classifyMail(prose("The mail server could not deliver your message.\n  retry timeout exceeded\n", "X-Failed-Recipients: group@lists.example.net"));
    expect(c.recipient).toBe("group@lists.example.net");
    const d = await classifyMail(prose("Your message could not be delivered: mailbox unavailable.\n"));
    expect(d.recipient).toBe("patient@example.net");
  });
});

describe("reasons", () => {
  it("are sisimai's names, each with a cause", () => {
    for (const r of REASONS) expect(REASON_INFO[r].meaning).toBeTruthy();
    expect(REASONS.filter((r) => isHard(r, "5"))).toEqual(["userunknown", "hostunknown", "hasmoved", "notaccept"]);
    expect(isHard("notaccept", "4")).toBe(false);
  });

  it("are all in the README's table, with whether they suppress", () => {
    for (const r of REASONS) {
      const row = readme.split("\n").find((l) => l.startsWith(`| \`${r}\` |`));
      expect(row, r).toBeDefined();
      expect(row!.includes("| counts"), r).toBe(isHard(r, "5"));
    }
  });

  it.each([
    ["554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", "blocked"],
    ["550 5.7.606 Access denied, banned sending IP [192.0.2.1]", "blocked"],
    ["451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation", "blocked"],
    ["554 5.7.0 Reject, id=12345 - SPAM", "spamdetected"],
    ["550 5.7.1 Email rejected per DMARC policy for clinic.example", "policyviolation"],
    ["452 4.3.2 Connection rate limit exceeded", "toomanyconn"],
    ["554 5.7.1 <patient@example.net>: Relay access denied", "norelaying"],
    ["550 Unauthenticated senders not allowed", "securityerror"],
    ["501 5.1.8 Sender address rejected", "rejected"],
    ["550 5.1.1 <patient@example.net>... User Unknown", "userunknown"],
    ["Host or domain name not found. Name service error for name=example.net type=A: Host not found", "hostunknown"],
    ["550 5.1.6 recipient no longer on server", "hasmoved"],
    ["552 5.2.2 Mailbox full", "mailboxfull"],
    ["550 5.2.1 The email account that you tried to reach is disabled.", "suspend"],
    ["552 5.3.4 Message too large", "mesgtoobig"],
    ["connect to mx.example.net[192.0.2.1]:25: Connection timed out", "expired"],
  ])("%s → %s", (text, reason) => {
    expect(reasonFromText(text)).toBe(reason);
  });

  it("weighs the command: an unknown user after DATA is the recipient's filter, given to MAIL FROM it is the sender", () => {
    const base = { status: null, replyCode: "550", action: "failed", delayed: false };
    expect(classifyReason({ ...base, text: "550 Unknown user patient@example.net", command: "RCPT" })).toBe("userunknown");
    expect(classifyReason({ ...base, text: "550 Unknown user patient@example.net", command: "DATA" })).toBe("filtered");
    expect(classifyReason({ ...base, text: "553 5.1.0 clinic.example does not exist", command: "MAIL" })).toBe("rejected");
    expect(smtpCommand("host mx.example.net said: 550 no (in reply to RCPT TO command)")).toBe("RCPT");
    expect(smtpCommand(">>> RCPT To:<a@example.net>\n<<< 550 5.1.1 unknown\n>>> DATA\n<<< 503 Need RCPT")).toBe("RCPT");
  });
});

describe("status", () => {
  it("comes from the DSN, else the text, else the reason (marked inferred)", async () => {
    expect(await classifyMail(dsn("a@example.net", "5.0.0", "550 5.2.2 Mailbox Full"))).toMatchObject({ status: "5.2.2", statusInferred: false });
    const inferred = await classifyMail(prose("  patient@example.net\n    Sorry, no mailbox here by that name.\n"));
    expect(inferred).toMatchObject({ reason: "userunknown", status: "5.1.1", statusInferred: true });
  });
});

describe("what a bounce means for the recipient", () => {
  it("blocked is final but never suppresses; an unknown user does, unless the report names another address", async () => {
    const blocked = (await classifyMail(dsn("patient@example.net", "5.7.1", "554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org"))).recipients[0]!;
    expect(bounceRecord(blocked, "patient@example.net")).toMatchObject({ type: "soft", final: true, reason: "blocked", cause: "sender", suppress: false });
    const gone = (await classifyMail(dsn("patient@example.net", "5.1.1", "550 5.1.1 user unknown"))).recipients[0]!;
    expect(bounceRecord(gone, "Patient@Example.net")).toMatchObject({ type: "hard", suppress: true, recipient_matched: true });
    expect(bounceRecord(gone, "someone-else@example.net")).toMatchObject({ type: "hard", suppress: false, recipient_matched: false });
    const delayed = (await classifyMail(dsn("patient@example.net", "4.4.7", "421 4.4.2 connection timed out", "delayed"))).recipients[0]!;
    expect(bounceRecord(delayed, "patient@example.net")).toMatchObject({ type: "soft", final: false, reason: "expired", suppress: false });
  });
});

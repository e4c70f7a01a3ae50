import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "./errors";
import { replyText, SMTP_REPLIES, smtpReplyForCode } from "./smtp-replies";

describe("the relay's error codes as SMTP replies", () => {
  it("has one reply for every error code and none for a code that does not exist", () => {
    expect(Object.keys(SMTP_REPLIES).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(smtpReplyForCode("constructor")).toBeUndefined();
    expect(smtpReplyForCode("__proto__")).toBeUndefined();
    expect(smtpReplyForCode("rate_limited")).toEqual({ code: 452, enhanced: "4.7.0" });
  });

  it("uses replies a server may give to a message, with an enhanced code of the same class", () => {
    for (const [code, r] of Object.entries(SMTP_REPLIES)) {
      expect([451, 452, 550, 552, 554], code).toContain(r.code);
      expect(r.enhanced, code).toMatch(/^[45]\.\d{1,3}\.\d{1,3}$/);
      expect(r.enhanced[0], code).toBe(String(r.code)[0]);
    }
  });

  it("is temporary exactly where waiting helps: limits and our own failures", () => {
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      const temporary = SMTP_REPLIES[code as keyof typeof ERROR_CODES].code < 500;
      expect(temporary, code).toBe(status === 429 || status >= 500);
    }
  });

  it("pins the replies senders and tests depend on", () => {
    expect(SMTP_REPLIES.rate_limited).toEqual({ code: 452, enhanced: "4.7.0" });
    expect(SMTP_REPLIES.sender_domain_not_verified).toEqual({ code: 550, enhanced: "5.7.1" });
    expect(SMTP_REPLIES.forbidden).toEqual({ code: 550, enhanced: "5.7.1" });
    expect(SMTP_REPLIES.unauthorized).toEqual({ code: 550, enhanced: "5.7.8" });
    expect(SMTP_REPLIES.idempotency_conflict).toEqual({ code: 550, enhanced: "5.6.0" });
    expect(SMTP_REPLIES.invalid_mime).toEqual({ code: 550, enhanced: "5.6.0" });
    expect(SMTP_REPLIES.message_too_large).toEqual({ code: 552, enhanced: "5.3.4" });
    expect(SMTP_REPLIES.unavailable).toEqual({ code: 451, enhanced: "4.3.0" });
    expect(SMTP_REPLIES.internal_error).toEqual({ code: 451, enhanced: "4.3.0" });
  });

  it("keeps echoed text to one printable line", () => {
    expect(replyText("a\r\n250 ok\tc\u0000d\u2028e")).toBe("a 250 ok c d e");
    expect(replyText("x".repeat(400))).toHaveLength(300);
  });
});

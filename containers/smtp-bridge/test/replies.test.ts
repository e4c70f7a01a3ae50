import { describe, expect, it } from "vitest";
import { interpretSubmit, parseRetryAfter } from "../src/relay-client.ts";
import { replyForSubmit, sanitize } from "../src/replies.ts";

const rejected = (status: number, code: string, message = "relay says no", retryAfterS: number | null = null) =>
  replyForSubmit({ kind: "rejected", status, code, message, retryAfterS });

describe("relay answer → SMTP reply", () => {
  it("maps every documented relay error", () => {
    expect(replyForSubmit({ kind: "accepted", id: "msg_1", replayed: false })).toEqual({ code: 250, text: "2.0.0 Ok: queued as msg_1" });
    expect(rejected(400, "validation_error")).toEqual({ code: 550, text: "5.6.0 relay says no" });
    expect(rejected(400, "invalid_address")).toEqual({ code: 550, text: "5.1.3 relay says no" });
    expect(rejected(400, "header_injection")).toEqual({ code: 550, text: "5.6.0 relay says no" });
    expect(rejected(401, "unauthorized")).toEqual({ code: 550, text: "5.7.8 relay says no" });
    expect(rejected(403, "forbidden")).toEqual({ code: 550, text: "5.7.1 relay says no" });
    expect(rejected(403, "sender_domain_not_verified")).toEqual({ code: 550, text: "5.7.1 relay says no" });
    expect(rejected(409, "idempotency_conflict")).toEqual({ code: 550, text: "5.6.0 relay says no" });
    expect(rejected(413, "message_too_large")).toEqual({ code: 552, text: "5.3.4 relay says no" });
    expect(rejected(429, "rate_limited", "slow down", 30)).toEqual({ code: 452, text: "4.5.3 slow down (retry after 30 seconds)" });
    expect(rejected(429, "rate_limited", "slow down")).toEqual({ code: 452, text: "4.5.3 slow down" });
    expect(rejected(422, "something_new")).toEqual({ code: 550, text: "5.7.0 relay says no" });
    expect(rejected(408, "http_408").code).toBe(451);
    expect(replyForSubmit({ kind: "unavailable", reason: "econnrefused", status: null })).toEqual({
      code: 451,
      text: "4.3.0 Relay temporarily unavailable, try again later",
    });
  });

  it("keeps relay text to one printable line", () => {
    expect(sanitize("a\r\nb\tc\u0000d\u2028e")).toBe("a b c d e");
    expect(sanitize("x".repeat(400))).toHaveLength(300);
    expect(rejected(400, "validation_error", "bad\r\n250 ok").text).toBe("5.6.0 bad 250 ok");
    expect(rejected(400, "validation_error", "").text).toBe("5.6.0 relay refused the message (validation_error)");
  });
});

describe("interpretSubmit", () => {
  it("reads accepted and replayed answers", () => {
    expect(interpretSubmit(202, {}, '{"id":"msg_9","status":"queued","recipients":[]}')).toEqual({ kind: "accepted", id: "msg_9", replayed: false });
    expect(interpretSubmit(202, { "idempotent-replayed": "true" }, '{"id":"msg_9"}')).toMatchObject({ replayed: true });
  });
  it("treats an unreadable 2xx and any 5xx as unavailable (the client retries)", () => {
    expect(interpretSubmit(202, {}, "not json").kind).toBe("unavailable");
    expect(interpretSubmit(202, {}, '{"id":"bad id\\r\\n"}').kind).toBe("unavailable");
    expect(interpretSubmit(502, {}, "").kind).toBe("unavailable");
  });
  it("reads the error body and Retry-After", () => {
    expect(interpretSubmit(429, { "retry-after": "7" }, '{"error":{"code":"rate_limited","message":"m"}}')).toEqual({
      kind: "rejected",
      status: 429,
      code: "rate_limited",
      message: "m",
      retryAfterS: 7,
    });
    expect(interpretSubmit(400, {}, "<html>")).toMatchObject({ code: "http_400", message: "" });
  });
  it("parses Retry-After dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:01:00 GMT", now)).toBe(60);
    expect(parseRetryAfter("soon", now)).toBeNull();
  });
});

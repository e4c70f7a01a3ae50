import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { interpretSubmit, parseRetryAfter } from "../src/relay-client.ts";
import { localRejectionReply, replyForSubmit, sanitize } from "../src/replies.ts";

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
    expect(rejected(429, "rate_limited", "slow down", 30)).toEqual({ code: 452, text: "4.7.0 slow down (retry after 30 seconds)" });
    expect(rejected(429, "rate_limited", "slow down")).toEqual({ code: 452, text: "4.7.0 slow down" });
    expect(rejected(429, "http_429", "", 5)).toEqual({ code: 452, text: "4.7.0 relay refused the message (http_429) (retry after 5 seconds)" });
    expect(rejected(413, "http_413").code).toBe(552);
    expect(rejected(404, "not_found")).toEqual({ code: 550, text: "5.1.1 relay says no" });
    expect(rejected(422, "no_provider")).toEqual({ code: 550, text: "5.3.0 relay says no" });
    expect(rejected(400, "constructor")).toEqual({ code: 550, text: "5.7.0 relay says no" });
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

// The Worker's modules, loaded at run time: vitest transforms them like ours, but this project's
// tsc (erasable syntax only, Node resolution) does not read them, as Node's type stripping could
// not run core/errors.ts either. Only their shapes are declared here.
const fromRepo = (file: string) => pathToFileURL(path.resolve(import.meta.dirname, "../../..", file)).href;
const { ERROR_CODES, RelayError } = (await import(fromRepo("core/errors.ts"))) as {
  ERROR_CODES: Record<string, number>;
  RelayError: new (code: string, message: string) => Error;
};
const { inboundRefusal } = (await import(fromRepo("workers/email-ingest/refusal.ts"))) as {
  inboundRefusal: (e: Error) => { code: number; enhanced: string; text: string; temporary: boolean };
};

describe("one mapping for the bridge and inbound mail", () => {
  it("answers every relay error code as inbound mail refuses it", () => {
    const codes = Object.keys(ERROR_CODES);
    expect(codes.length).toBeGreaterThan(20);
    for (const code of codes) {
      const status = ERROR_CODES[code]!;
      // The bridge's whole path: the relay's HTTP answer, read, then mapped.
      const bridge = replyForSubmit(interpretSubmit(status, {}, JSON.stringify({ error: { code, message: "m" } })));
      const inbound = inboundRefusal(new RelayError(code, "m"));
      expect({ code, reply: bridge.code, enhanced: bridge.text.split(" ")[0] }).toEqual({ code, reply: inbound.code, enhanced: inbound.enhanced });
      expect(inbound.temporary).toBe(inbound.code < 500);
    }
  });

  it("refuses malformed mail and oversize with the replies of invalid_mime and message_too_large", () => {
    const limits = { maxBytes: 10, maxLineLength: 998, maxHeaderBytes: 100 };
    const asInbound = (code: string) => {
      const r = inboundRefusal(new RelayError(code, "m"));
      return [r.code, r.enhanced];
    };
    for (const reason of ["bare_lf", "bare_cr", "nul", "control_dot", "line_too_long"] as const) {
      const r = localRejectionReply(reason, limits);
      expect([r.code, r.text.split(" ")[0]]).toEqual(asInbound("invalid_mime"));
    }
    for (const reason of ["too_large", "header_too_large"] as const) {
      const r = localRejectionReply(reason, limits);
      expect([r.code, r.text.split(" ")[0]]).toEqual(asInbound("message_too_large"));
    }
  });
});

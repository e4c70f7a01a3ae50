import { describe, expect, it } from "vitest";
import { RelayError } from "../../core/errors";
import { inboundRefusal } from "./refusal";

describe("inbound refusals", () => {
  it("are `<code> <enhanced> <message>` on one line", () => {
    expect(inboundRefusal(new RelayError("sender_domain_not_verified", "sender domain a.example is not verified for this workspace (from)"))).toEqual({
      code: 550,
      enhanced: "5.7.1",
      text: "550 5.7.1 sender domain a.example is not verified for this workspace (from)",
      temporary: false,
    });
    expect(inboundRefusal(new RelayError("validation_error", "bad\r\n250 ok")).text).toBe("550 5.6.0 bad 250 ok");
    expect(inboundRefusal(new RelayError("not_found", "no such mailbox at this relay")).text).toBe("550 5.1.1 no such mailbox at this relay");
  });

  it("over a limit, or our own failure, are temporary", () => {
    expect(inboundRefusal(new RelayError("rate_limited", "daily sending limit reached"))).toMatchObject({ code: 452, enhanced: "4.7.0", temporary: true });
    expect(inboundRefusal(new RelayError("unavailable", "database down"))).toMatchObject({ code: 451, temporary: true });
  });
});

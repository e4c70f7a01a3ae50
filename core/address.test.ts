import { describe, expect, it } from "vitest";
import { domainOf, isValidAddrSpec, parseAddressList, parseMailbox } from "./address";

describe("addresses", () => {
  it.each([
    ["a@example.com", true],
    ["first.last+tag@sub.example.co.uk", true],
    ['"quoted local"@example.com', true],
    ["a@localhost", false],
    ["a@-bad.example", false],
    ["a@[127.0.0.1]", false],
    ["no-at.example", false],
    ["a..b@example.com", false],
    ["a@example.com\r\nBcc: x@y.z", false],
    [`${"x".repeat(65)}@example.com`, false],
  ])("isValidAddrSpec(%s) = %s", (addr, ok) => expect(isValidAddrSpec(addr)).toBe(ok));

  it("parses one mailbox with its display name and lower-cases only the domain", () => {
    expect(parseMailbox('"Roe, Jane" <Jane.Roe@Example.COM>')).toEqual({ address: "Jane.Roe@example.com", name: "Roe, Jane" });
    expect(parseMailbox("plain@example.com")).toEqual({ address: "plain@example.com", name: "" });
  });

  it.each([
    "a@example.com",
    "Jane.Roe@Example.COM",
    "first.last+tag@sub.example.co.uk",
    "o'brien@example.ie",
    "x{y}=z?@example.org",
    "a..b@example.com",
    ".a@example.com",
    "a@localhost",
    "a@-bad.example",
    "a@example..com",
  ])("a bare address (%s) gets the same answer as through the full parser", (addr) => {
    // A leading space keeps the input off the bare fast path; the parser trims it.
    expect(parseMailbox(addr)).toEqual(parseMailbox(` ${addr}`));
  });

  it("refuses lists, groups, line breaks and garbage where one mailbox is expected", () => {
    expect(parseMailbox("a@example.com, b@example.com")).toBeNull();
    expect(parseMailbox("Name <a@example.com>\r\nBcc: b@example.com")).toBeNull();
    expect(parseMailbox("not an address")).toBeNull();
    expect(parseMailbox("")).toBeNull();
  });

  it("splits address-list headers and reports invalid entries", () => {
    const r = parseAddressList("A <a@example.com>, team: b@example.com, c@example.org;, junk");
    expect(r.valid.map((m) => m.address)).toEqual(["a@example.com", "b@example.com", "c@example.org"]);
    expect(r.invalid).toHaveLength(1);
    expect(domainOf("x@Sub.Example.com")).toBe("sub.example.com");
  });
});

import { describe, expect, it } from "vitest";
import { checkOutboundUrl, classifyHost, parseIpv6 } from "./url-policy";

const refused = (u: string, opts = {}) => !checkOutboundUrl(u, opts).ok;

describe("outbound URL policy", () => {
  it("parses IPv6 with :: expanded and a trailing dotted quad", () => {
    expect(parseIpv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("64:ff9b::7f00:1")).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0x7f00, 1]);
    expect(parseIpv6("::ffff:127.0.0.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    expect(parseIpv6("2002:7f00:1::")).toEqual([0x2002, 0x7f00, 1, 0, 0, 0, 0, 0]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const bad of ["1::2::3", "1:2:3", "12345::", "::g", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "::1.2.3"]) expect(parseIpv6(bad)).toBeNull();
  });

  it("refuses the review's NAT64 and 6to4 forms of 127.0.0.1, and every other embedding of a private IPv4", () => {
    for (const u of [
      "https://[64:ff9b::7f00:1]/",
      "https://[64:ff9b::127.0.0.1]/",
      "https://[64:ff9b::a00:1]/", // NAT64 of 10.0.0.1
      "https://[64:ff9b:1::a9fe:a9fe]/", // local-use NAT64: refused whatever it embeds
      "https://[2002:7f00:1::]/",
      "https://[2002:a9fe:a9fe::1]/", // 6to4 of 169.254.169.254
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:7f00:1]/",
      "https://[0:0:0:0:0:ffff:a00:1]/",
      "https://[::127.0.0.1]/", // IPv4-compatible (deprecated)
      "https://[::8.8.8.8]/", // … refused even when the IPv4 is public
      "https://[::ffff:0:7f00:1]/", // IPv4-translated
      "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", // Teredo
    ]) expect(refused(u), u).toBe(true);
  });

  it("refuses link-local, unique-local, site-local, multicast, documentation, unspecified and loopback IPv6", () => {
    for (const h of ["[fe80::1]", "[febf::1]", "[fc00::1]", "[fd12:3456::1]", "[fec0::1]", "[ff02::1]", "[ff05::2]", "[2001:db8::1]", "[3fff::1]", "[::]", "[::1]", "[100::1]", "[2001:10::1]"]) {
      expect(refused(`https://${h}/`), h).toBe(true);
    }
  });

  it("refuses private, reserved and special IPv4 in every spelling URL accepts, and intranet names", () => {
    for (const u of [
      "https://127.0.0.1/", "https://0x7f.1/", "https://2130706433/", "https://0177.0.0.1/", "https://0.0.0.0/",
      "https://10.1.2.3/", "https://172.16.0.1/", "https://192.168.1.1/", "https://169.254.169.254/latest", "https://100.64.0.1/",
      "https://192.0.2.1/", "https://198.51.100.7/", "https://203.0.113.9/", "https://198.18.0.1/", "https://224.0.0.1/", "https://255.255.255.255/",
      "https://localhost/", "https://api.localhost/", "https://db/", "https://printer.local/", "https://vault.internal/", "https://nas.home.arpa/",
    ]) expect(refused(u), u).toBe(true);
  });

  it("accepts public hosts and addresses, including NAT64 and 6to4 of a public IPv4", () => {
    for (const u of ["https://hooks.example.com/x", "https://8.8.8.8/", "https://[2606:4700:4700::1111]/", "https://[64:ff9b::808:808]/", "https://[2002:808:808::1]/", "https://[::ffff:8.8.8.8]/"]) {
      expect(checkOutboundUrl(u).ok, u).toBe(true);
    }
  });

  it("allows loopback only where the caller says so, and only as written (never through an embedding)", () => {
    expect(checkOutboundUrl("http://127.0.0.1:8080/v1", { allowLoopback: true }).ok).toBe(true);
    expect(checkOutboundUrl("http://localhost:8080/v1", { allowLoopback: true }).ok).toBe(true);
    expect(checkOutboundUrl("http://[::1]:8080/v1", { allowLoopback: true }).ok).toBe(true);
    expect(refused("http://127.0.0.1:8080/v1")).toBe(true);
    expect(refused("https://[64:ff9b::7f00:1]/", { allowLoopback: true })).toBe(true);
    expect(refused("https://[::ffff:127.0.0.1]/", { allowLoopback: true })).toBe(true);
    expect(refused("http://10.0.0.1/", { allowLoopback: true })).toBe(true);
    expect(refused("http://api.example.org/", { allowLoopback: true })).toBe(true);
    // Development and tests (WEBHOOK_ALLOW_PRIVATE_URLS): anything, http included.
    expect(checkOutboundUrl("http://10.0.0.1/", { allowPrivate: true }).ok).toBe(true);
  });

  it("refuses credentials in the URL and other schemes", () => {
    expect(refused("https://user:pw@hooks.example.com/")).toBe(true);
    expect(refused("ftp://hooks.example.com/")).toBe(true);
    expect(refused("not a url")).toBe(true);
  });

  it("classifies as written: a trailing dot does not hide a name", () => {
    expect(classifyHost("localhost.").kind).toBe("loopback");
    expect(classifyHost("db.internal.").kind).toBe("blocked");
  });
});

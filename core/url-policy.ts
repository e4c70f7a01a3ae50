// The one policy for every URL the relay fetches on a tenant's say-so: webhook endpoints, a JWT
// issuer's JWKS, the LLM base URL, provider endpoints (SSRF).
//
// What it guarantees: the URL is https (or http to a loopback test server where the caller
// allows it), carries no credentials, and its host, as written, is a public name or a public
// address. IP literals are parsed, not pattern-matched: IPv4 in every form WHATWG URL accepts
// (it normalises 0x7f.1, 2130706433, 0177.0.0.1 to dotted quads before we see them) and IPv6
// with `::` expanded. IPv6 forms that carry an IPv4 address are judged by that address or
// refused: IPv4-mapped ::ffff:0:0/96 (dotted or hex), the deprecated IPv4-compatible ::/96 and
// IPv4-translated ::ffff:0:0:0/96 (refused), NAT64 64:ff9b::/96 (judged by the embedded
// address) and the local-use 64:ff9b:1::/48 (refused), 6to4 2002::/16 (judged by the embedded
// address), Teredo 2001::/32 (refused: its address is obfuscated and it is a tunnel by design).
// Only global unicast 2000::/3 can pass; inside it the documentation, ORCHID and other
// IETF special-purpose blocks are refused, as are link-local, unique-local, site-local,
// multicast, unspecified and loopback everywhere else.
//
// What it does not do: resolve names. A public name may resolve to a private address; the
// relay runs on Cloudflare Workers, whose fetch() leaves from Cloudflare's edge and cannot reach
// the deployment's private networks or the machine's loopback, so a DNS answer is not a way
// in. The name is re-checked before every delivery (a stored URL is not trusted because it was
// valid when saved), and callers fetch with `redirect: "manual"` so a 3xx cannot send the
// request to a host this policy never saw (webhooks: a 3xx is a failed attempt; JWKS: not a
// key set). In tests and local development loopback is allowed where the caller says so
// (provider and LLM simulators on 127.0.0.1; webhooks only with WEBHOOK_ALLOW_PRIVATE_URLS).

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export type HostClass = { kind: "public" } | { kind: "loopback" } | { kind: "blocked"; reason: string };

export interface OutboundUrlOptions {
  /** Development and tests only: any host, and http (WEBHOOK_ALLOW_PRIVATE_URLS). */
  allowPrivate?: boolean;
  /** http or https to a literal loopback host (localhost, 127/8, ::1): local simulators. */
  allowLoopback?: boolean;
}

const PRIVATE_REASON = "private, loopback, link-local and reserved hosts are not allowed";

export function checkOutboundUrl(input: string, opts: OutboundUrlOptions = {}): UrlCheck {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  if (url.username || url.password) return { ok: false, reason: "credentials in the URL are not allowed" };
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "must be an https:// URL" };
  if (opts.allowPrivate) return { ok: true, url };
  const host = classifyHost(url.hostname);
  if (host.kind === "loopback" && opts.allowLoopback) return { ok: true, url };
  if (url.protocol !== "https:") return { ok: false, reason: opts.allowLoopback ? "must be an https:// URL (http is allowed only for a loopback test server)" : "must be an https:// URL" };
  if (host.kind === "public") return { ok: true, url };
  return { ok: false, reason: host.kind === "blocked" ? host.reason : PRIVATE_REASON };
}

/** What a URL's hostname (as WHATWG URL gives it: lower case, IPv6 in brackets) names. */
export function classifyHost(hostname: string): HostClass {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) return { kind: "loopback" };
  if (h.includes(":")) {
    const v6 = parseIpv6(h);
    return v6 ? classifyV6(v6) : { kind: "blocked", reason: "not a valid IPv6 address" };
  }
  const v4 = parseIpv4(h);
  if (v4) return classifyV4(v4);
  if (/^[\d.]+$/.test(h)) return { kind: "blocked", reason: "not a valid IPv4 address" };
  if (h.endsWith(".local") || h.endsWith(".internal") || h.endsWith(".home.arpa") || h.endsWith(".lan") || h.endsWith(".intranet")) {
    return { kind: "blocked", reason: PRIVATE_REASON };
  }
  // A single label (http://db/) is an intranet name, never a public one.
  if (!h.includes(".")) return { kind: "blocked", reason: PRIVATE_REASON };
  return { kind: "public" };
}

/** Kept for callers that only need a yes/no. */
export const isPrivateHost = (hostname: string): boolean => classifyHost(hostname).kind !== "public";

export function parseIpv4(h: string): [number, number, number, number] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (!m) return null;
  const parts = m.slice(1).map(Number) as [number, number, number, number];
  return parts.every((n) => n <= 255) ? parts : null;
}

function classifyV4([a, b, c]: readonly number[]): HostClass {
  if (a === 127) return { kind: "loopback" };
  const reserved =
    a === 0 || // "this network", 0.0.0.0
    a === 10 ||
    (a === 100 && b! >= 64 && b! <= 127) || // CGNAT
    (a === 169 && b === 254) || // link local, cloud metadata
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || // IETF protocol assignments, TEST-NET-1
    (a === 192 && b === 88 && c === 99) || // 6to4 relay anycast (deprecated)
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) || // TEST-NET-2
    (a === 203 && b === 0 && c === 113) || // TEST-NET-3
    a! >= 224; // multicast, reserved, broadcast
  return reserved ? { kind: "blocked", reason: PRIVATE_REASON } : { kind: "public" };
}

/** Eight 16-bit groups, or null. Accepts `::` compression and a trailing dotted quad. */
export function parseIpv6(input: string): number[] | null {
  if (input.includes("%")) return null; // zone ids name an interface of this machine
  let s = input;
  const lastColon = s.lastIndexOf(":");
  const last = s.slice(lastColon + 1);
  if (last.includes(".")) {
    // "::ffff:1.2.3.4" is "::ffff:102:304": rewrite the quad as its two groups.
    const v4 = parseIpv4(last);
    if (!v4) return null;
    s = `${s.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...head, ...tail].every((w) => /^[0-9a-f]{1,4}$/.test(w))) return null;
  const explicit = head.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  const n = (w: string) => parseInt(w, 16);
  return [...head.map(n), ...Array<number>(8 - explicit).fill(0), ...tail.map(n)];
}

const embeddedV4 = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
const blocked = (what: string): HostClass => ({ kind: "blocked", reason: `${what} addresses are not allowed` });

function classifyV6(g: number[]): HostClass {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const zeroTo = (k: number) => g.slice(0, k).every((x) => x === 0);
  if (zeroTo(8)) return blocked("unspecified (::)");
  if (zeroTo(7) && g7 === 1) return { kind: "loopback" };
  if (zeroTo(5) && g5 === 0xffff) {
    // IPv4-mapped: ::ffff:a.b.c.d, also written ::ffff:7f00:1. Judged as the IPv4 address, but
    // never as a loopback allowance: a test server is reached as 127.0.0.1, not through this.
    const v4 = classifyV4(embeddedV4(g6, g7));
    return v4.kind === "public" ? v4 : blocked("IPv4-mapped private or loopback");
  }
  if (zeroTo(6)) return blocked("IPv4-compatible (deprecated ::a.b.c.d)");
  if (zeroTo(4) && g4 === 0xffff && g5 === 0) return blocked("IPv4-translated (::ffff:0:a.b.c.d)");
  if (g0 === 0x64 && g1 === 0xff9b) {
    if (g2 === 1) return blocked("local-use NAT64 (64:ff9b:1::/48)");
    if (g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
      const v4 = classifyV4(embeddedV4(g6, g7));
      return v4.kind === "public" ? v4 : blocked("NAT64 (64:ff9b::/96) of a private or loopback IPv4");
    }
    return blocked("NAT64-range");
  }
  if ((g0 & 0xffc0) === 0xfe80) return blocked("link-local (fe80::/10)");
  if ((g0 & 0xffc0) === 0xfec0) return blocked("site-local (fec0::/10)");
  if ((g0 & 0xfe00) === 0xfc00) return blocked("unique-local (fc00::/7)");
  if ((g0 & 0xff00) === 0xff00) return blocked("multicast (ff00::/8)");
  if ((g0 & 0xe000) !== 0x2000) return blocked("non-global (outside 2000::/3)");
  // Inside global unicast: the special-purpose blocks.
  if (g0 === 0x2002) {
    const v4 = classifyV4(embeddedV4(g1, g2));
    return v4.kind === "public" ? v4 : blocked("6to4 (2002::/16) of a private or loopback IPv4");
  }
  if (g0 === 0x2001 && g1 === 0) return blocked("Teredo (2001::/32)");
  if (g0 === 0x2001 && g1 < 0x200) return blocked("IETF special-purpose (2001::/23)");
  if (g0 === 0x2001 && g1 === 0xdb8) return blocked("documentation (2001:db8::/32)");
  if ((g0 & 0xfff0) === 0x3ff0) return blocked("documentation (3fff::/20)");
  return { kind: "public" };
}

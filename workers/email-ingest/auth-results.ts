// Sender authentication of inbound mail, read from the Authentication-Results header (RFC 8601)
// that Email Routing adds. Only a header whose authserv-id is the one we trust counts; any
// other copy could have been written by the sender.
import { domainOf } from "../../core/address";

export interface AuthResults {
  spf: { result: string; domain: string | null } | null;
  dkim: { result: string; domain: string | null }[];
  dmarc: { result: string; domain: string | null } | null;
}

export function parseAuthResults(headerValues: string[], authservId: string): AuthResults | null {
  for (const value of headerValues) {
    const unfolded = value.replace(/\r?\n[ \t]+/g, " ").replace(/\([^()]*\)/g, " ");
    const [id, ...rest] = unfolded.split(";");
    if (id?.trim().split(/\s+/)[0]?.toLowerCase() !== authservId) continue;
    const out: AuthResults = { spf: null, dkim: [], dmarc: null };
    for (const clause of rest) {
      const m = /^\s*(spf|dkim|dmarc)\s*=\s*([a-z]+)(.*)$/i.exec(clause);
      if (!m) continue;
      const method = m[1]!.toLowerCase();
      const result = m[2]!.toLowerCase();
      const props = m[3]!;
      const prop = (name: string) => new RegExp(`${name.replace(".", "\\.")}\\s*=\\s*"?([^\\s";]+)`, "i").exec(props)?.[1] ?? null;
      if (method === "spf") {
        const mailfrom = prop("smtp.mailfrom");
        out.spf = { result, domain: mailfrom ? (mailfrom.includes("@") ? domainOf(mailfrom) : mailfrom.toLowerCase()) : null };
      } else if (method === "dkim") {
        out.dkim.push({ result, domain: prop("header.d")?.toLowerCase() ?? prop("header.i")?.replace(/^.*@/, "").toLowerCase() ?? null });
      } else {
        out.dmarc = { result, domain: prop("header.from")?.toLowerCase() ?? null };
      }
    }
    return out;
  }
  return null;
}

/** Relaxed alignment: the same domain or one a subdomain of the other. */
const aligned = (a: string | null, fromDomain: string) => !!a && (a === fromDomain || a.endsWith(`.${fromDomain}`) || fromDomain.endsWith(`.${a}`));

export type AuthDecision = { ok: true; by: string } | { ok: false; reason: string };

/**
 * The From domain must be authenticated: DMARC pass, or (without a DMARC verdict) an aligned
 * DKIM or SPF pass. An explicit DMARC failure is final.
 */
export function authorizeSender(results: AuthResults | null, fromDomain: string): AuthDecision {
  if (!results) return { ok: false, reason: "no Authentication-Results from the receiving server" };
  if (results.dmarc?.result === "pass" && (!results.dmarc.domain || results.dmarc.domain === fromDomain)) return { ok: true, by: "dmarc" };
  if (results.dmarc && results.dmarc.result !== "none") return { ok: false, reason: `DMARC ${results.dmarc.result}` };
  if (results.dkim.some((d) => d.result === "pass" && aligned(d.domain, fromDomain))) return { ok: true, by: "dkim" };
  if (results.spf?.result === "pass" && aligned(results.spf.domain, fromDomain)) return { ok: true, by: "spf" };
  const seen = [results.spf ? `SPF ${results.spf.result}` : null, ...results.dkim.map((d) => `DKIM ${d.result}`)].filter(Boolean).join(", ");
  return { ok: false, reason: `no aligned SPF or DKIM pass for ${fromDomain}${seen ? ` (${seen})` : ""}` };
}

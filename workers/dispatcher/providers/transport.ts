// Transport security for provider endpoints (HIPAA 164.312(e)): every provider is reached over
// TLS. Plain http/SMTP is accepted only for loopback addresses (the simulators in tests and
// benchmarks), never across a network. Endpoint URLs go through the relay's one outbound URL
// policy (core/url-policy.ts): a public host, or a literal loopback test server; private,
// link-local and IPv6 forms embedding a private IPv4 (NAT64, 6to4, IPv4-mapped) are refused.
import { z } from "@hono/zod-openapi";
import { checkOutboundUrl, classifyHost } from "../../../core/url-policy";

/** localhost, *.localhost, 127/8 or ::1 (as written: never an IPv4-mapped or NAT64 form). */
export const isLoopbackHost = (host: string): boolean => classifyHost(host).kind === "loopback";

/** An https URL to a public host, or http(s) to a loopback test server. */
export const secureUrl = () =>
  z.url({ protocol: /^https?$/ }).superRefine((u, ctx) => {
    const check = checkOutboundUrl(u, { allowLoopback: true });
    if (!check.ok) ctx.addIssue({ code: "custom", message: check.reason });
  });

/** True when a stored provider's transport is encrypted (used by workspaces that require TLS). */
export function usesTls(type: string, config: Record<string, unknown>): boolean {
  if (type === "sandbox") return true; // nothing leaves the relay
  if (type === "smtp") return config.security !== "none";
  const urls = Object.entries(config).filter(([k, v]) => k.endsWith("url") && typeof v === "string").map(([, v]) => v as string);
  return urls.every((u) => u.startsWith("https:"));
}

/**
 * The fetch every provider call and probe uses: a redirect is never followed. The endpoint passed
 * the outbound URL policy; the host a 3xx names did not, so the answer is classified as it is
 * (an endpoint that is not what it was configured as: a configuration failure).
 */
export const providerFetch: typeof fetch = (input, init) => fetch(input, { ...init, redirect: "manual" });

/** An SMTP smarthost host: a public name or address, or a loopback test server (the same policy as URLs). */
export function smtpHostProblem(host: string): string | null {
  const c = classifyHost(host);
  if (c.kind === "public" || c.kind === "loopback") return null;
  return c.kind === "blocked" ? c.reason : "private, link-local and reserved hosts are not allowed";
}

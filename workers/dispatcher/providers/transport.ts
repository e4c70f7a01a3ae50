// Transport security for provider endpoints (HIPAA 164.312(e)): every provider is reached over
// TLS. Plain http/SMTP is accepted only for loopback addresses (the simulators in tests and
// benchmarks), never across a network.
import { z } from "@hono/zod-openapi";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

export const isLoopbackHost = (host: string): boolean => LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);

/** An https URL, or http to a loopback host. */
export const secureUrl = () =>
  z.url({ protocol: /^https?$/ }).refine((u) => {
    const url = new URL(u);
    return url.protocol === "https:" || isLoopbackHost(url.hostname);
  }, "must be an https URL (http is allowed only for a loopback test server)");

/** True when a stored provider's transport is encrypted (used by workspaces that require TLS). */
export function usesTls(type: string, config: Record<string, unknown>): boolean {
  if (type === "sandbox") return true; // nothing leaves the relay
  if (type === "smtp") return config.security !== "none";
  const urls = Object.entries(config).filter(([k, v]) => k.endsWith("url") && typeof v === "string").map(([, v]) => v as string);
  return urls.every((u) => u.startsWith("https:"));
}

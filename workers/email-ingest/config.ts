// Inbound mail settings from Worker vars.
import { z } from "zod";

const schema = z.object({
  /** Comma-separated submission addresses; `*@domain` takes any local part (matched to a workspace slug). */
  SUBMISSION_ADDRESSES: z.string().default(""),
  /** Domain of the VERP bounce addresses (`bounces+<id>@BOUNCE_DOMAIN`). */
  BOUNCE_DOMAIN: z.string().default(""),
  /** authserv-id of the Authentication-Results header we trust (the one Email Routing adds). */
  EMAIL_AUTHSERV_ID: z.string().default("mx.cloudflare.net"),
  /** Hard bounces of one address before it is suppressed. */
  HARD_BOUNCE_SUPPRESS_AFTER: z.coerce.number().int().min(1).max(100).default(1),
  /** Slug of the workspace that takes submissions from sender domains no workspace verified; empty: refuse them. */
  DEFAULT_WORKSPACE: z.string().default(""),
});

export interface InboundConfig {
  submission: { exact: Set<string>; wildcardDomains: Set<string> };
  bounceDomain: string | null;
  authservId: string;
  suppressAfter: number;
  defaultWorkspace: string | null;
}

const cache = new WeakMap<object, InboundConfig>();

export function inboundConfig(env: object): InboundConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const v = schema.parse(env);
  const exact = new Set<string>();
  const wildcardDomains = new Set<string>();
  for (const a of v.SUBMISSION_ADDRESSES.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (a.startsWith("*@")) wildcardDomains.add(a.slice(2));
    else exact.add(a);
  }
  const c: InboundConfig = {
    submission: { exact, wildcardDomains },
    bounceDomain: v.BOUNCE_DOMAIN.trim().toLowerCase() || null,
    authservId: v.EMAIL_AUTHSERV_ID.trim().toLowerCase(),
    suppressAfter: v.HARD_BOUNCE_SUPPRESS_AFTER,
    defaultWorkspace: v.DEFAULT_WORKSPACE.trim().toLowerCase() || null,
  };
  cache.set(env, c);
  return c;
}

/** null: not a submission address; "" : a shared one; otherwise the local part (a workspace slug). */
export function submissionTarget(c: InboundConfig, address: string): string | null {
  const a = address.toLowerCase();
  if (c.submission.exact.has(a)) return "";
  const at = a.lastIndexOf("@");
  if (at > 0 && c.submission.wildcardDomains.has(a.slice(at + 1))) return a.slice(0, at);
  return null;
}

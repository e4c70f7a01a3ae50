// Which workspace unauthenticated inbound mail belongs to (the spec's selection diagram: extract
// the sender, parse its domain, does a workspace own it? no: the default workspace). A domain
// verified by a workspace always belongs to that workspace, never to the default, so the default
// workspace cannot send as another tenant's domain and no tenant can take over an unclaimed one
// by mail. Credentials (API, SMTP bridge) identify their workspace themselves and never get here.

export interface InboundWorkspace {
  workspaceId: string;
  slug: string;
  status: "active" | "suspended";
}

export type Resolution =
  | { ok: true; workspaceId: string; via: "sender_domain" | "default" }
  /** A policy refusal in words; the caller maps it to its reply (`forbidden`: 550 5.7.1 by mail). */
  | { ok: false; reason: string };

export interface ResolutionInput {
  fromDomain: string;
  /** The workspace that verified the From domain, if any. */
  owner: InboundWorkspace | undefined;
  /** DEFAULT_WORKSPACE (a slug), or null when none is configured. */
  defaultSlug: string | null;
  /** The default workspace's row, when one is configured and exists. */
  fallback: InboundWorkspace | undefined;
  /** The local part of a `*@domain` submission address ("" for a shared address): the workspace the sender addressed. */
  addressedSlug: string;
}

export function resolveInboundWorkspace(i: ResolutionInput): Resolution {
  let ws: InboundWorkspace;
  let via: "sender_domain" | "default";
  if (i.owner) {
    ws = i.owner;
    via = "sender_domain";
  } else if (i.defaultSlug !== null) {
    // A configured default that does not exist is the operator's mistake, not the sender's:
    // the caller turns it into a temporary failure so the mail is retried once it is fixed.
    if (!i.fallback) throw new Error(`DEFAULT_WORKSPACE '${i.defaultSlug}' does not exist`);
    ws = i.fallback;
    via = "default";
  } else {
    return { ok: false, reason: `sender domain ${i.fromDomain} is not a verified sender domain of any workspace` };
  }
  if (ws.status !== "active") return { ok: false, reason: "the sender's workspace is suspended" };
  if (i.addressedSlug !== "" && i.addressedSlug !== ws.slug) return { ok: false, reason: `${i.fromDomain} may not submit to this address` };
  return { ok: true, workspaceId: ws.workspaceId, via };
}

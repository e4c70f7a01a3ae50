// Submission by email: a workspace's app or staff mail the submission address; the message goes
// through the same accept path as POST /v1/messages/mime. The workspace is the one that verified
// the From domain; a domain nobody verified goes to DEFAULT_WORKSPACE when one is configured
// (core/workspace-resolution.ts). Either way the From domain must be authenticated (DMARC, or
// aligned DKIM/SPF) by the Authentication-Results header Email Routing adds.
//
// Recipients: the `X-Relay-Rcpt-To` header when present (comma-separated), otherwise the To
// and Cc addresses other than the submission address itself.
import { domainOf, parseAddressList } from "../../core/address";
import { RelayError } from "../../core/errors";
import { canonicalRaw, removeHeaderFields } from "../../core/raw-message";
import { readRawHeaders } from "../mime-parse";
import type { WorkspacePrincipal } from "../../core/scopes";
import type { Store } from "../../db/store/store";
import { resolveInboundWorkspace } from "../../core/workspace-resolution";
import { acceptRaw } from "../accept-raw";
import { log } from "../log";
import { authorizeSender, parseAuthResults } from "./auth-results";
import { readConfig } from "../../core/config";
import { submissionTarget } from "./config";
import { openRelayStore } from "../store";

export const RCPT_HEADER = "x-relay-rcpt-to";

// Added by the receiving side or meant only for us; not part of what is relayed.
const STRIP = ["authentication-results", "arc-seal", "arc-message-signature", "arc-authentication-results", "received-spf", "return-path", "delivered-to", "x-original-to", RCPT_HEADER];

export async function processSubmission(env: Env, message: ForwardableEmailMessage, raw: Uint8Array, slug: string): Promise<void> {
  // The email handler has no request store: this submission opens its own, ended when it is done.
  const store = openRelayStore(env);
  try {
    await submit(env, store, message, raw, slug);
  } finally {
    await store.close().catch(() => {});
  }
}

async function submit(env: Env, store: Store, message: ForwardableEmailMessage, raw: Uint8Array, slug: string): Promise<void> {
  const cfg = readConfig(env).inbound;
  // Repaired before anything is read (a bare CR becomes CRLF, NUL is dropped): the From and
  // authentication checks below then judge the bytes that will be relayed.
  const crlf = canonicalRaw(raw, "repair");
  const headers = await readRawHeaders(crlf);
  const fromDomain = domainOf(headers.from.address);
  const { owner, fallback } = await store.accept.inboundWorkspaces(fromDomain, cfg.defaultWorkspace);
  const resolved = resolveInboundWorkspace({ fromDomain, owner, defaultSlug: cfg.defaultWorkspace, fallback, addressedSlug: slug });
  if (!resolved.ok) throw new RelayError("forbidden", resolved.reason);

  const auth = authorizeSender(
    parseAuthResults(
      headers.parsed.headers.filter((h) => h.key === "authentication-results").map((h) => h.value),
      cfg.authservId,
    ),
    fromDomain,
  );
  if (!auth.ok) throw new RelayError("sender_not_authenticated", `sender not authenticated: ${auth.reason}`);

  const explicit = headers.parsed.headers.find((h) => h.key === RCPT_HEADER)?.value;
  let rcptTo: string[];
  if (explicit) {
    const list = parseAddressList(explicit);
    if (list.invalid.length > 0) throw new RelayError("invalid_address", `${RCPT_HEADER}: not a valid address list`);
    rcptTo = list.valid.map((m) => m.address);
  } else {
    rcptTo = [...headers.to, ...headers.cc].filter((a) => submissionTarget(cfg, a) === null && a.toLowerCase() !== message.to.toLowerCase());
  }
  if (rcptTo.length === 0) throw new RelayError("validation_error", "no recipients: put them in To/Cc or X-Relay-Rcpt-To");

  const principal: WorkspacePrincipal = { kind: "inbound", workspaceId: resolved.workspaceId, keyId: null, userId: null, scopes: ["send"] };
  const outcome = await acceptRaw(
    // Only the default workspace may use an unclaimed domain (From, or Sender); one verified by
    // any workspace other than this one is still refused by accept.
    { env, store, principal, now: Date.now(), ...(resolved.via === "default" ? { senderDomainPolicy: "verified_or_unclaimed" as const } : {}) },
    { raw: removeHeaderFields(crlf, STRIP), mailFrom: headers.from.address, rcptTo, source: "email" },
  );
  log.info("inbound_submitted", { workspace_id: resolved.workspaceId, via: resolved.via, message_id: outcome.body.id, replayed: outcome.replayed, auth: auth.by });
}

// Which inbound addresses are submission addresses (SUBMISSION_ADDRESSES, read by core/config.ts).
import type { InboundConfig } from "../../core/config";

/** null: not a submission address; "" : a shared one; otherwise the local part (a workspace slug). */
export function submissionTarget(c: InboundConfig, address: string): string | null {
  const a = address.toLowerCase();
  if (c.submission.exact.has(a)) return "";
  const at = a.lastIndexOf("@");
  if (at > 0 && c.submission.wildcardDomains.has(a.slice(at + 1))) return a.slice(0, at);
  return null;
}

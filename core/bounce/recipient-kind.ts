// One reported recipient and how its failure counts: hard (permanent), soft (temporary), or not a failure.
import { smtpReplyCode } from "./fields";

export interface ReportedRecipient {
  email: string;
  kind: "hard" | "soft" | "delivered";
  action: string | null;
  /** Enhanced status code (RFC 3463), e.g. "5.1.1". */
  status: string | null;
  diagnostic: string | null;
}

/** Hard = permanent failure (5.x.x); soft = temporary (4.x.x) or a delay notice. */
export function recipientKind(action: string | null, status: string | null, diagnostic: string | null): ReportedRecipient["kind"] {
  if (action && ["delivered", "relayed", "expanded"].includes(action)) return "delivered";
  if (action === "delayed") return "soft";
  const cls = status?.[0] ?? smtpReplyCode(diagnostic ?? undefined)?.[0] ?? null;
  if (cls === "2") return "delivered";
  if (cls === "4") return "soft";
  // A full mailbox (x.2.2) clears up by itself; treat it as temporary whatever the class says.
  if (status && /^\d\.2\.2$/.test(status)) return "soft";
  if (cls === "5") return "hard";
  return action === "failed" ? "hard" : "soft";
}


// comply: compliance routing. A message flagged as containing PHI (by the sender or by DLP) goes
// only through BAA-covered providers (route.ts phiProviders); with none configured its recipients
// fail here, before any limit is consumed or any provider called.
import type { Claimed, Delivered } from "../delivery";
import { phiRefusal } from "../route";

/** The refusal to record when the message cannot be routed compliantly; null when it can. */
export function comply(d: Claimed): Delivered | null {
  const refusal = d.phi ? phiRefusal(d.settings.routing, d.providers) : null;
  if (!refusal) return null;
  return { ...d, results: [{ recipients: d.claimed, order: [], outcome: { kind: "refused", reason: refusal } }], reports: Promise.resolve() };
}
